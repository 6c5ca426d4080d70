// The worker side of serveInWorker (worker.ts): serve() in a worker it started forwards its
// events and how it ended to the parent, and takes stop requests from it, in messages tagged
// WORKER_TAG on the worker's port. Its own module so that server.ts and worker.ts need not
// import each other.
import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import type { ServerEvent, StopReason, TaskServer } from './server.js';

// Through require(), and only when used: an ES module import of node:worker_threads would load it
// into every process that imports winbg/tasks.
const require = createRequire(import.meta.url);
export const workerThreads = (): typeof import('node:worker_threads') => require('node:worker_threads') as typeof import('node:worker_threads');

/** Marks a worker serveInWorker started (its workerData holds { [WORKER_TAG]: { argument } }) and the messages of the two sides. */
export const WORKER_TAG = 'winbg.serve';

/**
 * Set in the environment of a worker serveInWorker starts, so that serve() elsewhere need not
 * load node:worker_threads (1.5–3 ms) to find out that it is not in one. A process the worker
 * starts inherits it, and then serve() loads node:worker_threads to see that it is not.
 */
export const WORKER_ENV = 'WINBG_SERVE_WORKER';

export const STOP_REASONS: readonly StopReason[] = ['idle', 'start-timeout', 'signal', 'stopped'];

export type ToWorker = { readonly tag: typeof WORKER_TAG; readonly stop: StopReason };
export type FromWorker =
  | { readonly tag: typeof WORKER_TAG; readonly event: ServerEvent }
  | { readonly tag: typeof WORKER_TAG; readonly closed: StopReason };

/** What serve() in a worker that serveInWorker started tells the parent, and hears from it. */
export interface ParentLink {
  /** The activation argument the parent looked for (serveInWorker's `argument`). */
  readonly argument: string | undefined;
  /** Forwards one of the server's events. */
  event(event: ServerEvent): void;
  /** Takes stop requests from the parent until the server has closed, then says how it ended. */
  attach(server: Pick<TaskServer, 'stop' | 'closed'>): void;
}

/** The link to the parent in a worker serveInWorker started; null anywhere else. */
export function parentLink(): ParentLink | null {
  if (process.env[WORKER_ENV] !== '1') return null;
  const { isMainThread, parentPort, workerData } = workerThreads();
  const data = (workerData as Record<string, unknown> | null)?.[WORKER_TAG] as { argument?: unknown } | undefined;
  if (isMainThread || !parentPort || typeof data !== 'object' || data === null) return null;
  const port: MessagePort = parentPort;
  // Never throws: the server calls it while it stops. An event that cannot be cloned (an error
  // holding a function, say) goes with its error as text; one that still cannot is dropped.
  // (A clone of an Error keeps its name, message and stack, not a ComError's hresult.)
  const post = (message: FromWorker): void => {
    try {
      port.postMessage(message);
    } catch {
      if (!('event' in message && 'error' in message.event)) return;
      try {
        port.postMessage({ tag: WORKER_TAG, event: { ...message.event, error: errorText(message.event.error) } });
      } catch {
        // dropped
      }
    }
  };
  return {
    argument: typeof data.argument === 'string' ? data.argument : undefined,
    event: (event) => post({ tag: WORKER_TAG, event }),
    attach(server) {
      const onMessage = (message: ToWorker): void => {
        if (message?.tag === WORKER_TAG && STOP_REASONS.includes(message.stop)) server.stop(message.stop);
      };
      // The listener keeps the worker alive, as the server does, until the server has closed.
      port.on('message', onMessage);
      void server.closed.then((reason) => {
        port.off('message', onMessage);
        post({ tag: WORKER_TAG, closed: reason });
      });
    },
  };
}

function errorText(error: unknown): string {
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}
