// When registered tasks run: the registrations (what Register adds, AllTasks lists and Unregister
// removes), each with its trigger's state (a time trigger's next tick, a one-shot trigger spent,
// a fire latched until it may run), and the rules by which a fire starts a run, waits for its
// conditions, AC power or the running instance, coalesces, or is dropped; and the conditions and
// AC power changes that cancel runs.
import { Guid } from '../com/guid.js';
import { ComError, RO_E_CLOSED } from '../com/hresult.js';
import { createObject } from '../com/implement.js';
import type { Com } from '../com/pointer.js';
import { fromPromise } from '../winrt/async.js';
import type { BackgroundAccess } from './access.js';
import type { Clock } from './clock.js';
import { conditionName, type ConditionName, type Conditions } from './conditions.js';
import { about, type EventLog } from './log.js';
import { backgroundInterfaces, enumValue, NS } from './namespace.js';
import { BackgroundTaskRegistration, REGISTRATION_CLASS, type RegistrationDefinition } from './registration.js';
import type { Fire, RunSlot } from './run.js';
import { describeTrigger, type TriggerSpec } from './triggers.js';

export const MINUTE = 60_000;

/** A registration as `host.registrations` lists it. */
export interface RegistrationInfo {
  readonly name: string;
  readonly taskId: Guid;
  readonly trigger: string;
  /** An instance is activating or running. */
  readonly running: boolean;
  /** A trigger fired and waits (for conditions, AC power or the running instance). */
  readonly pending: boolean;
}

/** The host's own state for one registration. */
interface Slot extends RunSlot {
  /** The host's reference to the registration's COM object, so it keeps one identity. */
  readonly com: Com;
  registered: boolean;
  /** A one-shot trigger that has fired. */
  spent: boolean;
  cancelSchedule: (() => void) | null;
  /** A fire waiting for its conditions, AC power or the running instance (Windows latches it). */
  pending: Fire | null;
}

/** What the scheduler needs of the host. */
export interface ScheduleContext {
  readonly clock: Clock;
  readonly log: EventLog;
  readonly conditions: Conditions;
  readonly access: BackgroundAccess;
  /** The timer tick that time and maintenance triggers fire on (timerTickMs). */
  readonly tickMs: number;
  /** Whether the host is closed. */
  closed(): boolean;
  /** Starts a run of `slot`'s registration, which becomes `slot.run`; `ended` is called once it has ended. */
  start(slot: RunSlot, fire: Fire, ended: () => void): void;
}

/** The registrations of a host and when they run. */
export class Scheduler {
  readonly #context: ScheduleContext;
  readonly #slots: Slot[] = [];
  #acPower: boolean;

  constructor(context: ScheduleContext, acPower: boolean) {
    this.#context = context;
    this.#acPower = acPower;
  }

  /** The current registrations, in registration order. */
  get registrations(): readonly RegistrationInfo[] {
    return this.#slots.filter((s) => s.registered).map((s) => ({
      name: s.registration.name,
      taskId: s.registration.taskId,
      trigger: describeTrigger(s.registration.definition.trigger),
      running: s.run !== null,
      pending: s.pending !== null,
    }));
  }

  /** BackgroundTaskRegistration.AllTasks. */
  allTasks(): Map<Guid, BackgroundTaskRegistration> {
    return new Map(this.#slots.filter((s) => s.registered).map((s) => [s.registration.taskId, s.registration]));
  }

  /** Whether the machine is on AC power: MaintenanceTrigger runs only then, and is canceled (Abort) when it goes. */
  get acPower(): boolean {
    return this.#acPower;
  }

  set acPower(value: boolean) {
    if (value === this.#acPower || this.#context.closed()) return;
    this.#acPower = value;
    this.#context.log.record({ type: 'power', value });
    if (!value) {
      // "The background task uses the MaintenanceTrigger and the system transitions to DC
      // (battery power)" is a reason for Abort (BackgroundTaskCancellationReason's docs).
      for (const slot of this.#slots) {
        if (slot.run && slot.registration.definition.trigger.kind === 'maintenance') slot.run.cancel(enumValue('BackgroundTaskCancellationReason', 'Abort', 'acPower'));
      }
    }
    this.#evaluateAll();
  }

  /** BackgroundTaskBuilder.Register, once the builder has validated `definition`. */
  register(definition: RegistrationDefinition): BackgroundTaskRegistration {
    const { log } = this.#context;
    if (this.#context.closed()) throw new ComError(RO_E_CLOSED, 'BackgroundTaskBuilder.Register: the host is closed');
    const registration = new BackgroundTaskRegistration(definition, (r, cancelTask) => this.#unregister(r, cancelTask), (error) => log.handlerFailed(error));
    const slot: Slot = {
      registration,
      com: createObject(registration, BackgroundTaskRegistration.interfaces, { runtimeClassName: REGISTRATION_CLASS }),
      registered: true,
      spent: false,
      cancelSchedule: null,
      pending: null,
      run: null,
    };
    this.#slots.push(slot);
    log.record({ type: 'registered', ...about(registration), trigger: describeTrigger(definition.trigger) });
    this.#schedule(slot, this.#context.clock.now());
    return registration;
  }

  /** Fires the trigger of the registrations named `target` (or with that TaskId); returns how many were taken. */
  fire(target: string | Guid): number {
    return this.#match(target).filter((slot) => this.#fire(slot, 'fire()', null)).length;
  }

  /** The system event `triggerType` (a SystemTriggerType) happens; returns how many registrations were taken. */
  fireSystemTrigger(triggerType: number): number {
    let fired = 0;
    for (const slot of [...this.#slots]) {
      const trigger = slot.registration.definition.trigger;
      if (!slot.registered || trigger.kind !== 'system' || trigger.triggerType !== triggerType || slot.spent) continue;
      if (trigger.oneShot) slot.spent = true;
      if (this.#fire(slot, describeTrigger(trigger), null)) fired++;
    }
    return fired;
  }

  /**
   * ApplicationTrigger.RequestAsync. Windows answers CurrentlyRunning "because it is currently
   * running" (ApplicationTriggerResult's docs) and DisabledByPolicy when policy forbids it; the
   * host answers UnknownError for a trigger no registration uses (Windows does not say).
   */
  requestApplicationTrigger(trigger: TriggerSpec, args: Com | null): Com {
    const slots = this.#slots.filter((s) => s.registered && s.registration.definition.trigger === trigger);
    let result: string;
    if (this.#context.access.denied) result = 'DisabledByPolicy';
    else if (slots.length === 0) result = 'UnknownError';
    else if (slots.some((s) => s.run !== null)) result = 'CurrentlyRunning';
    else {
      const details = (): Com => createObject(
        { get_Arguments: (): Com | null => args },
        backgroundInterfaces('IApplicationTriggerDetails'),
        { runtimeClassName: `${NS}.ApplicationTriggerDetails` },
      );
      for (const slot of slots) this.#fire(slot, describeTrigger(trigger), details);
      result = 'Allowed';
    }
    return fromPromise(
      Promise.resolve(enumValue('ApplicationTriggerResult', result, 'RequestAsync')),
      `Windows.Foundation.IAsyncOperation\`1<${NS}.ApplicationTriggerResult>`,
    );
  }

  /**
   * A condition changed: with CancelOnConditionLoss, "the background task will be canceled if
   * at least one of its required conditions is no longer met" (reason ConditionLoss); then
   * latched runs whose conditions now hold start.
   */
  conditionChanged(name: ConditionName, value: boolean): void {
    const { log, conditions } = this.#context;
    if (this.#context.closed()) return;
    log.record({ type: 'condition', condition: name, value });
    const conditionLoss = enumValue('BackgroundTaskCancellationReason', 'ConditionLoss', 'conditions');
    for (const slot of this.#slots) {
      const definition = slot.registration.definition;
      if (!slot.run || !definition.cancelOnConditionLoss) continue;
      if (definition.conditions.some((c) => !conditions.get(c))) slot.run.cancel(conditionLoss);
    }
    this.#evaluateAll();
  }

  /** The host closes: nothing new starts, no schedule fires, no latched trigger runs when the runs end. */
  withdrawAll(): void {
    for (const slot of this.#slots) this.#withdraw(slot);
  }

  /** Drops every registration (once the host has closed). */
  forgetAll(): void {
    for (const slot of [...this.#slots]) this.#forget(slot);
  }

  /**
   * BackgroundTaskRegistration.Unregister: "True if currently running instances of this
   * background task should be canceled. If this parameter is false, currently running instances
   * are allowed to finish. Canceled instances receive a Canceled event with a cancellation reason
   * of Abort." A second call does nothing.
   */
  #unregister(registration: BackgroundTaskRegistration, cancelTask: boolean): void {
    const slot = this.#slots.find((s) => s.registration === registration);
    if (!slot || !slot.registered || this.#context.closed()) return;
    this.#withdraw(slot);
    this.#context.log.record({ type: 'unregistered', ...about(registration) });
    if (cancelTask && slot.run) slot.run.cancel(enumValue('BackgroundTaskCancellationReason', 'Abort', 'Unregister'));
    if (!slot.run) this.#forget(slot);
  }

  /** The registration leaves AllTasks: its schedule is canceled, a latched fire dropped. */
  #withdraw(slot: Slot): void {
    slot.registered = false;
    slot.cancelSchedule?.();
    slot.cancelSchedule = null;
    slot.pending = null;
  }

  /** Drops an unregistered registration whose last run has ended: it raises no more events. */
  #forget(slot: Slot): void {
    const at = this.#slots.indexOf(slot);
    if (at < 0) return;
    this.#slots.splice(at, 1);
    slot.registration.progress.clear();
    slot.registration.completed.clear();
    slot.com.dispose();
  }

  #match(target: string | Guid): Slot[] {
    return this.#slots.filter((s) => s.registered && (target instanceof Guid ? s.registration.taskId.equals(target) : s.registration.name === target));
  }

  /**
   * A time or maintenance trigger fires on the first timer tick after its freshness time, from
   * registration and then from each fire; a one-shot trigger fires once ("True if the time event
   * trigger will be used once", TimeTrigger.OneShot), and the registration stays in AllTasks.
   */
  #schedule(slot: Slot, from: number): void {
    const trigger = slot.registration.definition.trigger;
    if (trigger.kind !== 'time' && trigger.kind !== 'maintenance') return;
    const { clock, tickMs } = this.#context;
    const due = from + trigger.freshnessTime * MINUTE;
    const at = tickMs > 0 ? Math.ceil(due / tickMs) * tickMs : due;
    slot.cancelSchedule = clock.setTimer(at - clock.now(), () => {
      slot.cancelSchedule = null;
      if (trigger.oneShot) slot.spent = true;
      else this.#schedule(slot, clock.now());
      this.#fire(slot, describeTrigger(trigger), null);
    });
  }

  /**
   * A trigger fires. "The condition will be checked after the trigger has been fired. The
   * background task will then be queued, but it will not run until all the required conditions
   * are satisfied" (Set conditions for running a background task). A fire while an instance of
   * the registration runs is latched too, and runs after it; fires meanwhile coalesce into that
   * one (Windows documents neither; ApplicationTrigger alone answers CurrentlyRunning).
   */
  #fire(slot: Slot, source: string, details: (() => Com) | null): boolean {
    const { clock, log, access } = this.#context;
    if (!slot.registered || this.#context.closed()) return false;
    log.record({ type: 'triggered', ...about(slot.registration), trigger: source });
    if (access.denied) {
      log.record({ type: 'dropped', ...about(slot.registration), message: `background access is ${access.status}` });
      return false;
    }
    const waitingFor = slot.run ? ['the running instance'] : this.#blockers(slot);
    if (waitingFor.length === 0) {
      this.#start(slot, { at: clock.now(), source, details });
      return true;
    }
    if (slot.pending) {
      log.record({ type: 'coalesced', ...about(slot.registration), waitingFor });
    } else {
      slot.pending = { at: clock.now(), source, details };
      log.record({ type: 'latched', ...about(slot.registration), waitingFor });
    }
    return true;
  }

  /** What keeps a registration from starting a run now: unmet conditions, and AC power for a maintenance trigger. */
  #blockers(slot: Slot): string[] {
    const definition = slot.registration.definition;
    const unmet: string[] = definition.conditions.filter((c) => !this.#context.conditions.get(c)).map((c) => conditionName(c));
    if (definition.trigger.kind === 'maintenance' && !this.#acPower) unmet.push('ACPower');
    return unmet;
  }

  /** Starts latched runs whose time has come. */
  #evaluate(slot: Slot): void {
    if (this.#context.closed() || !slot.registered || slot.run || !slot.pending || this.#blockers(slot).length > 0) return;
    const fire = slot.pending;
    slot.pending = null;
    this.#start(slot, fire);
  }

  #evaluateAll(): void {
    for (const slot of [...this.#slots]) this.#evaluate(slot);
  }

  #start(slot: Slot, fire: Fire): void {
    this.#context.start(slot, fire, () => this.#ended(slot));
  }

  /** A run of `slot` ended: an unregistered registration is dropped, else what was latched behind the run starts. */
  #ended(slot: Slot): void {
    if (!slot.registered && !this.#context.closed()) this.#forget(slot);
    else this.#evaluate(slot);
  }
}
