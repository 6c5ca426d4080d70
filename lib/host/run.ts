// A run of a registered task, from the trigger that started it to its end: activating, running
// (Run called, then the deferrals it took), canceling (the grace period after Canceled), and
// completed, failed or terminated; and the host's runs, with those waiting for them to end.
import { Guid } from '../com/guid.js';
import { ComError, E_ABORT, ERROR_CANCELLED, hr, REGDB_E_CLASSNOTREG, RO_E_CLOSED, S_OK } from '../com/hresult.js';
import { createObject } from '../com/implement.js';
import { disposeComPtr, isForeign, type Com } from '../com/pointer.js';
import { activateTask, callRun, entryPointClass, failure, watchProcess, type BackgroundTask } from './activation.js';
import type { Clock } from './clock.js';
import { BackgroundTaskInstance, type InstanceObserver } from './instance.js';
import { about, type EventLog, type RunState, type TaskRun } from './log.js';
import { enumName, enumValue, NS } from './namespace.js';
import { completedEventArgs, progressEventArgs, type BackgroundTaskRegistration } from './registration.js';

/**
 * What a run that outlives its grace period is reported as (CheckResult throws it): Windows
 * terminates such a task but documents no HRESULT for it, so the host reports
 * HRESULT_FROM_WIN32(ERROR_TIMEOUT).
 */
export const GRACE_PERIOD_EXPIRED: number = hr(0x800705b4);

/** A trigger's fire, which a run starts from. */
export interface Fire {
  readonly at: number;
  readonly source: string;
  /** Makes the run's TriggerDetails object (null: the trigger has none). */
  readonly details: (() => Com) | null;
}

/** The host's state for the registration a run belongs to: `run` is the run while it lasts. */
export interface RunSlot {
  readonly registration: BackgroundTaskRegistration;
  run: Run | null;
}

/** What every run of a host shares. */
export interface RunContext {
  readonly clock: Clock;
  readonly log: EventLog;
  /** How long a canceled run has to complete its deferrals (graceMs). */
  readonly graceMs: number;
  /** When a run is canceled with ExecutionTimeExceeded (executionTimeLimitMs), or null. */
  readonly limitMs: number | null;
  /** The COM class of each TaskEntryPoint name. */
  readonly entryPoints: ReadonlyMap<string, Guid>;
  /** Whether the host is closed. */
  closed(): boolean;
}

interface Waiter {
  readonly matches: (run: TaskRun) => boolean;
  readonly resolve: (run: TaskRun) => void;
  readonly reject: (error: unknown) => void;
}

/** One run: one IBackgroundTaskInstance, and the state Windows follows it by. */
export class Run {
  readonly slot: RunSlot;
  readonly instance: BackgroundTaskInstance;
  readonly #record: { -readonly [K in keyof TaskRun]: TaskRun[K] };
  readonly #context: RunContext;
  readonly #onEnded: () => void;
  #instanceCom: Com | null = null;
  #task: BackgroundTask | null = null;
  /** Run is being called (on Windows, on a koffi worker thread): the pointers it uses must live until it returns. */
  #inRun = false;
  #runReturned = false;
  #cancelReason: number | null = null;
  #cancelGrace: (() => void) | null = null;
  #cancelLimit: (() => void) | null = null;
  /** Stops watching the task's process, when it runs in another one. */
  #probe: (() => void) | null = null;
  #ended = false;

  /** `onEnded` is called once the run has ended, after its Completed event. */
  constructor(slot: RunSlot, fire: Fire, context: RunContext, onEnded: () => void) {
    const registration = slot.registration;
    const observer: InstanceObserver = {
      progressed: (_instance, progress) => this.#progressed(progress),
      deferralTaken: (_instance, number) => {
        this.#record.deferrals = number;
        context.log.record({ type: 'deferral', ...this.#about(), deferrals: number });
      },
      deferralCompleted: (instance, number) => {
        this.#record.deferralsCompleted = instance.deferralsCompleted;
        context.log.record({ type: 'deferral-completed', ...this.#about(), deferrals: number });
        if (this.#runReturned && instance.outstandingDeferrals === 0) this.#endReturned();
      },
    };
    const instance = new BackgroundTaskInstance(registration, fire.details?.() ?? null, observer, (error) => context.log.handlerFailed(error));
    this.slot = slot;
    this.instance = instance;
    this.#context = context;
    this.#onEnded = onEnded;
    this.#record = {
      instanceId: instance.instanceId,
      name: registration.name,
      taskId: registration.taskId,
      trigger: fire.source,
      triggeredAt: fire.at,
      startedAt: context.clock.now(),
      endedAt: null,
      state: 'activating',
      progress: 0,
      cancelReason: null,
      deferrals: 0,
      deferralsCompleted: 0,
      hresult: S_OK,
      error: null,
    };
  }

  /** The run's record, which goes on changing until the run ends. */
  get record(): TaskRun {
    return this.#record;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Activates the entry point and calls Run. */
  async activate(): Promise<void> {
    if (this.#ended) return;
    const { registration } = this.slot;
    const entryPoint = registration.definition.entryPoint;
    const clsid = entryPointClass(entryPoint, this.#context.entryPoints);
    if (!clsid) {
      this.end('failed', new ComError(REGDB_E_CLASSNOTREG, `${registration.name}: the host has no COM class for TaskEntryPoint ${JSON.stringify(entryPoint.kind === 'name' ? entryPoint.name : '')} (createHost({ entryPoints }))`));
      return;
    }
    let task: BackgroundTask;
    try {
      task = await activateTask(clsid);
    } catch (error) {
      this.end('failed', failure(error, `${registration.name}: activating {${clsid}} failed`));
      return;
    }
    if (this.#ended) {
      task.dispose();
      return;
    }
    const { clock, log, limitMs } = this.#context;
    this.#task = task;
    this.#instanceCom = createObject(this.instance, BackgroundTaskInstance.interfaces, { runtimeClassName: `${NS}.BackgroundTaskInstance` });
    this.#record.state = 'running';
    this.#record.startedAt = clock.now();
    log.record({ type: 'activated', ...this.#about(), trigger: this.#record.trigger });
    if (limitMs !== null) {
      const exceeded = enumValue('BackgroundTaskCancellationReason', 'ExecutionTimeExceeded', 'executionTimeLimitMs');
      this.#cancelLimit = clock.setTimer(limitMs, () => void this.cancel(exceeded));
    }
    if (isForeign(task)) {
      this.#probe = watchProcess(task, () => this.#ended, (hresult) => {
        this.end('failed', new ComError(hresult, `${registration.name}: the process serving the task is gone`));
      });
    }
    let failed: ComError | null = null;
    this.#inRun = true;
    try {
      const returning = callRun(task, this.#instanceCom);
      if (returning) await returning;
    } catch (error) {
      failed = failure(error, `${registration.name}: IBackgroundTask.Run failed`);
    } finally {
      this.#inRun = false;
    }
    if (this.#ended) return this.#release(); // terminated (the host closed) while Run ran
    if (failed) return this.end('failed', failed);
    this.#runReturned = true;
    // "The system will believe this background task is complete when this method returns",
    // unless the task took deferrals: then when the last is completed.
    if (this.instance.outstandingDeferrals === 0) this.#endReturned();
  }

  /**
   * Cancels the run: its Canceled handlers are called with `reason`, and after the grace period
   * (`graceMs`, about five seconds on Windows) a run that has not completed its deferrals is
   * terminated. A run canceled before its task was activated never runs. Canceling twice does nothing.
   */
  cancel(reason: number): boolean {
    if (this.#ended || this.#cancelReason !== null) return false;
    this.#cancelReason = reason;
    const reasonName = enumName('BackgroundTaskCancellationReason', reason);
    this.#record.cancelReason = reasonName;
    const { registration } = this.slot;
    const { clock, log, graceMs } = this.#context;
    log.record({ type: 'canceled', ...this.#about(), reason: reasonName });
    if (this.#record.state === 'activating') {
      this.end('failed', new ComError(ERROR_CANCELLED, `${registration.name}: canceled (${reasonName}) before it ran`));
      return true;
    }
    this.#record.state = 'canceling';
    this.#cancelGrace = clock.setTimer(graceMs, () => {
      this.#cancelGrace = null;
      const outstanding = this.instance.outstandingDeferrals;
      this.end('terminated', new ComError(
        GRACE_PERIOD_EXPIRED,
        `${registration.name}: terminated ${graceMs} ms after it was canceled (${reasonName}): ${outstanding ? `${plural(outstanding, 'deferral')} not completed` : 'Run had not returned'}`,
      ), outstanding);
    });
    this.instance.canceled.raise(this.instance, reason);
    return true;
  }

  /** Ends the run once: records it, raises Completed, and tells the host (`onEnded`). */
  end(state: RunState, error: ComError | null, outstanding = 0): void {
    if (this.#ended) return;
    this.#ended = true;
    this.instance.ended = true;
    this.#cancelGrace?.();
    this.#cancelLimit?.();
    this.#probe?.();
    const slot = this.slot;
    const record = this.#record;
    record.state = state;
    record.endedAt = this.#context.clock.now();
    record.hresult = error ? error.hresult : S_OK;
    record.error = error;
    record.deferralsCompleted = this.instance.deferralsCompleted;
    if (slot.run === this) slot.run = null;
    this.#context.log.record({
      type: state === 'completed' ? 'completed' : state === 'terminated' ? 'terminated' : 'failed',
      ...this.#about(),
      ...(error ? { hresult: error.hresult, message: error.message } : {}),
      ...(state === 'terminated' ? { deferrals: outstanding } : {}),
    });
    this.instance.canceled.clear();
    if (!this.#inRun) this.#release();
    slot.registration.completed.raise(slot.registration, completedEventArgs(record.instanceId, error));
    this.#onEnded();
  }

  /** Run returned and the deferrals are complete: done, unless the task reported a failure. */
  #endReturned(): void {
    const failure = this.instance.reportedFailure;
    this.end(failure ? 'failed' : 'completed', failure);
  }

  /** Releases the host's references: the task, the instance, its trigger details. */
  #release(): void {
    if (this.#task) disposeComPtr(this.#task); // may be a proxy: its process may be calling this one now
    this.#instanceCom?.dispose();
    this.instance.triggerDetails?.dispose();
    this.#task = null;
    this.#instanceCom = null;
  }

  #progressed(progress: number): void {
    if (this.#ended) return;
    this.#record.progress = progress;
    const { registration } = this.slot;
    this.#context.log.record({ type: 'progress', ...this.#about(), progress });
    registration.progress.raise(registration, progressEventArgs(this.instance.instanceId, progress));
  }

  #about(): ReturnType<typeof about> {
    return about(this.slot.registration, this.instance.instanceId);
  }
}

/** The host's runs, in the order they started, and the promises waiting for them. */
export class Runs {
  readonly #context: RunContext;
  readonly #runs: Run[] = [];
  readonly #waiters = new Set<Waiter>();
  #activations = 0;
  #idle: (() => void)[] = [];

  constructor(context: RunContext) {
    this.#context = context;
  }

  get records(): readonly TaskRun[] {
    return this.#runs.map((run) => run.record);
  }

  /**
   * Begins a run of `slot`'s registration: the activation itself happens on a later turn, as
   * Windows activates tasks asynchronously. `ended` is called once the run has ended.
   */
  start(slot: RunSlot, fire: Fire, ended: () => void): void {
    const run: Run = new Run(slot, fire, this.#context, () => {
      this.#resolve(run.record);
      ended();
    });
    slot.run = run;
    this.#runs.push(run);
    this.#activations++;
    queueMicrotask(() => {
      run.activate().catch((error: unknown) => run.end('failed', failure(error, `${slot.registration.name}: the host could not run it`))).finally(() => {
        if (--this.#activations === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    });
  }

  /** Cancels the runs that have not ended whose InstanceId or TaskId `target` is, or of the registrations named `target`. */
  cancel(target: string | Guid, reason: number): number {
    const runs = target instanceof Guid
      ? this.#runs.filter((run) => !run.ended && (run.instance.instanceId.equals(target) || run.slot.registration.taskId.equals(target)))
      : this.#runs.filter((run) => !run.ended && run.slot.registration.name === target);
    return runs.filter((run) => run.cancel(reason)).length;
  }

  /** See BackgroundHost.waitForCompletion. */
  waitForCompletion(target: string | Guid, signal: AbortSignal | undefined): Promise<TaskRun> {
    if (target instanceof Guid) {
      const done = this.#runs.find((run) => run.ended && run.instance.instanceId.equals(target));
      if (done) return Promise.resolve(done.record);
    }
    if (this.#context.closed()) return Promise.reject(new ComError(RO_E_CLOSED, 'waitForCompletion: the host is closed'));
    const matches = target instanceof Guid
      ? (run: TaskRun) => run.instanceId.equals(target) || run.taskId.equals(target)
      : (run: TaskRun) => run.name === target;
    return new Promise<TaskRun>((resolve, reject) => {
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

  /** Resolves once no activation is under way. */
  settled(): Promise<void> {
    if (this.#activations === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * The host closes: running instances are canceled (reason Terminating); those whose deferrals
   * are not completed by then are terminated (E_ABORT).
   */
  terminateAll(): void {
    const terminating = enumValue('BackgroundTaskCancellationReason', 'Terminating', 'close');
    for (const run of this.#runs) if (!run.ended) run.cancel(terminating);
    for (const run of this.#runs) {
      if (run.ended) continue;
      const outstanding = run.instance.outstandingDeferrals;
      run.end('terminated', new ComError(E_ABORT, `${run.slot.registration.name}: the host closed while the instance ran${outstanding ? ` (${plural(outstanding, 'deferral')} not completed)` : ''}`), outstanding);
    }
  }

  /** The host has closed: pending waitForCompletion calls reject, settled() resolves. */
  close(): void {
    for (const waiter of [...this.#waiters]) waiter.reject(new ComError(RO_E_CLOSED, 'waitForCompletion: the host closed'));
    this.#waiters.clear();
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Wakes the waiters for an ended run. */
  #resolve(record: TaskRun): void {
    for (const waiter of [...this.#waiters]) {
      if (!waiter.matches(record)) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(record);
    }
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
