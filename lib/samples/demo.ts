// `winbg demo`: the prime task end to end. Off Windows (and on Windows without package identity)
// the portable host plays Windows' part in this process: the task is served as a COM class, registered
// with a TimeTrigger through BackgroundTaskBuilder, the trigger fires, the host activates the class
// through its class factory and calls IBackgroundTask::Run, and Ctrl+C cancels the run (Abort). On
// Windows with package identity it registers with Windows and serves, and Windows runs it.
// Kept apart from lib/cli.ts so that tests run it in-process (a child's pipes cannot be read under Wine).
import { isWindows } from '../ffi/koffi.js';
import { messageOf, type ComError } from '../com/hresult.js';
import type { BackgroundHost } from '../host/host.js';
import { openHost, parseSeconds, runHosted } from '../host/hosted.js';
import type { HostEvent } from '../host/log.js';
import { packageIdentity } from '../tasks/identity.js';
import { registerBackgroundTask, timeTrigger, type TaskRegistration } from '../tasks/registration.js';
import { triggerBackgroundTask } from '../tasks/trigger.js';
import { serve } from '../tasks/server.js';
import { defaultPrimesFile } from './data-folder.js';
import { createPrimesTask, DEFAULT_MAX, MAX_LIMIT, SAMPLE_TASK_CLSID, type PrimeRunResult, type PrimeStatus } from './primes.js';

export const DEMO_SYNOPSIS = `usage: winbg demo [--max N] [--out FILE] [--for SECONDS] [--json]`;

/** The registration's name. */
export const DEMO_TASK_NAME = 'winbg demo';

export interface DemoOptions {
  /** The progress bar (on a terminal), or lines of text or JSON. */
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  /** Notes and errors (default process.stderr). */
  readonly stderr?: { write(text: string): unknown };
  /** Ctrl+C: once it aborts, the run is canceled (Abort) and the demo ends when the run has. */
  readonly interrupt?: AbortSignal;
  /** Printed after a misuse message (default DEMO_SYNOPSIS). */
  readonly usage?: string;
  /** Status updates per second at most, for the bar and for --json (default 10). */
  readonly updatesPerSecond?: number;
}

interface Plan {
  readonly max: number;
  readonly file: string;
  readonly forMs: number | null;
  readonly json: boolean;
}

class UsageError extends Error {}

/**
 * Runs `winbg demo` with the arguments after `demo`. Resolves with the exit code: 0 when the run
 * completed (reaching the maximum, or canceled and ended cleanly), 1 when it failed, 2 on misuse.
 */
export async function runDemo(args: readonly string[], options: DemoOptions): Promise<number> {
  const stderr = options.stderr ?? process.stderr;
  let plan: Plan | 'help';
  try {
    plan = parse(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr.write(`${error.message}\n${options.usage ?? DEMO_SYNOPSIS}\n`);
    return 2;
  }
  if (plan === 'help') {
    options.stdout.write(`${options.usage ?? DEMO_SYNOPSIS}\n`);
    return 0;
  }
  const started = performance.now();
  const view = new View(options.stdout, plan, started, options.updatesPerSecond ?? 10);
  const note = (text: string): void => {
    view.clear();
    stderr.write(`${text}\n`);
  };

  let identity: ReturnType<typeof packageIdentity> = null;
  try {
    identity = packageIdentity();
  } catch (error) {
    note(`note: package identity could not be determined (${messageOf(error)}); using the portable host`);
  }
  const results: PrimeRunResult[] = [];
  const task = createPrimesTask({
    file: plan.file,
    max: plan.max,
    onStatus: (status) => view.status(status),
    onResult: (result) => void results.push(result),
  });

  note(`the seed's SampleTask (CLSID ${SAMPLE_TASK_CLSID}): primes up to ${plan.max.toLocaleString('en-US')} (about ${megabytes(estimatedBytes(plan.max))} MB) appended to ${plan.file}; a later run continues where this one stops`);
  if (identity) return await runWithWindows(plan, task, view, note, options.interrupt, results);
  note(isWindows
    ? 'note: this process has no package identity, which Windows needs to activate a task by CLSID (winbg doctor explains); the portable host plays Windows\' part in this process, over Windows\' own COM'
    : `note: this is ${process.platform}, not Windows: the portable host plays Windows' part in this process (TimeTrigger, activation through the class factory, IBackgroundTask::Run, Canceled)`);
  return await runWithHost(plan, task, view, note, options.interrupt, results);
}

/** The portable host in Windows' place. */
async function runWithHost(plan: Plan, task: ReturnType<typeof createPrimesTask>, view: View, note: (text: string) => void, interrupt: AbortSignal | undefined, results: PrimeRunResult[]): Promise<number> {
  let host: BackgroundHost;
  try {
    host = openHost();
  } catch (error) {
    note(`winbg demo: ${messageOf(error)}`);
    return 1;
  }
  try {
    const trigger = timeTrigger(15);
    const outcome = await runHosted({
      host,
      serve: [task],
      task,
      name: DEMO_TASK_NAME,
      trigger,
      forMs: plan.forMs,
      interrupt,
      note,
      onRegistered: (registration) => {
        view.event({ type: 'registered', name: registration.name, trigger: trigger.description, clsid: String(task.clsid) });
        note('note: Windows would fire the TimeTrigger on a 15-minute tick; the host fires it now');
      },
      onEvent: (event) => view.hostEvent(event),
    });
    if ('notFired' in outcome) {
      note(`winbg demo: ${outcome.notFired}`);
      return 1;
    }
    const result = results.at(-1);
    view.summary(outcome.run.state === 'completed' ? result ?? null : null, outcome.run.error ?? null);
    return outcome.run.state === 'completed' && result ? 0 : 1;
  } catch (error) {
    view.clear();
    note(`winbg demo: ${messageOf(error)}`);
    return 1;
  } finally {
    host.close();
  }
}

/**
 * Windows itself: serve the class in this process (CoRegisterClassObject), register the task with
 * a TimeTrigger, and wait for Windows to run it. Ctrl+C unregisters it, canceling a run.
 */
async function runWithWindows(plan: Plan, task: ReturnType<typeof createPrimesTask>, view: View, note: (text: string) => void, interrupt: AbortSignal | undefined, results: PrimeRunResult[]): Promise<number> {
  const server = serve(task, { inProcess: true, handleSignals: false })!;
  let registration: TaskRegistration | null = null;
  try {
    const trigger = timeTrigger(15);
    // Idempotent by name: a later launch keeps the registration, its schedule and a run in
    // progress, instead of replacing them (Windows would reset the 15-minute tick), unless it is
    // not the demo's (another trigger or CLSID, or one winbg has no record of).
    const registered = registerBackgroundTask({ name: DEMO_TASK_NAME, clsid: task.clsid, trigger, replace: 'if-changed' });
    registration = registered.registration;
    for (const change of registered.changed) note(`note: replaced the registration whose ${change.property} was ${change.registered}`);
    if (!registered.created) note('note: kept the registration from an earlier launch (its schedule goes on)');
    view.event({ type: 'registered', name: registration.name, trigger: trigger.description, clsid: String(task.clsid) });
    note(`note: registered with Windows, which runs the task in this process (the manifest must declare com:Class Id="${SAMPLE_TASK_CLSID}"). Ctrl+C unregisters it and cancels a run`);
    const ended = new Promise<'ended' | 'stopped'>((resolve) => {
      task.onRunStarted(() => view.event({ type: 'activated' }));
      task.onRunEnded(() => resolve('ended'));
      const stop = (): void => resolve('stopped');
      interrupt?.addEventListener('abort', stop, { once: true });
      if (plan.forMs !== null) setTimeout(stop, plan.forMs).unref?.();
    });
    // Now rather than on the next 15-minute tick: the debugger's way (IPackageDebugSettings).
    // A failure leaves the tick: reported, not fatal.
    try {
      await triggerBackgroundTask(registration.taskId.toString());
      note('note: asked Windows to run it now (IPackageDebugSettings::ActivateBackgroundTask)');
    } catch (error) {
      note(`note: could not ask Windows to run it now (${messageOf(error)}); it runs on the next 15-minute tick`);
    }
    if ((await ended) === 'stopped') {
      registration.unregister({ cancel: true });
      registration = null;
      if (task.activeInstances > 0) await new Promise<void>((resolve) => task.onRunEnded(() => resolve()));
    }
    const result = results.at(-1) ?? null;
    view.summary(result, null);
    return 0;
  } catch (error) {
    note(`winbg demo: ${messageOf(error)} (winbg doctor --clsid ${SAMPLE_TASK_CLSID} says what is missing)`);
    return 1;
  } finally {
    registration?.raw.dispose();
    server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments.

function parse(args: readonly string[]): Plan | 'help' {
  const values = new Map<string, string>();
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--json') {
      json = true;
      continue;
    }
    const equals = arg.indexOf('=');
    const name = arg.startsWith('--') && equals > 0 ? arg.slice(0, equals) : arg;
    if (!['--max', '--out', '--for'].includes(name)) throw new UsageError(arg.startsWith('-') ? `unknown option ${name} for demo` : `demo takes no arguments besides options, got ${JSON.stringify(arg)}`);
    const value = equals > 0 && arg.startsWith('--') ? arg.slice(equals + 1) : args[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
    if (values.has(name)) throw new UsageError(`${name} is given twice`);
    values.set(name, value);
  }
  let max = DEFAULT_MAX;
  if (values.has('--max')) {
    const text = values.get('--max')!.replace(/[_,]/g, '');
    max = /^\d+(\.\d+)?(e\d+)?$/i.test(text) ? Number(text) : Number.NaN;
    if (!Number.isInteger(max) || max < 2 || max > MAX_LIMIT) throw new UsageError(`--max: a whole number from 2 to 1e12 (1_000_000 and 1e6 are fine), got ${JSON.stringify(values.get('--max'))}`);
  }
  const forText = values.get('--for');
  const forMs = forText === undefined ? null : parseSeconds(forText, '--for', (message) => new UsageError(message));
  let file = values.get('--out');
  if (file === undefined) {
    try {
      file = defaultPrimesFile();
    } catch (error) {
      throw new UsageError(`the app's data folder is unknown (${messageOf(error)}); give --out FILE`);
    }
  }
  return { max, file, forMs, json };
}

// ---------------------------------------------------------------------------------------------
// Output: a progress bar on a terminal, a line every few seconds elsewhere, JSON lines with --json.

class View {
  #lastUpdate = -Infinity;
  #barShown = false;
  #latest: PrimeStatus | null = null;
  readonly #interval: number;

  constructor(
    private readonly out: DemoOptions['stdout'],
    private readonly plan: Plan,
    private readonly started: number,
    updatesPerSecond: number,
  ) {
    this.#interval = 1000 / updatesPerSecond;
  }

  status(status: PrimeStatus): void {
    this.#latest = status;
    const now = performance.now();
    const textEvery = this.out.isTTY ? this.#interval : 2000;
    if (now - this.#lastUpdate < (this.plan.json ? this.#interval : textEvery)) return;
    this.#lastUpdate = now;
    if (this.plan.json) {
      this.event({ type: 'status', ...numbers(status) });
      return;
    }
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[K${bar(status, Math.max(20, (this.out.columns || 80) - 1))}`);
      this.#barShown = true;
    } else {
      this.out.write(`${line(status)}\n`);
    }
  }

  hostEvent(event: HostEvent): void {
    switch (event.type) {
      case 'activated':
        return this.event({ type: 'activated', instanceId: String(event.instanceId) });
      case 'canceled':
        return this.event({ type: 'canceled', reason: event.reason });
      case 'failed':
      case 'terminated':
        return this.event({ type: event.type, hresult: event.hresult, message: event.message });
      default:
        return undefined;
    }
  }

  event(fields: { type: string; [key: string]: unknown }): void {
    if (this.plan.json) {
      this.out.write(`${JSON.stringify({ ...fields, elapsedMs: Math.round(performance.now() - this.started) })}\n`);
      return;
    }
    this.clear();
    const { type, ...rest } = fields;
    const detail = type === 'registered' ? `${String(rest.name)}: ${String(rest.trigger)}, class {${String(rest.clsid)}}`
      : type === 'activated' ? 'the host activated the class and called Run'
      : type === 'canceled' ? `(${String(rest.reason)})`
      : Object.values(rest).map(String).join(' ');
    this.out.write(`${type} ${detail}\n`);
  }

  /** Takes the bar off the terminal line before other output. */
  clear(): void {
    if (!this.#barShown) return;
    this.out.write('\r\x1b[K');
    this.#barShown = false;
  }

  summary(result: PrimeRunResult | null, error: ComError | null): void {
    this.clear();
    if (this.plan.json) {
      this.event(result ? { type: 'result', outcome: result.outcome, trimmed: result.trimmed, ...numbers(result) } : { type: 'result', outcome: 'failed', message: error?.message ?? 'the run did not complete' });
      return;
    }
    if (!result) {
      this.out.write(`failed: ${error?.message ?? 'the run did not complete'}\n`);
      return;
    }
    const seconds = result.elapsedMs / 1000;
    const rate = seconds > 0 ? Math.round(result.primes / seconds) : 0;
    const state = result.outcome === 'completed' ? `every prime up to ${fmt(result.max)} is in the file` : `stopped at ${fmt(result.reached)} (${result.percent}%); run it again to continue`;
    this.out.write(`${result.outcome}: ${fmt(result.primes)} primes in ${seconds.toFixed(1)} s (${fmt(rate)}/s), last ${result.last === null ? 'none' : fmt(result.last)}; ${state}\n`);
    if (result.from > 2) this.out.write(`(this run continued the file after ${fmt(result.from - 1)})\n`);
    if (result.trimmed > 0) this.out.write(`(a torn record of ${result.trimmed} bytes from an earlier crash was trimmed first)\n`);
    this.out.write(`file: ${result.file}\n`);
  }
}

function numbers(status: PrimeStatus): Record<string, unknown> {
  const seconds = status.elapsedMs / 1000;
  return {
    percent: Math.round((status.reached / status.max) * 1000) / 10,
    last: status.last,
    reached: status.reached,
    primes: status.primes,
    primesPerSecond: seconds > 0 ? Math.round(status.primes / seconds) : 0,
    etaSeconds: eta(status),
    bytes: status.bytes,
    file: status.file,
  };
}

/** Seconds left at this run's pace, or null before there is a pace. */
function eta(status: PrimeStatus): number | null {
  const done = status.reached - status.from + 1;
  if (done <= 0 || status.elapsedMs <= 0) return null;
  return Math.max(0, Math.round(((status.max - status.reached) / done) * status.elapsedMs / 100) / 10);
}

function line(status: PrimeStatus): string {
  const n = numbers(status);
  const left = n.etaSeconds === null ? '' : `, ETA ${clock(n.etaSeconds as number)}`;
  return `${(n.percent as number).toFixed(1)}% at ${status.last === null ? '-' : fmt(status.last)}, ${fmt(n.primesPerSecond as number)} primes/s${left} → ${status.file}`;
}

function bar(status: PrimeStatus, width: number): string {
  const n = numbers(status);
  const text = ` ${(n.percent as number).toFixed(1).padStart(5)}%  ${fmt(n.primesPerSecond as number)} primes/s  at ${status.last === null ? '-' : fmt(status.last)}  ETA ${n.etaSeconds === null ? '--:--' : clock(n.etaSeconds as number)}  → ${status.file}`;
  const cells = Math.max(10, Math.min(30, width - text.length - 2));
  const filled = Math.round((cells * (n.percent as number)) / 100);
  return `[${'█'.repeat(filled)}${'░'.repeat(cells - filled)}]${text}`.slice(0, width);
}

const fmt = (n: number): string => n.toLocaleString('en-US');

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (v: number): string => String(v).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** About how large the file is with every prime up to max: π(x) ≈ x / (ln x − 1), each record digits + 2. */
function estimatedBytes(max: number): number {
  const count = max < 10 ? 4 : max / (Math.log(max) - 1);
  return count * (Math.floor(Math.log10(max)) + 1 + 2 - 0.5);
}

function megabytes(bytes: number): string {
  const mb = bytes / 1e6;
  return mb < 1 ? mb.toFixed(2) : mb < 100 ? mb.toFixed(1) : String(Math.round(mb));
}

