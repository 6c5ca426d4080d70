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
import '../generated/descriptors.js'; // the projection's types, each namespace parsed when first resolved
import { Guid } from '../com/guid.js';
import { ComError, E_ILLEGAL_STATE_CHANGE } from '../com/hresult.js';
import { isWindows } from '../ffi/koffi.js';
import { fromPromise } from '../winrt/async.js';
import { BackgroundAccess, type AccessStatusName } from './access.js';
import { joinMultithreadedApartment } from './activation.js';
import { BackgroundTaskBuilder } from './builder.js';
import { systemClock, type Clock } from './clock.js';
import { Conditions, type ConditionName } from './conditions.js';
import { installFactories, type HostServices } from './factories.js';
import { installDebugSettings } from './debug.js';
import { EventLog, type HostEvent, type TaskRun } from './log.js';
import { enumValue, NS } from './namespace.js';
import { Runs } from './run.js';
import { MINUTE, Scheduler, type RegistrationInfo } from './schedule.js';

export { GRACE_PERIOD_EXPIRED } from './run.js';
export type { RegistrationInfo };

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

/** The host open in this process: there is one set of activation factories per process. */
let openHost: BackgroundHost<Clock> | null = null;

/**
 * Windows' background task infrastructure in this process: see the module comment. Create it
 * with {@link createHost}; close it (or `using`) to remove its factories and end its runs.
 * It wires together the registrations and their triggers (schedule.ts), the runs (run.ts),
 * background access (access.ts) and the event log (log.ts).
 */
export class BackgroundHost<C extends Clock = Clock> implements Disposable {
  readonly clock: C;
  readonly conditions: Conditions;
  readonly #clsidTriggers: 'windows' | 'all';
  readonly #log: EventLog;
  readonly #access: BackgroundAccess;
  readonly #runs: Runs;
  readonly #scheduler: Scheduler;
  #closed = false;
  readonly #factories: Disposable;
  readonly #debugSettings: Disposable;
  readonly #stopConditions: () => void;

  /** @internal Use {@link createHost}. */
  constructor(options: HostOptions<C>) {
    this.clock = options.clock ?? (systemClock() as C);
    this.conditions = new Conditions(options.conditions);
    const graceMs = nonNegative(options.graceMs ?? 5000, 'graceMs');
    const tickMs = nonNegative(options.timerTickMs ?? 15 * MINUTE, 'timerTickMs');
    const limitMs = options.executionTimeLimitMs == null ? null : nonNegative(options.executionTimeLimitMs, 'executionTimeLimitMs');
    this.#clsidTriggers = options.clsidTriggers ?? 'windows';
    if (this.#clsidTriggers !== 'windows' && this.#clsidTriggers !== 'all') throw new RangeError(`createHost: clsidTriggers must be 'windows' or 'all', got ${String(this.#clsidTriggers)}`);
    const entryPoints = new Map(Object.entries(options.entryPoints ?? {}).map(([name, clsid]) => [name, Guid.from(clsid)]));
    const log = new EventLog(this.clock, nonNegative(options.maxLogEntries ?? 10_000, 'maxLogEntries'));
    const acPower = options.acPower ?? true;
    const access = new BackgroundAccess(options.access ?? 'AllowedSubjectToSystemPolicy', (status) => log.record({ type: 'access', value: status }));
    const closed = (): boolean => this.#closed;
    const runs = new Runs({ clock: this.clock, log, graceMs, limitMs, entryPoints, closed });
    this.#log = log;
    this.#access = access;
    this.#runs = runs;
    this.#scheduler = new Scheduler({
      clock: this.clock,
      log,
      conditions: this.conditions,
      access,
      tickMs,
      closed,
      start: (slot, fire, ended) => runs.start(slot, fire, ended),
    }, acPower);
    if (isWindows) joinMultithreadedApartment();
    this.#stopConditions = this.conditions.onChange((name, value) => this.#scheduler.conditionChanged(name, value));
    this.#factories = installFactories(() => (this.#closed ? null : this.#services));
    // fire() reports how many registrations it took: ActivateBackgroundTask needs one.
    this.#debugSettings = installDebugSettings((taskId) => this.#scheduler.fire(taskId) > 0);
  }

  // -------------------------------------------------------------------------------------------
  // State the tests and the demo set.

  /** Whether the machine is on AC power: MaintenanceTrigger runs only then, and is canceled (Abort) when it goes. */
  get acPower(): boolean {
    return this.#scheduler.acPower;
  }

  set acPower(value: boolean) {
    if (typeof value !== 'boolean') throw new TypeError(`acPower must be true or false, got ${String(value)}`);
    this.#scheduler.acPower = value;
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
    return this.#runs.records;
  }

  /** The event log, oldest first. */
  get log(): readonly HostEvent[] {
    return this.#log.entries;
  }

  /** The current registrations (what AllTasks lists), in registration order. */
  get registrations(): readonly RegistrationInfo[] {
    return this.#scheduler.registrations;
  }

  /** Calls `listener` with each new log entry; returns a function that removes it. */
  onEvent(listener: (event: HostEvent) => void): () => void {
    return this.#log.onEvent(listener);
  }

  // -------------------------------------------------------------------------------------------
  // Making things happen.

  /**
   * Fires the trigger of the registrations named `target` (or of the one whose TaskId it is),
   * whatever its kind, as Visual Studio's Lifecycle Events menu does. Returns how many were
   * taken (started or latched; none while access is denied).
   */
  fire(target: string | Guid): number {
    return this.#scheduler.fire(target);
  }

  /** The system event `type` happens: registrations with a SystemTrigger of that type fire. Returns how many were taken. */
  fireSystemTrigger(type: SystemTriggerName | number): number {
    return this.#scheduler.fireSystemTrigger(enumValue('SystemTriggerType', type, 'fireSystemTrigger'));
  }

  /**
   * Cancels running instances: the one whose InstanceId `target` is, or those of the
   * registrations named `target` (or with that TaskId). Their Canceled handlers are called with
   * `reason` (default Abort); an instance that has not completed its deferrals `graceMs` later
   * is terminated. Returns how many were canceled.
   */
  cancel(target: string | Guid, reason: CancellationReasonName | number = 'Abort'): number {
    return this.#runs.cancel(target, enumValue('BackgroundTaskCancellationReason', reason, 'cancel: reason'));
  }

  /**
   * The next run of `target` to end (a registration's name or TaskId), or the run whose
   * InstanceId `target` is (at once if it has ended). Rejects with RO_E_CLOSED if the host closes first.
   */
  waitForCompletion(target: string | Guid, options: { signal?: AbortSignal } = {}): Promise<TaskRun> {
    return this.#runs.waitForCompletion(target, options.signal);
  }

  /** Resolves once no activation is under way (runs started by triggers fired so far have called Run). */
  settled(): Promise<void> {
    return this.#runs.settled();
  }

  /**
   * Removes the host's factories and cancels its timers. Running instances are canceled
   * (reason Terminating); those whose deferrals are not completed by then are reported as
   * terminated (E_ABORT). Pending waitForCompletion calls reject. A second call does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#scheduler.withdrawAll();
    this.#runs.terminateAll();
    this.#closed = true;
    this.#scheduler.forgetAll();
    this.#stopConditions();
    this.#factories[Symbol.dispose]();
    this.#debugSettings[Symbol.dispose]();
    if (openHost === (this as BackgroundHost<Clock>)) openHost = null;
    this.#runs.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // -------------------------------------------------------------------------------------------
  // What the factories call.

  readonly #services: HostServices = {
    createBuilder: () => new BackgroundTaskBuilder((definition) => this.#scheduler.register(definition), {
      clsidTriggers: this.#clsidTriggers,
      accessDenied: () => this.#access.denied,
    }),
    allTasks: () => this.#scheduler.allTasks(),
    requestApplicationTrigger: (trigger, args) => this.#scheduler.requestApplicationTrigger(trigger, args),
    requestAccess: () => fromPromise(Promise.resolve(this.#access.request()), `Windows.Foundation.IAsyncOperation\`1<${NS}.BackgroundAccessStatus>`),
    requestAccessKind: () => {
      this.#access.request();
      return fromPromise(Promise.resolve(!this.#access.denied), 'Windows.Foundation.IAsyncOperation`1<Boolean>');
    },
    accessStatus: () => this.#access.value,
    removeAccess: () => this.#access.remove(),
  };
}

function nonNegative(value: number, name: string): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) throw new RangeError(`createHost: ${name} must be a finite number ≥ 0, got ${String(value)}`);
  return value;
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
