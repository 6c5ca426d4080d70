// Background tasks authored in TypeScript: a JS `run(instance, signal)` becomes a COM class that
// implements Windows.ApplicationModel.Background.IBackgroundTask, as the seed's C#/C++ samples
// do by hand ("Create and register a winmain background task"). A promise from `run` holds a
// deferral until it settles; Canceled becomes an AbortSignal.
import '../generated/descriptors.js'; // the projection's types, each namespace parsed when first resolved
import { Guid } from '../com/guid.js';
import { ComError, E_FAIL, isDisconnection, messageOf } from '../com/hresult.js';
import { createObject } from '../com/implement.js';
import { callMethodAsync, disposeComPtr, isForeign } from '../com/pointer.js';
import type { ClassDefinition } from '../com/class-factory.js';
import type { ComInterface, MethodInfo } from '../com/interface.js';
import { IWinbgRunReport } from './report.js';
import type { Com } from '../com/pointer.js';
import { project, WinRTObject } from '../winrt/projection.js';
import { resolveType, type ResolvedInterface } from '../winrt/types.js';
import { subscription, type Subscription } from '../winrt/subscription.js';

const NS = 'Windows.ApplicationModel.Background';
const interfaceOf = (name: string): ResolvedInterface => resolveType(`${NS}.${name}`) as ResolvedInterface;

let reasons: readonly string[] | undefined;
/**
 * The names of BackgroundTaskCancellationReason (Windows.ApplicationModel.Background), indexed
 * by value. Read from the projection on first use, so that loading this module never depends on
 * the order in which a bundler evaluates the projection's modules.
 */
export function cancellationReasons(): readonly string[] {
  return (reasons ??= Object.entries((resolveType(`${NS}.BackgroundTaskCancellationReason`) as { values: Readonly<Record<string, number>> }).values)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name));
}

/** Why Windows canceled a task: the AbortSignal's reason. */
export class BackgroundTaskCanceledError extends Error {
  override readonly name = 'AbortError';
  /** The BackgroundTaskCancellationReason's name ('Abort', 'Terminating', 'ConditionLoss'…). */
  readonly reason: string;
  /** Its numeric value. */
  readonly code: number;

  constructor(code: number) {
    const reason = cancellationReasons()[code] ?? `Unknown(${code})`;
    super(`the background task was canceled: ${reason}`);
    this.reason = reason;
    this.code = code;
  }
}

/** What `run` receives: the IBackgroundTaskInstance, the JS way. */
export interface TaskInstance {
  /** IBackgroundTaskInstance.InstanceId. */
  readonly instanceId: Guid;
  /** IBackgroundTaskInstance.Progress: an integer from 0 to 100. */
  progress: number;
  /** How many times Windows suspended this instance. */
  readonly suspendedCount: number;
  /** The trigger's details (projected), or null. */
  readonly triggerDetails: unknown;
  /** The registration that triggered this run (a projected BackgroundTaskRegistration), or null. */
  readonly task: WinRTObject | null;
  /** IBackgroundTaskInstance2.GetThrottleCount: how often the task was throttled for a resource. */
  throttleCount(counter?: 'All' | 'Cpu' | 'Network'): number;
  /** The projected IBackgroundTaskInstance, for anything else. */
  readonly raw: WinRTObject;
}

export type RunFunction = (instance: TaskInstance, signal: AbortSignal) => void | PromiseLike<void>;

export interface BackgroundTaskOptions {
  /** The CLSID the manifest's com:Class declares and SetTaskEntryPointClsid registers. */
  readonly clsid: Guid | string;
  /** A name for messages and logs (default: the CLSID). */
  readonly name?: string;
  readonly run: RunFunction;
}

/** What a task run did, for servers and hosts that watch their tasks. */
export interface RunRecord {
  readonly instanceId: Guid;
  readonly started: number;
  ended?: number;
  /** Set when run threw or its promise rejected. */
  error?: unknown;
  /** Set when Windows canceled the run. */
  canceled?: BackgroundTaskCanceledError;
}

type Listener = (record: RunRecord) => void;

/**
 * A JS background task: its CLSID and the COM class that Windows (or the portable host)
 * activates. Pass it to `serve()`; `classDefinition` is what registerClassObject needs.
 */
export class BackgroundTask {
  readonly clsid: Guid;
  readonly name: string;
  readonly #run: RunFunction;
  readonly #started = new Set<Listener>();
  readonly #ended = new Set<Listener>();
  #active = 0;

  constructor(options: BackgroundTaskOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('defineBackgroundTask: expected { clsid, run }');
    if (typeof options.run !== 'function') throw new TypeError('defineBackgroundTask: run must be a function (instance, signal) => void | Promise<void>');
    this.clsid = Guid.from(options.clsid);
    this.name = options.name ?? `{${this.clsid}}`;
    this.#run = options.run;
  }

  /** Instances whose run has not ended (a returned promise not yet settled). */
  get activeInstances(): number {
    return this.#active;
  }

  /** The COM class: one JS IBackgroundTask object per activation. */
  get classDefinition(): ClassDefinition {
    const iface = interfaceOf('IBackgroundTask').iface as ComInterface<any>;
    return { create: () => ({ interfaces: [iface], Run: (instance: Com) => this.#runInstance(instance) }), interfaces: [iface] };
  }

  /** Calls `listener` when a run starts; the Subscription removes it (call it, or `using`). */
  onRunStarted(listener: Listener): Subscription {
    this.#started.add(listener);
    return subscription(() => void this.#started.delete(listener));
  }

  /** Calls `listener` when a run has ended (its deferral completed); the Subscription removes it. */
  onRunEnded(listener: Listener): Subscription {
    this.#ended.add(listener);
    return subscription(() => void this.#ended.delete(listener));
  }

  /**
   * IBackgroundTask::Run. A synchronous run is done when it returns; an asynchronous one takes a
   * deferral and completes it exactly once when its promise settles. A synchronous throw becomes
   * the HRESULT Windows records for the run; a rejection after the deferral is reported to hosts
   * that listen (the HRESULT has already been returned by then).
   *
   * Windows' side of the run (the instance, its deferral) is usually in another process, native
   * code that may call this process back at any moment. Only what must happen before Run returns
   * is a synchronous call to it (InstanceId, Progress, add_Canceled, GetDeferral); the rest (put_Progress,
   * remove_Canceled, Complete, the releases) is queued in order on koffi's worker threads, so this
   * JS thread never waits on the broker while the broker may be waiting on it. Any of those calls
   * may fail, the broker having gone: the run then ends as failed with that HRESULT, and when the
   * broker is gone (see isDisconnection) the task's signal is aborted so that it stops.
   */
  #runInstance(pointer: Com): void {
    const raw = project(pointer, interfaceOf('IBackgroundTaskInstance')) as WinRTObject & Record<string, any>;
    const calls = new BrokerCalls(isForeign(pointer));
    const controller = new AbortController();
    let instanceId = EMPTY_ID;
    let failure: unknown;
    try {
      instanceId = raw.InstanceId as Guid;
      // Read once while Run runs anyway, so that reading progress later never calls the broker.
      if (calls.async) calls.progress = raw.Progress as number;
    } catch (error) {
      failure = error;
    }
    const record: RunRecord = { instanceId, started: Date.now() };
    // Started and ended are always paired, whatever fails below.
    this.#active++;
    for (const listener of this.#started) safely(listener, record);
    let finished = false;
    let stopProbe: () => Promise<void> = () => Promise.resolve();
    const finish = (error?: unknown): void => {
      if (finished) return;
      finished = true;
      const failed = calls.failure ?? error;
      if (failed !== undefined) record.error = failed;
      record.ended = Date.now();
      this.#active--;
      for (const listener of this.#ended) safely(listener, record);
    };
    calls.onBrokerGone = (error) => controller.abort(error);
    let token: unknown = null;
    let ending = false;
    const instance = raw.comPtr() as Com<any>;
    /**
     * The end of a run, once: the probe stops (its call in flight, if any, is waited for: the
     * instance must outlive it), remove_Canceled, then `last` (Complete, when there is a
     * deferral), then the releases; then finish.
     */
    const end = (last: (() => unknown) | null, error?: unknown): void => {
      if (ending) return;
      ending = true;
      calls.ending = true;
      const probing = stopProbe();
      if (calls.async) calls.queue('GetTrustLevel', () => probing);
      if (token !== null) {
        const cookie = token;
        calls.queue('remove_Canceled', () => (calls.async ? instance.callAsync('remove_Canceled', cookie) : instance.remove_Canceled(cookie)));
      }
      if (last) calls.queue('Complete', last);
      calls.queue('release', () => (calls.async ? raw.disposeAsync() : raw.dispose()));
      if (calls.async) void calls.drained().then(() => finish(error));
      else finish(error);
    };
    let running: Promise<void> | null = null;
    try {
      if (failure !== undefined) throw failure;
      const handler = createObject({
        Invoke: (sender: Com | null, reason: number): void => {
          // The sender is the broker's instance again: release it once this call has returned.
          if (sender) setImmediate(() => disposeComPtr(sender));
          if (record.canceled !== undefined) return;
          record.canceled = new BackgroundTaskCanceledError(reason);
          controller.abort(record.canceled);
        },
      }, [interfaceOf('BackgroundTaskCanceledEventHandler').iface as ComInterface<any>]);
      try {
        token = instance.add_Canceled(handler);
      } finally {
        handler.dispose(); // the broker holds its own reference now
      }
      if (calls.async) stopProbe = calls.probe(instance);
      const result = this.#run(taskInstance(raw, instanceId, calls), controller.signal);
      if (!result || typeof (result as PromiseLike<void>).then !== 'function') return end(null);
      // A thenable is adopted once: whatever it does, its outcome is one settlement.
      running = Promise.resolve(result as PromiseLike<void>);
      const deferral = instance.GetDeferral() as Com<any>;
      const complete = (): unknown => (calls.async ? deferral.callAsync('Complete').finally(() => deferral.disposeAsync()) : (() => {
        try {
          deferral.Complete();
        } finally {
          deferral.dispose();
        }
      })());
      running.then(
        () => end(complete),
        (error: unknown) => {
          // Rejecting with the signal's reason is how a canceled (or orphaned) task stops: not a
          // failure of the task's own.
          if (error !== undefined && error === controller.signal.reason) return end(complete);
          const failed = error ?? new ComError(E_FAIL, 'the task rejected without a reason');
          if (!calls.async) reportFailure(raw, failed);
          end(complete, failed);
        },
      );
    } catch (error) {
      if (running) {
        // The task runs, but Run fails (GetDeferral did): stop it, and end the run only once it
        // has stopped, so that the server does not count it over while it still works.
        controller.abort(error);
        running.then(() => end(null, error), () => end(null, error));
      } else {
        end(null, error);
      }
      throw error;
    }
  }
}

const EMPTY_ID = Guid.parse('00000000-0000-0000-0000-000000000000');

/**
 * The calls a run makes to Windows' side after Run began. For an instance of another process
 * (async), each runs on a koffi worker thread after the one queued before it, so that their order
 * holds and this JS thread never blocks on the broker; for one of this process (the portable
 * host), at once. A failure is recorded (the first one is the run's), never thrown.
 */
class BrokerCalls {
  readonly async: boolean;
  /** The first call that failed, as a ComError naming it. */
  failure: ComError | undefined;
  onBrokerGone: (error: ComError) => void = () => {};
  /** Set once the run is ending: what the task still sets (progress) is dropped, not queued. */
  ending = false;
  /** The instance's Progress as last read or set (async only: then reading it never calls the broker). */
  progress = 0;
  #tail: Promise<void> = Promise.resolve();

  constructor(async: boolean) {
    this.async = async;
  }

  queue(what: string, call: () => unknown): void {
    if (!this.async) {
      try {
        call();
      } catch (error) {
        this.#fail(what, error);
      }
      return;
    }
    this.#tail = this.#tail.then(call).then(() => undefined, (error: unknown) => this.#fail(what, error));
  }

  /** Settles once every call queued so far has been made. */
  drained(): Promise<void> {
    return this.#tail;
  }

  /**
   * Asks the broker something cheap (IInspectable::GetTrustLevel) every second while the run
   * lasts, so that a broker that died is noticed even by a task that never calls it.
   */
  probe(instance: Com<any>): () => Promise<void> {
    const getTrustLevel = instance.interface.allMethods.find((m: MethodInfo) => m.name === 'GetTrustLevel')!;
    let asking: Promise<void> | null = null;
    const timer = setInterval(() => {
      if (asking || this.failure !== undefined) return;
      asking = callMethodAsync(instance, getTrustLevel, []).then(
        () => void (asking = null),
        (error: unknown) => {
          asking = null;
          if (isDisconnection(ComError.hresultOf(error))) this.#fail('GetTrustLevel', error);
        },
      );
    }, 1000);
    timer.unref?.();
    // Stops probing; settles once a probe under way has returned (never rejects).
    return () => {
      clearInterval(timer);
      return asking ?? Promise.resolve();
    };
  }

  #fail(what: string, error: unknown): void {
    if (this.failure !== undefined) return;
    const hresult = ComError.hresultOf(error);
    const gone = isDisconnection(hresult);
    this.failure = new ComError(hresult, gone
      ? `the process that runs this task's instance (Windows' broker) is gone: ${what} failed`
      : `IBackgroundTaskInstance.${what} failed: ${messageOf(error)}`);
    if (gone) this.onBrokerGone(this.failure);
  }
}

/** Tells a host that implements IWinbgRunReport (the portable host) why the run failed. */
function reportFailure(raw: WinRTObject, error: unknown): void {
  try {
    const report = raw.comPtr().tryAs(IWinbgRunReport);
    if (!report) return; // Windows' instance: no channel for a failure after Run returned
    try {
      report.ReportFailure(ComError.hresultOf(error), messageOf(error));
    } finally {
      report.dispose();
    }
  } catch {
    // reporting is best effort; the deferral is completed regardless
  }
}

function safely(listener: Listener, record: RunRecord): void {
  try {
    listener(record);
  } catch {
    // a watcher's failure is not the task's
  }
}

function taskInstance(raw: WinRTObject & Record<string, any>, instanceId: Guid, calls: BrokerCalls): TaskInstance {
  // With a broker in another process, put_Progress is queued (see BrokerCalls), and reading
  // Progress gives the value read as the run began or the last one set since.
  return {
    get instanceId(): Guid {
      return instanceId; // read once as the run began
    },
    get progress(): number {
      return calls.async ? calls.progress : (raw.Progress as number);
    },
    set progress(value: number) {
      if (!Number.isInteger(value) || value < 0 || value > 100) {
        throw new RangeError(`progress must be an integer from 0 to 100, got ${String(value)}`);
      }
      if (!calls.async) {
        raw.Progress = value;
        return;
      }
      calls.progress = value;
      if (calls.ending) return; // the run is over: Windows no longer reads it
      const instance = raw.comPtr() as Com<any>;
      calls.queue('put_Progress', () => instance.callAsync('put_Progress', value));
    },
    get suspendedCount(): number {
      return raw.SuspendedCount as number;
    },
    get triggerDetails(): unknown {
      return raw.TriggerDetails;
    },
    get task(): WinRTObject | null {
      return (raw.Task as WinRTObject | null) ?? null;
    },
    throttleCount(counter: 'All' | 'Cpu' | 'Network' = 'All'): number {
      const iface = interfaceOf('IBackgroundTaskInstance2');
      const values = (resolveType(`${NS}.BackgroundTaskThrottleCounter`) as { values: Readonly<Record<string, number>> }).values;
      if (!(counter in values)) throw new RangeError(`throttleCount: counter must be one of ${Object.keys(values).join(', ')}, got ${String(counter)}`);
      const second = project(raw.as(iface.iface), iface) as WinRTObject & { GetThrottleCount(counter: number): number };
      try {
        return second.GetThrottleCount(values[counter]!);
      } finally {
        second.dispose();
      }
    },
    raw,
  };
}

/**
 * Declares a background task written in JS: `{ clsid, run }`, or a class with a static `clsid`
 * and a `run` method.
 *
 * @example
 * export const primes = defineBackgroundTask({
 *   clsid: '14C5882B-35D3-41BE-86B2-5106269B97E6',
 *   async run(instance, signal) {
 *     instance.progress = 10;
 *     while (!signal.aborted) await work();
 *   },
 * });
 */
export function defineBackgroundTask(options: BackgroundTaskOptions | TaskClass): BackgroundTask {
  if (typeof options === 'function') {
    // A class: `static clsid`, an instance method `run`; one new object for each run, as COM
    // makes one object per activation.
    const cls = options;
    if (typeof cls.prototype?.run !== 'function') throw new TypeError(`defineBackgroundTask: class ${cls.name || '(anonymous)'} needs a run(instance, signal) method`);
    if (cls.clsid === undefined) throw new TypeError(`defineBackgroundTask: class ${cls.name || '(anonymous)'} needs a static clsid`);
    return new BackgroundTask({ clsid: cls.clsid, name: cls.taskName ?? cls.name, run: (instance, signal) => new cls().run(instance, signal) });
  }
  return new BackgroundTask(options);
}

/** A background task written as a class: `static clsid` and a `run(instance, signal)` method. */
export interface TaskClass {
  new (): { run(instance: TaskInstance, signal: AbortSignal): void | PromiseLike<void> };
  readonly clsid: Guid | string;
  /** A name for messages (default: the class name). */
  readonly taskName?: string;
}
