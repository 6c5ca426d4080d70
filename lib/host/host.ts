// The portable host: Windows' background task infrastructure, emulated in JS. It installs JS
// activation factories for the Background classes, so that code written against the generated
// projection (BackgroundTaskBuilder, TimeTrigger, BackgroundTaskRegistration.AllTasks…) runs
// unchanged on any OS; it keeps the registrations, fires their triggers from a clock it is given
// and from calls, evaluates their conditions, and runs tasks as Windows does: it activates the
// registration's COM class, calls IBackgroundTask::Run through its vtable with an
// IBackgroundTaskInstance of its own, and follows the run's deferrals, progress, cancellation
// and completion.
//
// Where Windows' behaviour is documented the host follows the documentation (cited where it
// applies); where it is not, the choice is stated next to the code, and in lib/host/README.md.
import '../generated/Windows.ApplicationModel.Background.js';
import { Guid } from '../com/guid.js';
import { ComError, E_ABORT, E_ILLEGAL_STATE_CHANGE, ERROR_CANCELLED, hr, isDisconnection, REGDB_E_CLASSNOTREG, RO_E_CLOSED, RPC_E_CHANGED_MODE, S_OK } from '../com/hresult.js';
import { createObject } from '../com/implement.js';
import { IInspectable } from '../com/unknown.js';
import { callMethodAsync, disposeComPtr, isForeign, type Com } from '../com/pointer.js';
import { createInstance, initializeCom } from '../com/runtime.js';
import { isWindows } from '../ffi/koffi.js';
import { fromPromise } from '../winrt/async.js';
import { BackgroundAccess, type AccessStatusName } from './access.js';
import { BackgroundTaskBuilder } from './builder.js';
import { systemClock, type Clock } from './clock.js';
import { conditionName, Conditions, type ConditionName } from './conditions.js';
import { installFactories, type HostServices } from './factories.js';
import { BackgroundTaskInstance, type InstanceObserver } from './instance.js';
import type { HostEvent, RunState, TaskRun } from './log.js';
import { backgroundInterfaces, enumName, enumValue, NS } from './namespace.js';
import { BackgroundTaskRegistration, completedEventArgs, progressEventArgs, REGISTRATION_CLASS, type RegistrationDefinition } from './registration.js';
import { describeTrigger, type TriggerSpec } from './triggers.js';

const MINUTE = 60_000;

/**
 * What a run that outlives its grace period is reported as (CheckResult throws it): Windows
 * terminates such a task but documents no HRESULT for it, so the host reports
 * HRESULT_FROM_WIN32(ERROR_TIMEOUT).
 */
export const GRACE_PERIOD_EXPIRED: number = hr(0x800705b4);

/** How often the host checks that the process serving a running task is still there. */
const PROBE_MS = 250;
/** What COM answers for an object whose server process has ended. */

export type CancellationReasonName =
  | 'Abort' | 'Terminating' | 'LoggingOff' | 'ServicingUpdate' | 'IdleTask' | 'Uninstall' | 'ConditionLoss'
  | 'SystemPolicy' | 'QuietHoursEntered' | 'ExecutionTimeExceeded' | 'ResourceRevocation' | 'EnergySaver';

export type { AccessStatusName };

export type SystemTriggerName =
  | 'SmsReceived' | 'UserPresent' | 'UserAway' | 'NetworkStateChange' | 'ControlChannelReset' | 'InternetAvailable'
  | 'SessionConnected' | 'ServicingComplete' | 'LockScreenApplicationAdded' | 'LockScreenApplicationRemoved'
  | 'TimeZoneChange' | 'OnlineIdConnectedStateChange' | 'BackgroundWorkCostChange' | 'PowerStateChange' | 'DefaultSignInAccountChange';

export interface HostOptions<C extends Clock = Clock> {
  /** The clock triggers and grace periods run on (default: the system clock). */
  readonly clock?: C;
  /** Initial values of the SystemConditionType conditions (default: user present, online, session connected…). */
  readonly conditions?: Partial<Record<ConditionName, boolean>>;
  /** Whether the machine is on AC power, which MaintenanceTrigger needs (default true). */
  readonly acPower?: boolean;
  /** The user's decision that RequestAccessAsync returns (default AllowedSubjectToSystemPolicy). */
  readonly access?: AccessStatusName;
  /** How long a canceled instance has to complete its deferrals before it is terminated (default 5000 ms). */
  readonly graceMs?: number;
  /**
   * Time and maintenance triggers fire on the first tick of this period after their freshness
   * time elapses ("The system uses a 15-minute tick frequency for timer requests", TimeTrigger.
   * FreshnessTime's docs); ticks fall on multiples of the period on the clock. 0 fires exactly
   * at the freshness time. Default 15 minutes.
   */
  readonly timerTickMs?: number;
  /**
   * Cancel a run (reason ExecutionTimeExceeded) after this long. Default none: UWP tasks get
   * about 30 seconds of wall-clock time ("Support your app with background tasks"); Windows
   * does not document a limit for a desktop app's COM task.
   */
  readonly executionTimeLimitMs?: number | null;
  /** Which triggers a task with a COM entry point may use: see RegisterPolicy (default 'windows'). */
  readonly clsidTriggers?: 'windows' | 'all';
  /** The COM class to activate for each TaskEntryPoint name (WinRT class names are activated by Windows). */
  readonly entryPoints?: Readonly<Record<string, Guid | string>>;
  /** Log entries kept (default 10 000; the oldest go first). */
  readonly maxLogEntries?: number;
}

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

interface Fire {
  readonly at: number;
  readonly source: string;
  /** Makes the run's TriggerDetails object (null: the trigger has none). */
  readonly details: (() => Com) | null;
}

/** The host's own state for one registration. */
interface Slot {
  readonly registration: BackgroundTaskRegistration;
  /** The host's reference to the registration's COM object, so it keeps one identity. */
  readonly com: Com;
  registered: boolean;
  /** A one-shot trigger that has fired. */
  spent: boolean;
  cancelSchedule: (() => void) | null;
  /** A fire waiting for its conditions, AC power or the running instance (Windows latches it). */
  pending: Fire | null;
  run: Run | null;
}

interface Run {
  readonly slot: Slot;
  readonly instance: BackgroundTaskInstance;
  readonly record: { -readonly [K in keyof TaskRun]: TaskRun[K] };
  instanceCom: Com | null;
  task: Com<{ Run(instance: unknown): void }> | null;
  /** Run is being called (on Windows, on a koffi worker thread): the pointers it uses must live until it returns. */
  inRun: boolean;
  runReturned: boolean;
  cancelReason: number | null;
  cancelGrace: (() => void) | null;
  cancelLimit: (() => void) | null;
  /** Stops watching the task's process, when it runs in another one. */
  probe: (() => void) | null;
  ended: boolean;
}

interface Waiter {
  readonly matches: (run: TaskRun) => boolean;
  readonly resolve: (run: TaskRun) => void;
  readonly reject: (error: unknown) => void;
}

/** The host open in this process: there is one set of activation factories per process. */
let openHost: BackgroundHost<Clock> | null = null;

/**
 * Windows' background task infrastructure in this process: see the module comment. Create it
 * with {@link createHost}; close it (or `using`) to remove its factories and end its runs.
 */
export class BackgroundHost<C extends Clock = Clock> implements Disposable {
  readonly clock: C;
  readonly conditions: Conditions;
  readonly #graceMs: number;
  readonly #tickMs: number;
  readonly #limitMs: number | null;
  readonly #clsidTriggers: 'windows' | 'all';
  readonly #entryPoints: ReadonlyMap<string, Guid>;
  readonly #maxLog: number;
  #acPower: boolean;
  readonly #access: BackgroundAccess;
  readonly #slots: Slot[] = [];
  readonly #runs: Run[] = [];
  readonly #log: HostEvent[] = [];
  readonly #listeners = new Set<(event: HostEvent) => void>();
  readonly #waiters = new Set<Waiter>();
  #activations = 0;
  #idle: (() => void)[] = [];
  #closed = false;
  readonly #factories: Disposable;
  readonly #stopConditions: () => void;

  /** @internal Use {@link createHost}. */
  constructor(options: HostOptions<C>) {
    this.clock = options.clock ?? (systemClock() as C);
    this.conditions = new Conditions(options.conditions);
    this.#graceMs = nonNegative(options.graceMs ?? 5000, 'graceMs');
    this.#tickMs = nonNegative(options.timerTickMs ?? 15 * MINUTE, 'timerTickMs');
    this.#limitMs = options.executionTimeLimitMs == null ? null : nonNegative(options.executionTimeLimitMs, 'executionTimeLimitMs');
    this.#clsidTriggers = options.clsidTriggers ?? 'windows';
    if (this.#clsidTriggers !== 'windows' && this.#clsidTriggers !== 'all') throw new RangeError(`createHost: clsidTriggers must be 'windows' or 'all', got ${String(this.#clsidTriggers)}`);
    this.#entryPoints = new Map(Object.entries(options.entryPoints ?? {}).map(([name, clsid]) => [name, Guid.from(clsid)]));
    this.#maxLog = nonNegative(options.maxLogEntries ?? 10_000, 'maxLogEntries');
    this.#acPower = options.acPower ?? true;
    this.#access = new BackgroundAccess(options.access ?? 'AllowedSubjectToSystemPolicy', (status) => this.#record({ type: 'access', value: status }));
    if (isWindows) joinMultithreadedApartment();
    this.#stopConditions = this.conditions.onChange((name, value) => this.#conditionChanged(name, value));
    this.#factories = installFactories(() => (this.#closed ? null : this.#services));
  }

  // -------------------------------------------------------------------------------------------
  // State the tests and the demo set.

  /** Whether the machine is on AC power: MaintenanceTrigger runs only then, and is canceled (Abort) when it goes. */
  get acPower(): boolean {
    return this.#acPower;
  }

  set acPower(value: boolean) {
    if (typeof value !== 'boolean') throw new TypeError(`acPower must be true or false, got ${String(value)}`);
    if (value === this.#acPower || this.#closed) return;
    this.#acPower = value;
    this.#record({ type: 'power', value });
    if (!value) {
      // "The background task uses the MaintenanceTrigger and the system transitions to DC
      // (battery power)" is a reason for Abort (BackgroundTaskCancellationReason's docs).
      for (const slot of this.#slots) {
        if (slot.run && slot.registration.definition.trigger.kind === 'maintenance') this.#cancelRun(slot.run, enumValue('BackgroundTaskCancellationReason', 'Abort', 'acPower'));
      }
    }
    this.#evaluateAll();
  }

  /**
   * The user's decision about background access, which RequestAccessAsync returns. Once the
   * app has requested access, changing it changes GetAccessStatus too (the user changed the
   * app's setting). While access is denied, Register fails with E_ACCESSDENIED and triggers are
   * dropped.
   */
  get access(): AccessStatusName {
    return this.#access.decision;
  }

  set access(value: AccessStatusName) {
    this.#access.decision = value;
  }

  /** BackgroundExecutionManager.GetAccessStatus: Unspecified until the app requests access. */
  get accessStatus(): AccessStatusName {
    return this.#access.status;
  }

  get closed(): boolean {
    return this.#closed;
  }

  // -------------------------------------------------------------------------------------------
  // What happened.

  /** Every run so far, in the order they started. */
  get runs(): readonly TaskRun[] {
    return this.#runs.map((run) => run.record);
  }

  /** The event log, oldest first. */
  get log(): readonly HostEvent[] {
    return [...this.#log];
  }

  /** The current registrations (what AllTasks lists), in registration order. */
  get registrations(): readonly RegistrationInfo[] {
    return this.#slots.filter((s) => s.registered).map((s) => ({
      name: s.registration.name,
      taskId: s.registration.taskId,
      trigger: describeTrigger(s.registration.definition.trigger),
      running: s.run !== null,
      pending: s.pending !== null,
    }));
  }

  /** Calls `listener` with each new log entry; returns a function that removes it. */
  onEvent(listener: (event: HostEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  // -------------------------------------------------------------------------------------------
  // Making things happen.

  /**
   * Fires the trigger of the registrations named `target` (or of the one whose TaskId it is),
   * whatever its kind, as Visual Studio's Lifecycle Events menu does. Returns how many were
   * taken (started or latched; none while access is denied).
   */
  fire(target: string | Guid): number {
    return this.#match(target).filter((slot) => this.#fire(slot, 'fire()', null)).length;
  }

  /** The system event `type` happens: registrations with a SystemTrigger of that type fire. Returns how many were taken. */
  fireSystemTrigger(type: SystemTriggerName | number): number {
    const value = enumValue('SystemTriggerType', type, 'fireSystemTrigger');
    let fired = 0;
    for (const slot of [...this.#slots]) {
      const trigger = slot.registration.definition.trigger;
      if (!slot.registered || trigger.kind !== 'system' || trigger.triggerType !== value || slot.spent) continue;
      if (trigger.oneShot) slot.spent = true;
      if (this.#fire(slot, describeTrigger(trigger), null)) fired++;
    }
    return fired;
  }

  /**
   * Cancels running instances: the one whose InstanceId `target` is, or those of the
   * registrations named `target` (or with that TaskId). Their Canceled handlers are called with
   * `reason` (default Abort); an instance that has not completed its deferrals `graceMs` later
   * is terminated. Returns how many were canceled.
   */
  cancel(target: string | Guid, reason: CancellationReasonName | number = 'Abort'): number {
    const value = enumValue('BackgroundTaskCancellationReason', reason, 'cancel: reason');
    const runs = target instanceof Guid
      ? this.#runs.filter((run) => !run.ended && (run.instance.instanceId.equals(target) || run.slot.registration.taskId.equals(target)))
      : this.#runs.filter((run) => !run.ended && run.slot.registration.name === target);
    return runs.filter((run) => this.#cancelRun(run, value)).length;
  }

  /**
   * The next run of `target` to end (a registration's name or TaskId), or the run whose
   * InstanceId `target` is (at once if it has ended). Rejects with RO_E_CLOSED if the host closes first.
   */
  waitForCompletion(target: string | Guid, options: { signal?: AbortSignal } = {}): Promise<TaskRun> {
    if (target instanceof Guid) {
      const done = this.#runs.find((run) => run.ended && run.instance.instanceId.equals(target));
      if (done) return Promise.resolve(done.record);
    }
    if (this.#closed) return Promise.reject(new ComError(RO_E_CLOSED, 'waitForCompletion: the host is closed'));
    const matches = target instanceof Guid
      ? (run: TaskRun) => run.instanceId.equals(target) || run.taskId.equals(target)
      : (run: TaskRun) => run.name === target;
    return new Promise<TaskRun>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        matches,
        resolve: (run) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(run);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  /** Resolves once no activation is under way (runs started by triggers fired so far have called Run). */
  settled(): Promise<void> {
    if (this.#activations === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Removes the host's factories and cancels its timers. Running instances are canceled
   * (reason Terminating); those whose deferrals are not completed by then are reported as
   * terminated (E_ABORT). Pending waitForCompletion calls reject. A second call does nothing.
   */
  close(): void {
    if (this.#closed) return;
    // Nothing new starts: no schedule fires, no latched trigger runs when the runs below end.
    for (const slot of this.#slots) {
      slot.cancelSchedule?.();
      slot.cancelSchedule = null;
      slot.pending = null;
      slot.registered = false;
    }
    const terminating = enumValue('BackgroundTaskCancellationReason', 'Terminating', 'close');
    for (const run of this.#runs) if (!run.ended) this.#cancelRun(run, terminating);
    for (const run of this.#runs) {
      if (run.ended) continue;
      const outstanding = run.instance.outstandingDeferrals;
      this.#end(run, 'terminated', new ComError(E_ABORT, `${run.slot.registration.name}: the host closed while the instance ran${outstanding ? ` (${plural(outstanding, 'deferral')} not completed)` : ''}`), outstanding);
    }
    this.#closed = true;
    for (const slot of [...this.#slots]) this.#forget(slot);
    this.#stopConditions();
    this.#factories[Symbol.dispose]();
    if (openHost === (this as BackgroundHost<Clock>)) openHost = null;
    for (const waiter of [...this.#waiters]) waiter.reject(new ComError(RO_E_CLOSED, 'waitForCompletion: the host closed'));
    this.#waiters.clear();
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // -------------------------------------------------------------------------------------------
  // What the factories call.

  readonly #services: HostServices = {
    createBuilder: () => new BackgroundTaskBuilder((definition) => this.#register(definition), {
      clsidTriggers: this.#clsidTriggers,
      accessDenied: () => this.#access.denied,
    }),
    allTasks: () => new Map(this.#slots.filter((s) => s.registered).map((s) => [s.registration.taskId, s.registration])),
    requestApplicationTrigger: (trigger, args) => this.#requestApplicationTrigger(trigger, args),
    requestAccess: () => fromPromise(Promise.resolve(this.#access.request()), `Windows.Foundation.IAsyncOperation\`1<${NS}.BackgroundAccessStatus>`),
    requestAccessKind: () => {
      this.#access.request();
      return fromPromise(Promise.resolve(!this.#access.denied), 'Windows.Foundation.IAsyncOperation`1<Boolean>');
    },
    accessStatus: () => this.#access.value,
    removeAccess: () => this.#access.remove(),
  };

  #register(definition: RegistrationDefinition): BackgroundTaskRegistration {
    if (this.#closed) throw new ComError(RO_E_CLOSED, 'BackgroundTaskBuilder.Register: the host is closed');
    const registration = new BackgroundTaskRegistration(definition, (r, cancelTask) => this.#unregister(r, cancelTask), (error) => this.#handlerFailed(error));
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
    this.#record({ type: 'registered', ...this.#about(slot), trigger: describeTrigger(definition.trigger) });
    this.#schedule(slot, this.clock.now());
    return registration;
  }

  /**
   * BackgroundTaskRegistration.Unregister: "True if currently running instances of this
   * background task should be canceled. If this parameter is false, currently running instances
   * are allowed to finish. Canceled instances receive a Canceled event with a cancellation reason
   * of Abort." A second call does nothing.
   */
  #unregister(registration: BackgroundTaskRegistration, cancelTask: boolean): void {
    const slot = this.#slots.find((s) => s.registration === registration);
    if (!slot || !slot.registered || this.#closed) return;
    slot.registered = false;
    slot.cancelSchedule?.();
    slot.cancelSchedule = null;
    slot.pending = null;
    this.#record({ type: 'unregistered', ...this.#about(slot) });
    if (cancelTask && slot.run) this.#cancelRun(slot.run, enumValue('BackgroundTaskCancellationReason', 'Abort', 'Unregister'));
    if (!slot.run) this.#forget(slot);
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

  /**
   * ApplicationTrigger.RequestAsync. Windows answers CurrentlyRunning "because it is currently
   * running" (ApplicationTriggerResult's docs) and DisabledByPolicy when policy forbids it; the
   * host answers UnknownError for a trigger no registration uses (Windows does not say).
   */
  #requestApplicationTrigger(trigger: TriggerSpec, args: Com | null): Com {
    const slots = this.#slots.filter((s) => s.registered && s.registration.definition.trigger === trigger);
    let result: string;
    if (this.#access.denied) result = 'DisabledByPolicy';
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

  // -------------------------------------------------------------------------------------------
  // Triggers and conditions.

  /**
   * A time or maintenance trigger fires on the first timer tick after its freshness time, from
   * registration and then from each fire; a one-shot trigger fires once ("True if the time event
   * trigger will be used once", TimeTrigger.OneShot), and the registration stays in AllTasks.
   */
  #schedule(slot: Slot, from: number): void {
    const trigger = slot.registration.definition.trigger;
    if (trigger.kind !== 'time' && trigger.kind !== 'maintenance') return;
    const due = from + trigger.freshnessTime * MINUTE;
    const at = this.#tickMs > 0 ? Math.ceil(due / this.#tickMs) * this.#tickMs : due;
    slot.cancelSchedule = this.clock.setTimer(at - this.clock.now(), () => {
      slot.cancelSchedule = null;
      if (trigger.oneShot) slot.spent = true;
      else this.#schedule(slot, this.clock.now());
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
    if (!slot.registered || this.#closed) return false;
    this.#record({ type: 'triggered', ...this.#about(slot), trigger: source });
    if (this.#access.denied) {
      this.#record({ type: 'dropped', ...this.#about(slot), message: `background access is ${this.accessStatus}` });
      return false;
    }
    const waitingFor = slot.run ? ['the running instance'] : this.#blockers(slot);
    if (waitingFor.length === 0) {
      this.#start(slot, { at: this.clock.now(), source, details });
      return true;
    }
    if (slot.pending) {
      this.#record({ type: 'coalesced', ...this.#about(slot), waitingFor });
    } else {
      slot.pending = { at: this.clock.now(), source, details };
      this.#record({ type: 'latched', ...this.#about(slot), waitingFor });
    }
    return true;
  }

  /** What keeps a registration from starting a run now: unmet conditions, and AC power for a maintenance trigger. */
  #blockers(slot: Slot): string[] {
    const definition = slot.registration.definition;
    const unmet: string[] = definition.conditions.filter((c) => !this.conditions.get(c)).map((c) => conditionName(c));
    if (definition.trigger.kind === 'maintenance' && !this.#acPower) unmet.push('ACPower');
    return unmet;
  }

  /** Starts latched runs whose time has come. */
  #evaluate(slot: Slot): void {
    if (this.#closed || !slot.registered || slot.run || !slot.pending || this.#blockers(slot).length > 0) return;
    const fire = slot.pending;
    slot.pending = null;
    this.#start(slot, fire);
  }

  #evaluateAll(): void {
    for (const slot of [...this.#slots]) this.#evaluate(slot);
  }

  /**
   * A condition changed: with CancelOnConditionLoss, "the background task will be canceled if
   * at least one of its required conditions is no longer met" (reason ConditionLoss); then
   * latched runs whose conditions now hold start.
   */
  #conditionChanged(name: ConditionName, value: boolean): void {
    if (this.#closed) return;
    this.#record({ type: 'condition', condition: name, value });
    const conditionLoss = enumValue('BackgroundTaskCancellationReason', 'ConditionLoss', 'conditions');
    for (const slot of this.#slots) {
      const definition = slot.registration.definition;
      if (!slot.run || !definition.cancelOnConditionLoss) continue;
      if (definition.conditions.some((c) => !this.conditions.get(c))) this.#cancelRun(slot.run, conditionLoss);
    }
    this.#evaluateAll();
  }

  // -------------------------------------------------------------------------------------------
  // Runs.

  /** Begins a run: the activation itself happens on a later turn, as Windows activates tasks asynchronously. */
  #start(slot: Slot, fire: Fire): void {
    const registration = slot.registration;
    const observer: InstanceObserver = {
      progressed: (_instance, progress) => this.#progressed(run, progress),
      deferralTaken: (_instance, number) => {
        run.record.deferrals = number;
        this.#record({ type: 'deferral', ...this.#about(slot, run), deferrals: number });
      },
      deferralCompleted: (instance, number) => {
        run.record.deferralsCompleted = instance.deferralsCompleted;
        this.#record({ type: 'deferral-completed', ...this.#about(slot, run), deferrals: number });
        if (run.runReturned && instance.outstandingDeferrals === 0) this.#endReturned(run);
      },
    };
    const instance = new BackgroundTaskInstance(registration, fire.details?.() ?? null, observer, (error) => this.#handlerFailed(error));
    const run: Run = {
      slot,
      instance,
      record: {
        instanceId: instance.instanceId,
        name: registration.name,
        taskId: registration.taskId,
        trigger: fire.source,
        triggeredAt: fire.at,
        startedAt: this.clock.now(),
        endedAt: null,
        state: 'activating',
        progress: 0,
        cancelReason: null,
        deferrals: 0,
        deferralsCompleted: 0,
        hresult: S_OK,
        error: null,
      },
      instanceCom: null,
      task: null,
      inRun: false,
      runReturned: false,
      cancelReason: null,
      cancelGrace: null,
      cancelLimit: null,
      probe: null,
      ended: false,
    };
    slot.run = run;
    this.#runs.push(run);
    this.#activations++;
    queueMicrotask(() => {
      this.#activate(run).catch((error: unknown) => this.#end(run, 'failed', failure(error, `${registration.name}: the host could not run it`))).finally(() => {
        if (--this.#activations === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    });
  }

  /** Activates the entry point (createInstance: CoCreateInstance, or this process's class table off Windows) and calls Run. */
  async #activate(run: Run): Promise<void> {
    if (run.ended) return;
    const { registration } = run.slot;
    const entryPoint = registration.definition.entryPoint;
    const clsid = entryPoint.kind === 'clsid' ? entryPoint.clsid : this.#entryPoints.get(entryPoint.name);
    if (!clsid) {
      this.#end(run, 'failed', new ComError(REGDB_E_CLASSNOTREG, `${registration.name}: the host has no COM class for TaskEntryPoint ${JSON.stringify(entryPoint.kind === 'name' ? entryPoint.name : '')} (createHost({ entryPoints }))`));
      return;
    }
    const [IBackgroundTask] = backgroundInterfaces('IBackgroundTask');
    let task: Com<{ Run(instance: unknown): void }>;
    try {
      task = await createInstance<{ Run(instance: unknown): void }>(clsid, IBackgroundTask!);
    } catch (error) {
      this.#end(run, 'failed', failure(error, `${registration.name}: activating {${clsid}} failed`));
      return;
    }
    if (run.ended) {
      task.dispose();
      return;
    }
    run.task = task;
    run.instanceCom = createObject(run.instance, BackgroundTaskInstance.interfaces, { runtimeClassName: `${NS}.BackgroundTaskInstance` });
    run.record.state = 'running';
    run.record.startedAt = this.clock.now();
    this.#record({ type: 'activated', ...this.#about(run.slot, run), trigger: run.record.trigger });
    if (this.#limitMs !== null) {
      const exceeded = enumValue('BackgroundTaskCancellationReason', 'ExecutionTimeExceeded', 'executionTimeLimitMs');
      run.cancelLimit = this.clock.setTimer(this.#limitMs, () => void this.#cancelRun(run, exceeded));
    }
    if (isForeign(task)) run.probe = this.#watchProcess(run, task);
    let failed: ComError | null = null;
    run.inRun = true;
    try {
      // Windows calls Run from its own thread; from JS, a call that may come back to this
      // thread (a class served by another process) must not block it.
      if (isWindows) await task.callAsync('Run', run.instanceCom);
      else task.Run(run.instanceCom);
    } catch (error) {
      failed = failure(error, `${registration.name}: IBackgroundTask.Run failed`);
    } finally {
      run.inRun = false;
    }
    if (run.ended) return this.#release(run); // terminated (the host closed) while Run ran
    if (failed) return this.#end(run, 'failed', failed);
    run.runReturned = true;
    // "The system will believe this background task is complete when this method returns",
    // unless the task took deferrals: then when the last is completed.
    if (run.instance.outstandingDeferrals === 0) this.#endReturned(run);
  }

  /**
   * A task served by another process: Windows sees that process end (a crash, a kill) and fails
   * the run. The host asks the task object something cheap (IInspectable::GetTrustLevel, through
   * its proxy) every PROBE_MS while the run lasts; when COM answers that the server is gone, the
   * run fails with that HRESULT (RPC_E_DISCONNECTED, RPC_S_SERVER_UNAVAILABLE…).
   */
  #watchProcess(run: Run, task: Com): () => void {
    const getTrustLevel = task.interface.allMethods.find((m) => m.owner === IInspectable && m.name === 'GetTrustLevel')!;
    let asking = false;
    const timer = setInterval(() => {
      if (asking || run.ended) return;
      asking = true;
      // Its own reference: the run may end, releasing the task, while the call is under way.
      const held = task.clone();
      callMethodAsync(held, getTrustLevel, []).finally(() => disposeComPtr(held)).then(
        () => void (asking = false),
        (error: unknown) => {
          asking = false;
          const hresult = ComError.hresultOf(error);
          if (run.ended || !isDisconnection(hresult)) return;
          this.#end(run, 'failed', new ComError(hresult, `${run.slot.registration.name}: the process serving the task is gone`));
        },
      );
    }, PROBE_MS);
    return () => clearInterval(timer);
  }

  /** Releases the host's references of an ended run: the task, the instance, its trigger details. */
  #release(run: Run): void {
    if (run.task) disposeComPtr(run.task); // may be a proxy: its process may be calling this one now
    run.instanceCom?.dispose();
    run.instance.triggerDetails?.dispose();
    run.task = null;
    run.instanceCom = null;
  }

  #progressed(run: Run, progress: number): void {
    if (run.ended) return;
    run.record.progress = progress;
    const slot = run.slot;
    this.#record({ type: 'progress', ...this.#about(slot, run), progress });
    slot.registration.progress.raise(slot.registration, progressEventArgs(run.instance.instanceId, progress));
  }

  /**
   * Cancels a run: its Canceled handlers are called with `reason`, and after the grace period
   * (`graceMs`, about five seconds on Windows) a run that has not completed its deferrals is
   * terminated. A run canceled before its task was activated never runs. Canceling twice does nothing.
   */
  #cancelRun(run: Run, reason: number): boolean {
    if (run.ended || run.cancelReason !== null) return false;
    run.cancelReason = reason;
    const reasonName = enumName('BackgroundTaskCancellationReason', reason);
    run.record.cancelReason = reasonName;
    const slot = run.slot;
    this.#record({ type: 'canceled', ...this.#about(slot, run), reason: reasonName });
    if (run.record.state === 'activating') {
      this.#end(run, 'failed', new ComError(ERROR_CANCELLED, `${slot.registration.name}: canceled (${reasonName}) before it ran`));
      return true;
    }
    run.record.state = 'canceling';
    run.cancelGrace = this.clock.setTimer(this.#graceMs, () => {
      run.cancelGrace = null;
      const outstanding = run.instance.outstandingDeferrals;
      this.#end(run, 'terminated', new ComError(
        GRACE_PERIOD_EXPIRED,
        `${slot.registration.name}: terminated ${this.#graceMs} ms after it was canceled (${reasonName}): ${outstanding ? `${plural(outstanding, 'deferral')} not completed` : 'Run had not returned'}`,
      ), outstanding);
    });
    run.instance.canceled.raise(run.instance, reason);
    return true;
  }

  /** Ends a run once: records it, raises Completed, wakes the waiters and starts what was latched behind it. */
  /** A run whose Run returned and whose deferrals are complete: done, unless the task reported a failure. */
  #endReturned(run: Run): void {
    const failure = run.instance.reportedFailure;
    this.#end(run, failure ? 'failed' : 'completed', failure);
  }

  #end(run: Run, state: RunState, error: ComError | null, outstanding = 0): void {
    if (run.ended) return;
    run.ended = true;
    run.instance.ended = true;
    run.cancelGrace?.();
    run.cancelLimit?.();
    run.probe?.();
    const slot = run.slot;
    const record = run.record;
    record.state = state;
    record.endedAt = this.clock.now();
    record.hresult = error ? error.hresult : S_OK;
    record.error = error;
    record.deferralsCompleted = run.instance.deferralsCompleted;
    if (slot.run === run) slot.run = null;
    this.#record({
      type: state === 'completed' ? 'completed' : state === 'terminated' ? 'terminated' : 'failed',
      ...this.#about(slot, run),
      ...(error ? { hresult: error.hresult, message: error.message } : {}),
      ...(state === 'terminated' ? { deferrals: outstanding } : {}),
    });
    run.instance.canceled.clear();
    if (!run.inRun) this.#release(run);
    slot.registration.completed.raise(slot.registration, completedEventArgs(record.instanceId, error));
    for (const waiter of [...this.#waiters]) {
      if (!waiter.matches(record)) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(record);
    }
    if (!slot.registered && !this.#closed) this.#forget(slot);
    else this.#evaluate(slot);
  }

  // -------------------------------------------------------------------------------------------

  #match(target: string | Guid): Slot[] {
    return this.#slots.filter((s) => s.registered && (target instanceof Guid ? s.registration.taskId.equals(target) : s.registration.name === target));
  }

  #about(slot: Slot, run?: Run): { name: string; taskId: Guid; instanceId?: Guid } {
    return run ? { name: slot.registration.name, taskId: slot.registration.taskId, instanceId: run.instance.instanceId } : { name: slot.registration.name, taskId: slot.registration.taskId };
  }

  #handlerFailed(error: unknown): void {
    this.#record({ type: 'handler-failed', hresult: ComError.hresultOf(error), message: error instanceof Error ? error.message : String(error) });
  }

  #record(event: Omit<HostEvent, 'time'>): void {
    const entry: HostEvent = { time: this.clock.now(), ...event };
    this.#log.push(entry);
    if (this.#log.length > this.#maxLog) this.#log.splice(0, this.#log.length - this.#maxLog);
    for (const listener of [...this.#listeners]) {
      try {
        listener(entry);
      } catch {
        // a watcher's failure is not the host's
      }
    }
  }
}

/**
 * Activation (CoCreateInstance) needs COM: join the MTA as C#/WinRT does for apps that never
 * initialized it. A thread already in a single-threaded apartment stays there.
 */
function joinMultithreadedApartment(): void {
  try {
    initializeCom('mta');
  } catch (error) {
    if (!(error instanceof ComError && error.hresult === RPC_E_CHANGED_MODE)) throw error;
  }
}

function failure(error: unknown, what: string): ComError {
  const hresult = ComError.hresultOf(error);
  const detail = error instanceof ComError ? error.detail : error instanceof Error ? error.message : String(error);
  return new ComError(hresult, detail ? `${what}: ${detail}` : what, { cause: error });
}

function nonNegative(value: number, name: string): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) throw new RangeError(`createHost: ${name} must be a finite number ≥ 0, got ${String(value)}`);
  return value;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * Opens the portable host in this process: installs JS activation factories for TimeTrigger,
 * MaintenanceTrigger, SystemTrigger, ApplicationTrigger, SystemCondition, BackgroundTaskBuilder,
 * BackgroundTaskRegistration and BackgroundExecutionManager, so that the generated projection
 * reaches the host. One host at a time: close it (or `using`) to open another.
 *
 * @example
 * const clock = new ManualClock();
 * using host = createHost({ clock });
 * using server = registerClassObject(task.clsid, task.classDefinition);
 * const builder = Background.BackgroundTaskBuilder.create();
 * builder.Name = 'primes';
 * builder.SetTrigger(Background.TimeTrigger.create(15, false));
 * builder.SetTaskEntryPointClsid(task.clsid);
 * builder.Register();
 * clock.advance(15 * 60_000);                    // the trigger fires, the task runs
 * const run = await host.waitForCompletion('primes');
 */
export function createHost<C extends Clock = Clock>(options: HostOptions<C> = {}): BackgroundHost<C> {
  if (openHost !== null) throw new ComError(E_ILLEGAL_STATE_CHANGE, 'createHost: a host is already open in this process; close it first');
  const host = new BackgroundHost<C>(options);
  openHost = host as BackgroundHost<Clock>;
  return host;
}
