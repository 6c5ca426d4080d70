// One task run under the portable host, in this process, the way Windows would run it: what
// `winbg host <module>` and `winbg demo` share. The tasks are served (serve, in process), the
// chosen one registered through the projection (registerBackgroundTask), its trigger fired, and
// the run awaited; `--for`, `--cancel-after` and Ctrl+C cancel it (with ExecutionTimeExceeded,
// a chosen reason, and Abort), and a cancellation asked for before the trigger fired keeps it
// from firing. Everything it set up is undone when it returns.
import { registerBackgroundTask, serve, type BackgroundTask, type TaskRegistration, type Trigger } from '../tasks/index.js';
import { createHost, type BackgroundHost, type CancellationReasonName } from './host.js';
import type { HostEvent, TaskRun } from './log.js';

/** How long a canceled run has to complete its deferrals: about Windows' five seconds. */
export const HOSTED_GRACE_MS = 5000;

/**
 * The host both commands use: COM entry points take every trigger (Windows refuses
 * SystemTrigger and ApplicationTrigger for them, which their notes say), with Windows' grace.
 */
export function openHost(): BackgroundHost {
  return createHost({ clsidTriggers: 'all', graceMs: HOSTED_GRACE_MS });
}

export interface HostedRunOptions {
  /** The host, open (see {@link openHost}); the caller closes it. */
  readonly host: BackgroundHost;
  /** Every task to serve (one class object each), and the one to register and run. */
  readonly serve: readonly BackgroundTask[];
  readonly task: BackgroundTask;
  readonly name: string;
  readonly trigger: Trigger;
  /** Fires the trigger as its source would; resolves with the runs it started (default host.fire). */
  readonly fire?: (host: BackgroundHost, name: string) => number | Promise<number>;
  /** Cancels the run (ExecutionTimeExceeded) this long after `started`; null for no limit. */
  readonly forMs: number | null;
  /** When the command started (performance.now()), for `forMs`; default now. */
  readonly started?: number;
  /** Cancels the run this long after it was activated, with `reason`. */
  readonly cancelAfterMs?: number | null;
  readonly reason?: CancellationReasonName;
  /** Ctrl+C: cancels the run (Abort), or keeps the trigger from firing. */
  readonly interrupt?: AbortSignal;
  /** A note for the user (stderr). */
  readonly note: (text: string) => void;
  /** Told of the registration once it is made, before the trigger fires. */
  readonly onRegistered?: (registration: TaskRegistration) => void;
  /** Each event of the host about this registration, with its run when it has one. */
  readonly onEvent?: (event: HostEvent, run: TaskRun | undefined) => void;
}

/** How a hosted run ended: with the run, or before its trigger fired (and why). */
export type HostedRunOutcome = { readonly run: TaskRun } | { readonly notFired: string };

/**
 * Serves the tasks, registers `task` as `name` with `trigger`, fires it, and resolves when the
 * run has ended. Rejects when serving or registering fails (the caller reports it).
 */
export async function runHosted(options: HostedRunOptions): Promise<HostedRunOutcome> {
  const { host, note } = options;
  const started = options.started ?? performance.now();
  const cleanup: (() => void)[] = [];
  try {
    const server = serve(options.serve, { inProcess: true, handleSignals: false })!;
    cleanup.push(() => server.stop());
    const { registration } = registerBackgroundTask({ name: options.name, clsid: options.task.clsid, trigger: options.trigger, replace: true });
    cleanup.push(() => registration.raw.dispose());
    options.onRegistered?.(registration);

    let fired = false;
    let ended = false;
    let early: string | null = null;
    const cancel = (reason: CancellationReasonName, why: string): void => {
      if (ended) return;
      if (!fired) {
        early ??= why;
        return;
      }
      note(`note: ${why}: canceling (${reason}); the task has ${HOSTED_GRACE_MS / 1000} s to complete its deferrals`);
      host.cancel(registration.name, reason);
    };
    const timer = (ms: number, action: () => void): void => {
      const handle = setTimeout(action, ms);
      cleanup.push(() => clearTimeout(handle));
    };
    const forMs = options.forMs;
    if (forMs !== null) timer(Math.max(0, forMs - (performance.now() - started)), () => cancel('ExecutionTimeExceeded', `--for ${forMs / 1000} s elapsed`));
    const onInterrupt = (): void => cancel('Abort', 'interrupted');
    const interrupt = options.interrupt;
    if (interrupt?.aborted) onInterrupt();
    else if (interrupt) {
      interrupt.addEventListener('abort', onInterrupt, { once: true });
      cleanup.push(() => interrupt.removeEventListener('abort', onInterrupt));
    }
    const cancelAfterMs = options.cancelAfterMs ?? null;
    cleanup.push(host.onEvent((event) => {
      if (!event.taskId?.equals(registration.taskId)) return;
      if (event.type === 'activated' && cancelAfterMs !== null) {
        timer(cancelAfterMs, () => cancel(options.reason ?? 'Abort', `--cancel-after ${cancelAfterMs / 1000} s`));
      }
      options.onEvent?.(event, event.instanceId ? host.runs.find((r) => r.instanceId.equals(event.instanceId!)) : undefined);
    }));

    if (early !== null) return { notFired: `${early} before the trigger fired; it was not fired` };
    const completion = host.waitForCompletion(registration.name);
    completion.catch(() => {}); // rejects when the host closes without a run
    fired = true;
    if ((await (options.fire ?? ((h: BackgroundHost, n: string) => h.fire(n)))(host, registration.name)) === 0) {
      return { notFired: `the trigger started no run of ${registration.name}` };
    }
    const run = await completion;
    ended = true;
    return { run };
  } finally {
    for (const step of cleanup.reverse()) step();
  }
}

/** A command's `--name SECONDS` value in milliseconds; throws `invalid` (a usage error) with the reason. */
export function parseSeconds(value: string, name: string, invalid: (message: string) => Error): number {
  const number = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(number) || number * 1000 > 0x7fffffff) throw invalid(`${name}: seconds must be a number from 0 to 2147483, got ${JSON.stringify(value)}`);
  return Math.round(number * 1000);
}
