// Time for the portable host. Windows' background infrastructure runs on the system clock;
// tests and demos run it on a clock they move themselves, so that a 15-minute TimeTrigger or a
// 5-second cancellation grace period takes no real time at all.

/** What the host needs of time: the current moment, and one-off timers it can cancel. */
export interface Clock {
  /** Milliseconds on this clock's own time line (the system clock's are Date.now()'s). */
  now(): number;
  /** Calls `callback` once, `ms` from now; returns a function that cancels it (harmless once fired). */
  setTimer(ms: number, callback: () => void): () => void;
}

interface ManualTimer {
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to. `advance(ms)` fires the timers that fall due on the way,
 * in time order (timers due at the same moment in the order they were set), with `now()` at
 * each timer's due time while it runs: timers set by a callback fire in the same advance when
 * they fall due before its end.
 *
 * @example
 * const clock = new ManualClock();
 * using host = createHost({ clock });
 * clock.advance(15 * 60_000); // a TimeTrigger(15, false) fires now
 */
export class ManualClock implements Clock {
  #now: number;
  #order = 0;
  readonly #timers = new Set<ManualTimer>();

  constructor(start = 0) {
    if (!Number.isFinite(start)) throw new RangeError(`ManualClock: start must be a finite number of milliseconds, got ${String(start)}`);
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, callback: () => void): () => void {
    const timer: ManualTimer = { at: this.#now + Math.max(0, delay(ms)), order: this.#order++, callback };
    this.#timers.add(timer);
    return () => void this.#timers.delete(timer);
  }

  /** Timers set and not yet fired or canceled. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves the clock `ms` forward, firing what falls due on the way. */
  advance(ms: number): void {
    const end = this.#now + Math.max(0, delay(ms));
    for (let next = this.#next(end); next !== null; next = this.#next(end)) this.#fire(next);
    this.#now = end;
  }

  /**
   * Like `advance`, but waits after each timer, so that what a timer started (a task's
   * activation, its promise reactions) happens before the next one fires, as it would in the
   * time between them: for `between()` (e.g. `() => host.settled()`), or else for one turn of
   * the event loop.
   */
  async advanceAsync(ms: number, between: () => Promise<void> = nextTurn): Promise<void> {
    const end = this.#now + Math.max(0, delay(ms));
    for (let next = this.#next(end); next !== null; next = this.#next(end)) {
      this.#fire(next);
      await between();
    }
    this.#now = end;
  }

  #next(end: number): ManualTimer | null {
    let next: ManualTimer | null = null;
    for (const timer of this.#timers) {
      if (timer.at > end) continue;
      if (next === null || timer.at < next.at || (timer.at === next.at && timer.order < next.order)) next = timer;
    }
    return next;
  }

  #fire(timer: ManualTimer): void {
    this.#timers.delete(timer);
    this.#now = timer.at;
    timer.callback();
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function delay(ms: number): number {
  if (typeof ms !== 'number' || Number.isNaN(ms)) throw new RangeError(`clock: a delay must be a number of milliseconds, got ${String(ms)}`);
  return ms;
}

/** setTimeout's limit (a signed 32-bit count of milliseconds): longer delays are chained. */
const MAX_TIMEOUT = 0x7fffffff;

export interface SystemClockOptions {
  /**
   * Whether a pending timer keeps the process alive (default true, as a scheduler should while
   * it is open). The host cancels its timers when it closes either way.
   */
  readonly keepAlive?: boolean;
}

/** The system clock: Date.now() and setTimeout. */
export function systemClock(options: SystemClockOptions = {}): Clock {
  const keepAlive = options.keepAlive ?? true;
  return {
    now: () => Date.now(),
    setTimer(ms: number, callback: () => void): () => void {
      const due = Date.now() + Math.max(0, delay(ms));
      let handle: ReturnType<typeof setTimeout> | null = null;
      const arm = (): void => {
        const left = due - Date.now();
        handle = setTimeout(left > MAX_TIMEOUT ? arm : (): void => {
          handle = null;
          callback();
        }, Math.min(Math.max(0, left), MAX_TIMEOUT));
        if (!keepAlive) (handle as { unref?: () => void }).unref?.();
      };
      arm();
      return () => {
        if (handle !== null) clearTimeout(handle);
        handle = null;
      };
    },
  };
}
