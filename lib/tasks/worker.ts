// Serving from a worker thread. winbg serves tasks from COM's multithreaded apartment: COM's calls
// arrive on its RPC threads and koffi queues them to the JS thread. A JS thread that something
// else already made a single-threaded apartment (Electron's main process calls OleInitialize
// before any JS runs) cannot join the MTA (RPC_E_CHANGED_MODE), so serve() refuses it; a
// worker_threads thread is a new OS thread that COM has not seen, and serves there as usual.
//
// The module the worker runs calls serve() itself, exactly as an app's entry does; this side
// starts it with the app's arguments, forwards stop() and the process's signals (a worker gets no
// signals of its own) and reports how the server ended. The two sides speak through the worker's
// port (worker-link.ts); serve() listens only in a worker serveInWorker started.
import type { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { isActivation, type ServerEvent, type StopReason } from './server.js';
import { STOP_REASONS, WORKER_ENV, WORKER_TAG, workerThreads, type FromWorker, type ToWorker } from './worker-link.js';
import { DEFAULT_ACTIVATION_ARGUMENT } from '../manifest/com-server.js';

export interface WorkerServeOptions {
  /** The manifest's com:ExeServer Arguments (default '-StartSampleTaskServer'). */
  readonly argument?: string;
  /** The process arguments to look in and to give the worker (default process.argv). */
  readonly argv?: readonly string[];
  /** Start the worker whatever the arguments (its serve() decides, e.g. with inProcess). */
  readonly always?: boolean;
  /** Stop the worker's server on SIGINT/SIGTERM of this process (default true). */
  readonly handleSignals?: boolean;
  /** Told what the worker's server does, and 'error' when the worker itself fails. */
  readonly onEvent?: (event: ServerEvent) => void;
}

/** How a server in a worker ended: its own reason, or 'worker-exit' when the worker ended without saying. */
export type WorkerStopReason = StopReason | 'worker-exit';

export interface WorkerTaskServer extends Disposable {
  /** The worker thread. */
  readonly worker: Worker;
  /**
   * Settles when the worker's server has stopped (its reason), or when the worker ended without
   * one ('worker-exit'). Never rejects. The worker may still be ending: `worker` is there to
   * wait for its 'exit' or to terminate it.
   */
  readonly closed: Promise<WorkerStopReason>;
  /** Asks the worker's server to stop; a second call does nothing. */
  stop(reason?: StopReason): void;
}

/**
 * Serves from a worker thread the tasks that `module` serves (it calls serve(), as an app's
 * entry does), when the process was started to serve tasks. Returns null when it was not. Use it
 * where the JS thread is already a single-threaded apartment, as in Electron's main process.
 *
 * @example
 * // main.js (Electron's main process)
 * const server = serveInWorker(new URL('./tasks.js', import.meta.url));
 * if (server) { await server.closed; app.quit(); }
 */
export function serveInWorker(module: URL | string, options: WorkerServeOptions = {}): WorkerTaskServer | null {
  const url = moduleUrl(module);
  const argv = options.argv ?? process.argv;
  const argument = options.argument ?? DEFAULT_ACTIVATION_ARGUMENT;
  if (!options.always && !isActivation(argument, argv)) return null;
  const emit = (event: ServerEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // a logger's failure must not stop the server
    }
  };

  const { Worker } = workerThreads();
  // The app's own arguments: after the script (node app.js …, electron . …), or after the
  // executable in a packaged Electron app, whose process.argv has no script.
  const versions = process.versions as Record<string, string | undefined>;
  const packagedElectron = versions.electron !== undefined && !(process as { defaultApp?: boolean }).defaultApp;
  const worker = new Worker(url, {
    argv: argv.slice(packagedElectron ? 1 : 2),
    env: { ...process.env, [WORKER_ENV]: '1' },
    workerData: { [WORKER_TAG]: { argument } },
  });
  let reason: WorkerStopReason | undefined;
  let stopSent = false;
  const stop = (why: StopReason = 'stopped'): void => {
    if (stopSent || reason !== undefined) return;
    stopSent = true;
    worker.postMessage({ tag: WORKER_TAG, stop: why } satisfies ToWorker);
  };
  // The first signal asks the server to stop; another, while it has not, ends the worker.
  const onSignal = (): void => {
    if (stopSent) void worker.terminate();
    else stop('signal');
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  let resolveClosed!: (reason: WorkerStopReason) => void;
  const closed = new Promise<WorkerStopReason>((resolve) => (resolveClosed = resolve));
  const end = (why: WorkerStopReason): void => {
    if (reason !== undefined) return;
    reason = why;
    if (handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    resolveClosed(why);
  };
  worker.on('message', (message: FromWorker) => {
    if (message?.tag !== WORKER_TAG) return;
    if ('event' in message) emit(message.event);
    else if ('closed' in message && STOP_REASONS.includes(message.closed)) end(message.closed);
  });
  worker.on('error', (error) => emit({ type: 'error', error }));
  worker.once('exit', () => end('worker-exit'));
  return { worker, closed, stop, [Symbol.dispose]: () => stop('stopped') };
}

/** A file: URL for the module: a URL, a file: URL's text, or an absolute path. */
function moduleUrl(module: URL | string): URL {
  const problem = 'serveInWorker: module must be a file: URL (new URL(\'./tasks.js\', import.meta.url)) or an absolute path (path.join(__dirname, \'tasks.js\'))';
  if (module instanceof URL) {
    if (module.protocol !== 'file:') throw new TypeError(`${problem}; got ${module.href}`);
    return module;
  }
  if (typeof module !== 'string') throw new TypeError(`${problem}; got ${module === null ? 'null' : typeof module}`);
  const path = createRequire(import.meta.url)('node:path') as typeof import('node:path');
  if (path.isAbsolute(module) || path.win32.isAbsolute(module)) {
    const { pathToFileURL } = createRequire(import.meta.url)('node:url') as typeof import('node:url');
    return pathToFileURL(module);
  }
  if (module.startsWith('file:')) return new URL(module);
  throw new TypeError(`${problem}; got ${JSON.stringify(module)}`);
}
