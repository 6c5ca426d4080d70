// The local server of the seed's design: the package manifest declares
//   <com:ExeServer Executable="…" Arguments="-StartSampleTaskServer"> <com:Class Id="{clsid}"/>
// and Windows starts the app with that argument (plus COM's own -Embedding) when a task must run.
// The app then publishes its task classes (CoRegisterClassObject, CLSCTX_LOCAL_SERVER,
// REGCLS_MULTIPLEUSE) and keeps its JS event loop free: COM's calls arrive on RPC threads and
// koffi queues them to the JS thread.
//
// Lifetime follows COM's rules for an out-of-process server ("Out-of-Process Server
// Implementation Helpers", CoAddRefServerProcess): each object the factories create, and each
// LockServer(TRUE), holds a reference on the server process until it is released; the server
// holds one more of its own while it serves, given back when it stops. The idle timer runs only
// while nothing holds the server: no lock, no run in progress, and no object created whose Run
// has not begun, so the server cannot stop between CreateInstance and Run. (An object whose run
// has ended does not hold it: a broker that died keeps its references until COM's rundown, which
// may take minutes.)
import { isWindows } from '../ffi/koffi.js';
import { windows } from '../ffi/windows.js';
import { ComError, CO_E_SERVER_STOPPING, RPC_E_CHANGED_MODE } from '../com/hresult.js';
import type { Implementation } from '../com/object.js';
import { initializeCom, registerClassObject, REGCLS_MULTIPLEUSE, REGCLS_SUSPENDED, resumeClassObjects, type ClassRegistration } from '../com/runtime.js';
import type { BackgroundTask } from './task.js';
import { parentLink } from './worker-link.js';

import { DEFAULT_ACTIVATION_ARGUMENT } from '../manifest/com-server.js';

export { DEFAULT_ACTIVATION_ARGUMENT };

export interface ServeOptions {
  /** The manifest's com:ExeServer Arguments (default '-StartSampleTaskServer'). */
  readonly argument?: string;
  /** The process arguments to look in (default process.argv). */
  readonly argv?: readonly string[];
  /**
   * Serve whatever the arguments, for as long as the app runs: the seed's "run in your main
   * process" case. No idle exit.
   */
  readonly inProcess?: boolean;
  /** How long the server stays up with nothing running once a run has ended (default 5 s). */
  readonly idleTimeoutMs?: number;
  /** How long it waits for the first activation after starting (default 60 s). */
  readonly startTimeoutMs?: number;
  /** Stop on SIGINT/SIGTERM (default true). */
  readonly handleSignals?: boolean;
  /** Told what the server does (registered, run started/ended, stopping), e.g. for logs. */
  readonly onEvent?: (event: ServerEvent) => void;
}

export type ServerEvent =
  | { readonly type: 'registered'; readonly tasks: readonly string[] }
  | { readonly type: 'run-started' | 'run-ended'; readonly task: string; readonly instanceId: string; readonly error?: unknown }
  | { readonly type: 'stopping'; readonly reason: StopReason }
  /** Something failed that the server cannot throw to anyone (revoking a class object as it stops). */
  | { readonly type: 'error'; readonly error: unknown };

export type StopReason = 'idle' | 'start-timeout' | 'signal' | 'stopped';

export interface TaskServer extends Disposable {
  /** Task runs in progress. */
  readonly activeRuns: number;
  /** Settles with the reason once the class objects are revoked. */
  readonly closed: Promise<StopReason>;
  /** Revokes the class objects and stops; a second call does nothing. */
  stop(reason?: StopReason): void;
}

/**
 * True when the process was started to serve tasks: its arguments hold the activation argument,
 * or COM's own `-Embedding` (`/Embedding`), which COM adds when it starts a local server
 * ("Registering COM Servers", LocalServer32) even where the registration has no argument.
 */
export function isActivation(argument: string = DEFAULT_ACTIVATION_ARGUMENT, argv: readonly string[] = process.argv): boolean {
  return argv.slice(1).some((arg) => arg.toLowerCase() === argument.toLowerCase() || /^[-/]embedding$/i.test(arg));
}

/**
 * Serves `tasks` when the process was started with the activation argument (or always, with
 * `inProcess`). Returns null when it was not: the app goes on with its usual work.
 *
 * @example
 * const server = serve([primes]);
 * if (server) process.exitCode = (await server.closed) === 'signal' ? 130 : 0;
 */
export function serve(tasks: BackgroundTask | readonly BackgroundTask[], options: ServeOptions = {}): TaskServer | null {
  const list: readonly BackgroundTask[] = Array.isArray(tasks) ? (tasks as readonly BackgroundTask[]) : [tasks as BackgroundTask];
  if (list.length === 0) throw new TypeError('serve: give at least one task (from defineBackgroundTask)');
  const clsids = new Set(list.map((t) => t.clsid.key));
  if (clsids.size !== list.length) throw new TypeError('serve: two tasks have the same CLSID');
  // In a worker serveInWorker started, the parent's argument is the default.
  const parent = parentLink();
  const argument = options.argument ?? parent?.argument ?? DEFAULT_ACTIVATION_ARGUMENT;
  if (!options.inProcess && !isActivation(argument, options.argv ?? process.argv)) return null;
  const idleTimeoutMs = options.idleTimeoutMs ?? 5_000;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  joinServingApartment();
  // In a worker that serveInWorker started, the parent hears the events and can stop the server.
  const emit = (event: ServerEvent): void => {
    try {
      parent?.event(event);
      options.onEvent?.(event);
    } catch {
      // a logger's failure must not stop the server
    }
  };

  // CoAddRefServerProcess and CoReleaseServerProcess, on Windows; COM suspends the class objects
  // when the count reaches zero, which it does only once the server's own reference goes in stop().
  const addRefServer = (): void => void (isWindows && windows().CoAddRefServerProcess());
  const releaseServer = (): void => void (isWindows && windows().CoReleaseServerProcess());
  addRefServer();
  let locks = 0;
  let runs = 0;
  /** Objects created whose Run has not begun. */
  const pending = new Set<Implementation>();
  let stopped = false;
  let idle: ReturnType<typeof setTimeout> | null = null;
  // COM's calls reach JS through koffi's queue, which does not keep the event loop alive.
  const keepAlive = setInterval(() => {}, 0x7fffffff);
  let resolveClosed!: (reason: StopReason) => void;
  const closed = new Promise<StopReason>((resolve) => (resolveClosed = resolve));

  const busy = (): boolean => runs > 0 || locks > 0 || pending.size > 0;
  const schedule = (ms: number, reason: StopReason): void => {
    if (idle) clearTimeout(idle);
    idle = null;
    if (options.inProcess || stopped || busy()) return;
    idle = setTimeout(() => stopQuietly(reason), ms);
  };

  // With several classes, publish them all before COM hands any out (REGCLS_SUSPENDED, then
  // CoResumeClassObjects), so that an activation never finds half a server.
  const flags = REGCLS_MULTIPLEUSE | (list.length > 1 ? REGCLS_SUSPENDED : 0);
  const registrations: ClassRegistration[] = [];
  const unsubscribe: (() => void)[] = [];
  try {
    for (const task of list) {
      unsubscribe.push(
        task.onRunStarted((record) => {
          runs++;
          schedule(idleTimeoutMs, 'idle');
          emit({ type: 'run-started', task: task.name, instanceId: record.instanceId.toString() });
        }),
        task.onRunEnded((record) => {
          runs--;
          emit({ type: 'run-ended', task: task.name, instanceId: record.instanceId.toString(), ...(record.error !== undefined ? { error: record.error } : {}) });
          schedule(idleTimeoutMs, 'idle');
        }),
      );
      const definition = task.classDefinition;
      registrations.push(registerClassObject(task.clsid, {
        ...definition,
        create: () => {
          // An activation COM handed out before the class was revoked can still reach the factory
          // once the server stopped: refuse it, and COM starts a new server for it.
          if (stopped) throw new ComError(CO_E_SERVER_STOPPING, `the server of ${task.name} is stopping`);
          const implementation = definition.create() as { Run(instance: unknown): void };
          const run = implementation.Run;
          // The object holds the server until its Run begins (then the run does) or it is gone.
          implementation.Run = (instance: unknown): void => {
            pending.delete(implementation);
            run(instance);
          };
          return implementation;
        },
        onCreate: (implementation) => {
          addRefServer();
          pending.add(implementation);
          schedule(idleTimeoutMs, 'idle');
        },
        onDestroy: (implementation) => {
          releaseServer();
          if (pending.delete(implementation)) schedule(idleTimeoutMs, 'idle');
        },
        onLock: (locked) => {
          if (locked) addRefServer();
          else releaseServer();
          locks += locked ? 1 : -1;
          schedule(idleTimeoutMs, 'idle');
        },
      }, { flags }));
    }
    if (list.length > 1) resumeClassObjects();
  } catch (error) {
    for (const registration of registrations) registration.revoke();
    for (const off of unsubscribe) off();
    clearInterval(keepAlive);
    releaseServer();
    throw error;
  }
  emit({ type: 'registered', tasks: list.map((t) => t.name) });

  // Stops from a timer or a signal: a failure to revoke is reported, never thrown into the loop.
  const stopQuietly = (reason: StopReason): void => {
    try {
      stop(reason);
    } catch (error) {
      emit({ type: 'error', error });
    }
  };
  const onSignal = (): void => stopQuietly('signal');
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  function stop(reason: StopReason = 'stopped'): void {
    if (stopped) return;
    stopped = true;
    emit({ type: 'stopping', reason });
    if (idle) clearTimeout(idle);
    if (handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    for (const off of unsubscribe) off();
    const errors: unknown[] = [];
    for (const registration of registrations) {
      try {
        registration.revoke();
      } catch (error) {
        errors.push(error);
      }
    }
    clearInterval(keepAlive);
    releaseServer();
    resolveClosed(reason);
    if (errors.length > 0) throw errors[0];
  }

  schedule(startTimeoutMs, 'start-timeout');
  const server: TaskServer = {
    get activeRuns(): number {
      return runs;
    },
    closed,
    stop,
    [Symbol.dispose]: () => stop('stopped'),
  };
  parent?.attach({ closed, stop: stopQuietly });
  return server;
}

/**
 * The JS thread joins the MTA, where COM's calls to the server need no message loop. A thread
 * that is already a single-threaded apartment cannot: say what to do instead.
 */
function joinServingApartment(): void {
  try {
    initializeCom('mta');
  } catch (error) {
    if (!(error instanceof ComError && error.hresult === RPC_E_CHANGED_MODE)) throw error;
    throw new ComError(
      RPC_E_CHANGED_MODE,
      'serve: this thread is already a single-threaded apartment (COM was initialized before winbg, as Electron\'s main process ' +
        'does), and winbg serves from the multithreaded apartment. Serve from a worker thread instead: put the serve() call in a ' +
        'module of its own and call serveInWorker(new URL(\'./tasks.js\', import.meta.url)) here (winbg/tasks; in CommonJS, ' +
        'serveInWorker(path.join(__dirname, \'tasks.js\')))',
    );
  }
}
