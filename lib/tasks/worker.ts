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
import { isActivation, type ServerEvent, type StopReason } from './server.js';
import { WORKER_TAG, workerThreads, type FromWorker, type ToWorker } from './worker-link.js';
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
  const url = typeof module === 'string' ? new URL(module) : module;
  if (!(url instanceof URL)) throw new TypeError('serveInWorker: module must be a URL (new URL("./tasks.js", import.meta.url)) or a file: URL string');
  const argv = options.argv ?? process.argv;
  if (!options.always && !isActivation(options.argument ?? DEFAULT_ACTIVATION_ARGUMENT, argv)) return null;
  const emit = (event: ServerEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // a logger's failure must not stop the server
    }
  };

  const { Worker } = workerThreads();
  const worker = new Worker(url, { argv: argv.slice(2), workerData: { [WORKER_TAG]: true } });
  let reason: WorkerStopReason | undefined;
  let stopSent = false;
  const stop = (why: StopReason = 'stopped'): void => {
    if (stopSent || reason !== undefined) return;
    stopSent = true;
    worker.postMessage({ tag: WORKER_TAG, stop: why } satisfies ToWorker);
  };
  const onSignal = (): void => stop('signal');
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
    else end(message.closed);
  });
  worker.on('error', (error) => emit({ type: 'error', error }));
  worker.once('exit', () => end('worker-exit'));
  return { worker, closed, stop, [Symbol.dispose]: () => stop('stopped') };
}
