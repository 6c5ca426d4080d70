// Background tasks authored in TypeScript: a JS `run(instance, signal)` becomes a COM class that
// implements Windows.ApplicationModel.Background.IBackgroundTask, as the seed's C#/C++ samples
// do by hand ("Create and register a winmain background task"). A promise from `run` holds a
// deferral until it settles; Canceled becomes an AbortSignal.
import '../generated/Windows.ApplicationModel.Background.js';
import { Guid } from '../com/guid.js';
import { ComError, E_FAIL } from '../com/hresult.js';
import type { ClassDefinition } from '../com/class-factory.js';
import type { ComInterface } from '../com/interface.js';
import { IWinbgRunReport } from './report.js';
import type { Com } from '../com/pointer.js';
import { project, WinRTObject } from '../winrt/projection.js';
import { resolveType, type ResolvedInterface } from '../winrt/types.js';

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

  /** Calls `listener` when a run starts; returns a function that removes it. */
  onRunStarted(listener: Listener): () => void {
    this.#started.add(listener);
    return () => this.#started.delete(listener);
  }

  /** Calls `listener` when a run has ended (its deferral completed); returns a function that removes it. */
  onRunEnded(listener: Listener): () => void {
    this.#ended.add(listener);
    return () => this.#ended.delete(listener);
  }

  /**
   * IBackgroundTask::Run. A synchronous run is done when it returns; an asynchronous one takes a
   * deferral and completes it exactly once when its promise settles. A synchronous throw becomes
   * the HRESULT Windows records for the run; a rejection after the deferral is reported to hosts
   * that listen (the HRESULT has already been returned by then).
   */
  #runInstance(pointer: Com): void {
    const raw = project(pointer, interfaceOf('IBackgroundTaskInstance')) as WinRTObject & Record<string, any>;
    const controller = new AbortController();
    const record: RunRecord = { instanceId: raw.InstanceId as Guid, started: Date.now() };
    this.#active++;
    let subscription: (() => void) | null = null;
    let finished = false;
    const finish = (error?: unknown): void => {
      if (finished) return;
      finished = true;
      subscription?.();
      if (error !== undefined) record.error = error;
      record.ended = Date.now();
      this.#active--;
      for (const listener of this.#ended) safely(listener, record);
    };
    try {
      subscription = raw.onCanceled((_sender: unknown, reason: number) => {
        record.canceled = new BackgroundTaskCanceledError(reason);
        controller.abort(record.canceled);
      });
      for (const listener of this.#started) safely(listener, record);
      const result = this.#run(taskInstance(raw), controller.signal);
      if (result && typeof (result as PromiseLike<void>).then === 'function') {
        const deferral = raw.GetDeferral() as WinRTObject & { Complete(): void };
        (result as PromiseLike<void>).then(
          () => complete(deferral, () => finish(), raw),
          (error: unknown) => {
            // Rejecting with the signal's reason is how a canceled task stops: not a failure.
            if (record.canceled !== undefined && error === record.canceled) {
              complete(deferral, () => finish(), raw);
              return;
            }
            const failure = error ?? new ComError(E_FAIL, 'the task rejected without a reason');
            reportFailure(raw, failure);
            complete(deferral, () => finish(failure), raw);
          },
        );
        return;
      }
      finish();
      raw.dispose();
    } catch (error) {
      finish(error);
      raw.dispose();
      throw error;
    }
  }
}

/** Completes a deferral once, whatever happens, then releases the instance. */
function complete(deferral: WinRTObject & { Complete(): void }, then: () => void, raw: WinRTObject): void {
  try {
    deferral.Complete();
  } finally {
    deferral.dispose();
    then();
    raw.dispose();
  }
}

/** Tells a host that implements IWinbgRunReport (the portable host) why the run failed. */
function reportFailure(raw: WinRTObject, error: unknown): void {
  try {
    const report = raw.comPtr().tryAs(IWinbgRunReport);
    if (!report) return; // Windows' instance: no channel for a failure after Run returned
    try {
      report.ReportFailure(ComError.hresultOf(error), error instanceof Error ? error.message : String(error));
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

function taskInstance(raw: WinRTObject & Record<string, any>): TaskInstance {
  return {
    get instanceId(): Guid {
      return raw.InstanceId as Guid;
    },
    get progress(): number {
      return raw.Progress as number;
    },
    set progress(value: number) {
      if (!Number.isInteger(value) || value < 0 || value > 100) {
        throw new RangeError(`progress must be an integer from 0 to 100, got ${String(value)}`);
      }
      raw.Progress = value;
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
