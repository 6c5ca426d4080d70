// The prime sample as a real workload: the seed's SampleTask ("Create and register a winmain
// background task": count primes, append them to numbersQueue.log until canceled), done the way a
// user would want it done. A segmented sieve instead of trial division; records formatted straight
// into a buffer and written in batches that end on record boundaries; fsync on an interval and at
// the end; a later run continues after the last complete prime in the file (a torn record from a
// crash is trimmed first); and the event loop gets a turn every few milliseconds, so that
// Canceled is seen at once and the run ends within a slice, flushed and synced.
import { defineBackgroundTask, type BackgroundTask } from '../tasks/index.js'; // the whole of winbg/tasks: one chunk of the bundle
import { defaultPrimesFile, type DataFolderOptions } from './data-folder.js';
import { PrimeLogWriter, recoverPrimeLog } from './prime-log.js';
import { primeSegments } from './sieve.js';

/** The seed's CLSID for SampleTask (its com:Class Id in the manifest). */
export const SAMPLE_TASK_CLSID = '14C5882B-35D3-41BE-86B2-5106269B97E6';
/** The seed's C++ sample's MaximumPotentialPrime. */
export const DEFAULT_MAX = 1_000_000_000;
/** The largest maximum: the sieve's seeds for it (primes to 10^6) take a few milliseconds. */
export const MAX_LIMIT = 1e12;

export interface PrimeRunOptions {
  /** The log to append to (default: numbersQueue.log in the app's local data folder; see defaultPrimesFile). */
  readonly file?: string;
  /** Where the default file goes, when `file` is not given. */
  readonly folder?: DataFolderOptions;
  /** Primes up to this number (inclusive; default 1,000,000,000, at most 10^12). */
  readonly max?: number;
  /** Bytes gathered before a write (default 64 KiB, about 6,000 records). The seed wrote every 10 primes. */
  readonly flushBytes?: number;
  /** The longest time gathered records wait before they are written (default 250 ms). */
  readonly flushMs?: number;
  /** fsync at least this often (default 2,000 ms; 0 fsyncs every write), and always at the end. */
  readonly fsyncMs?: number;
  /** How long the sieve runs before the event loop gets a turn (default 10 ms): bounds cancel latency. */
  readonly sliceMs?: number;
  /** Stops the run: it ends within a slice, with everything written and synced. */
  readonly signal?: AbortSignal;
  /** Called after every slice with where the run is. */
  readonly onStatus?: (status: PrimeStatus) => void;
}

/** Where a run is. */
export interface PrimeStatus {
  readonly file: string;
  readonly max: number;
  /** The last prime written (or gathered for writing), or null before the first. */
  readonly last: number | null;
  /** The number the run started from (1 + the last prime already in the file). */
  readonly from: number;
  /** How far the sieve has got: every prime ≤ this has been handed to the writer. */
  readonly reached: number;
  /** Primes this run found. */
  readonly primes: number;
  /** Bytes this run wrote. */
  readonly bytes: number;
  /** Percent of the maximum covered (0–100, integer). */
  readonly percent: number;
  readonly elapsedMs: number;
}

/** How a run ended. */
export interface PrimeRunResult extends PrimeStatus {
  /** 'completed' when every prime up to max is in the file; 'canceled' when the signal stopped it. */
  readonly outcome: 'completed' | 'canceled';
  /** Bytes of a torn record trimmed from the file before the run. */
  readonly trimmed: number;
}

/**
 * Appends the primes after the file's last one, up to `max`, until done or `signal` aborts.
 * Resolves with where it stopped; rejects only when the file cannot be used (PrimeLogError, an
 * I/O error), with what was written before that flushed.
 */
export async function runPrimes(options: PrimeRunOptions = {}): Promise<PrimeRunResult> {
  const max = options.max ?? DEFAULT_MAX;
  if (!Number.isInteger(max) || max < 2 || max > MAX_LIMIT) throw new RangeError(`runPrimes: max must be a whole number from 2 to 10^12, got ${String(max)}`);
  const flushMs = milliseconds('flushMs', options.flushMs, 250);
  const fsyncMs = milliseconds('fsyncMs', options.fsyncMs, 2000);
  const sliceMs = milliseconds('sliceMs', options.sliceMs, 10);
  const file = options.file ?? defaultPrimesFile(options.folder);
  const started = performance.now();

  const recovered = recoverPrimeLog(file);
  const from = (recovered.last ?? 1) + 1;
  const writer = new PrimeLogWriter(file, { flushBytes: options.flushBytes });
  let last = recovered.last;
  let reached = Math.min(from - 1, max);
  let primes = 0;
  const status = (): PrimeStatus => ({
    file, max, last, from, reached, primes, bytes: writer.written + writer.pending,
    percent: Math.min(100, Math.floor((reached / max) * 100)), elapsedMs: performance.now() - started,
  });
  const signal = options.signal;
  let outcome: PrimeRunResult['outcome'] = 'completed';
  try {
    let lastFlush = started;
    let lastSync = started;
    let sliceStart = started;
    for (const segment of from <= max ? primeSegments(from, max) : []) {
      writer.append(segment);
      primes += segment.length;
      last = segment[segment.length - 1]!;
      reached = last;
      const now = performance.now();
      if (now - sliceStart < sliceMs) continue;
      if (now - lastFlush >= flushMs) {
        writer.flush();
        lastFlush = now;
      }
      if (now - lastSync >= fsyncMs) {
        writer.sync();
        lastSync = now;
      }
      options.onStatus?.(status());
      // A macrotask turn: I/O, timers and calls queued from other threads (Canceled) get to run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal?.aborted) {
        outcome = 'canceled';
        break;
      }
      sliceStart = performance.now();
    }
    if (outcome === 'completed') reached = max;
  } finally {
    writer.close(); // flush and fsync, even when the loop threw
  }
  const result = { ...status(), bytes: writer.written, outcome, trimmed: recovered.trimmed };
  options.onStatus?.(result);
  return result;
}

function milliseconds(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0) || value > 0x7fffffff) throw new RangeError(`runPrimes: ${name} must be a number of milliseconds from 0 to 2147483647, got ${String(value)}`);
  return value;
}

export interface PrimesTaskOptions extends Omit<PrimeRunOptions, 'signal'> {
  /** The task's CLSID (default the seed's, 14C5882B-35D3-41BE-86B2-5106269B97E6). */
  readonly clsid?: string;
  /** Its name for registrations and messages (default 'SampleTask'). */
  readonly name?: string;
  /** Called when a run ends, with how it ended. */
  readonly onResult?: (result: PrimeRunResult) => void;
}

/**
 * The seed's SampleTask as a background task: progress 10 when it starts, then the percent of
 * the maximum covered (never below 10, 100 at the end); primes appended to the log until the
 * maximum is reached or Windows cancels it, which ends the run within a slice (10 ms by default)
 * with the file flushed and synced.
 *
 * @example
 * import { serve } from 'winbg/tasks';
 * import { createPrimesTask } from 'winbg/samples/primes';
 * serve(createPrimesTask({ max: 10_000_000 }));
 */
export function createPrimesTask(options: PrimesTaskOptions = {}): BackgroundTask {
  const { clsid = SAMPLE_TASK_CLSID, name = 'SampleTask', onResult, onStatus, ...run } = options;
  return defineBackgroundTask({
    clsid,
    name,
    async run(instance, signal) {
      instance.progress = 10;
      let reported = 10;
      const result = await runPrimes({
        ...run,
        signal,
        onStatus(status) {
          const progress = Math.max(10, status.percent);
          if (progress !== reported) instance.progress = reported = progress;
          onStatus?.(status);
        },
      });
      onResult?.(result);
    },
  });
}

/** The seed's task with the defaults: CLSID 14C5882B-…, primes to 10^9, the default file. */
export const primesTask: BackgroundTask = createPrimesTask();
