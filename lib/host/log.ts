// What the host records: every run of a task, and a time-stamped event log of what happened to
// registrations and runs, for tests and for progress displays.
import type { Guid } from '../com/guid.js';
import { ComError } from '../com/hresult.js';
import type { Clock } from './clock.js';

export type RunState = 'activating' | 'running' | 'canceling' | 'completed' | 'failed' | 'terminated';

/**
 * One run of a registered task (one IBackgroundTaskInstance). Times are the host clock's; the
 * host updates the record as the run goes on.
 */
export interface TaskRun {
  readonly instanceId: Guid;
  readonly name: string;
  readonly taskId: Guid;
  /** What fired it: 'TimeTrigger(15 min)', 'SystemTrigger(InternetAvailable)', 'fire()'… */
  readonly trigger: string;
  /** When the trigger fired (earlier than `startedAt` when the run waited for its conditions). */
  readonly triggeredAt: number;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly state: RunState;
  /** The last IBackgroundTaskInstance.Progress the task reported. */
  readonly progress: number;
  /** The BackgroundTaskCancellationReason's name, once canceled. */
  readonly cancelReason: string | null;
  /** Deferrals taken (GetDeferral) and how many of them were completed. */
  readonly deferrals: number;
  readonly deferralsCompleted: number;
  /** S_OK, or the failure Completed's CheckResult throws. */
  readonly hresult: number;
  readonly error: ComError | null;
}

export type HostEventType =
  | 'registered' | 'unregistered'
  | 'triggered' | 'latched' | 'coalesced' | 'dropped'
  | 'activated' | 'progress' | 'canceled' | 'deferral' | 'deferral-completed'
  | 'completed' | 'failed' | 'terminated'
  | 'condition' | 'power' | 'access' | 'handler-failed';

/** One entry of the host's log. Which fields are set depends on `type`. */
export interface HostEvent {
  /** The host clock's time. */
  readonly time: number;
  readonly type: HostEventType;
  readonly name?: string;
  readonly taskId?: Guid;
  readonly instanceId?: Guid;
  /** The trigger ('triggered', 'registered'). */
  readonly trigger?: string;
  /** What a latched trigger waits for: unmet conditions, 'ACPower', 'the running instance'. */
  readonly waitingFor?: readonly string[];
  readonly progress?: number;
  /** The cancellation reason ('canceled'). */
  readonly reason?: string;
  readonly hresult?: number;
  readonly message?: string;
  /** Deferrals still outstanding ('terminated'), or the deferral's number ('deferral', 'deferral-completed'). */
  readonly deferrals?: number;
  /** The condition and its new value ('condition'), AC power ('power'), the access status ('access'). */
  readonly condition?: string;
  readonly value?: boolean | string;
}

/** The host's event log: entries stamped with the clock's time, the oldest dropped past `maxEntries`. */
export class EventLog {
  readonly #clock: Clock;
  readonly #maxEntries: number;
  readonly #entries: HostEvent[] = [];
  readonly #listeners = new Set<(event: HostEvent) => void>();

  constructor(clock: Clock, maxEntries: number) {
    this.#clock = clock;
    this.#maxEntries = maxEntries;
  }

  /** The entries, oldest first. */
  get entries(): readonly HostEvent[] {
    return [...this.#entries];
  }

  /** Calls `listener` with each new entry; returns a function that removes it. */
  onEvent(listener: (event: HostEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  record(event: Omit<HostEvent, 'time'>): void {
    const entry: HostEvent = { time: this.#clock.now(), ...event };
    this.#entries.push(entry);
    if (this.#entries.length > this.#maxEntries) this.#entries.splice(0, this.#entries.length - this.#maxEntries);
    for (const listener of [...this.#listeners]) {
      try {
        listener(entry);
      } catch {
        // a watcher's failure is not the host's
      }
    }
  }

  /** An event handler of the app's (Progress, Completed, Canceled) failed. */
  handlerFailed(error: unknown): void {
    this.record({ type: 'handler-failed', hresult: ComError.hresultOf(error), message: error instanceof Error ? error.message : String(error) });
  }
}

/** The fields that say which registration an entry is about, and which of its runs. */
export function about(registration: { readonly name: string; readonly taskId: Guid }, instanceId?: Guid): { name: string; taskId: Guid; instanceId?: Guid } {
  return instanceId ? { name: registration.name, taskId: registration.taskId, instanceId } : { name: registration.name, taskId: registration.taskId };
}
