// Activating a registration's task as Windows does: the COM class of its entry point, created
// through COM (CoCreateInstance, or this process's class table off Windows), its
// IBackgroundTask::Run called in this process or, for a class served by another process, from a
// worker thread; and the probe that notices when that other process is gone.
import type { Guid } from '../com/guid.js';
import { ComError, isDisconnection, RPC_E_CHANGED_MODE } from '../com/hresult.js';
import { IInspectable } from '../com/unknown.js';
import { callMethodAsync, disposeComPtr, type Com } from '../com/pointer.js';
import { createInstance, initializeCom } from '../com/runtime.js';
import { isWindows } from '../ffi/koffi.js';
import { backgroundInterfaces } from './namespace.js';
import type { EntryPoint } from './registration.js';

/** How often the host checks that the process serving a running task is still there. */
const PROBE_MS = 250;

/** A task's IBackgroundTask. */
export type BackgroundTask = Com<{ Run(instance: unknown): void }>;

/**
 * Activation (CoCreateInstance) needs COM: join the MTA as C#/WinRT does for apps that never
 * initialized it. A thread already in a single-threaded apartment stays there.
 */
export function joinMultithreadedApartment(): void {
  try {
    initializeCom('mta');
  } catch (error) {
    if (!(error instanceof ComError && error.hresult === RPC_E_CHANGED_MODE)) throw error;
  }
}

/**
 * The COM class to activate for an entry point: SetTaskEntryPointClsid's, or for a TaskEntryPoint
 * name the class `entryPoints` maps it to (WinRT class names are activated by Windows); undefined
 * when there is none.
 */
export function entryPointClass(entryPoint: EntryPoint, entryPoints: ReadonlyMap<string, Guid>): Guid | undefined {
  return entryPoint.kind === 'clsid' ? entryPoint.clsid : entryPoints.get(entryPoint.name);
}

/** Creates the task object: createInstance (CoCreateInstance, or this process's class table off Windows), as IBackgroundTask. */
export function activateTask(clsid: Guid): Promise<BackgroundTask> {
  const [IBackgroundTask] = backgroundInterfaces('IBackgroundTask');
  return createInstance<{ Run(instance: unknown): void }>(clsid, IBackgroundTask!);
}

/** Calls IBackgroundTask::Run; on Windows it returns a promise of the call's return. */
export function callRun(task: BackgroundTask, instance: Com | null): Promise<void> | undefined {
  // Windows calls Run from its own thread; from JS, a call that may come back to this
  // thread (a class served by another process) must not block it.
  if (isWindows) return task.callAsync('Run', instance);
  task.Run(instance);
  return undefined;
}

/**
 * A task served by another process: Windows sees that process end (a crash, a kill) and fails
 * the run. The host asks the task object something cheap (IInspectable::GetTrustLevel, through
 * its proxy) every PROBE_MS while the run lasts (until `ended()`); when COM answers that the
 * server is gone, `gone` gets that HRESULT (RPC_E_DISCONNECTED, RPC_S_SERVER_UNAVAILABLE…).
 * Returns a function that stops watching.
 */
export function watchProcess(task: Com, ended: () => boolean, gone: (hresult: number) => void): () => void {
  const getTrustLevel = task.interface.allMethods.find((m) => m.owner === IInspectable && m.name === 'GetTrustLevel')!;
  let asking = false;
  const timer = setInterval(() => {
    if (asking || ended()) return;
    asking = true;
    // Its own reference: the run may end, releasing the task, while the call is under way.
    const held = task.clone();
    callMethodAsync(held, getTrustLevel, []).finally(() => disposeComPtr(held)).then(
      () => void (asking = false),
      (error: unknown) => {
        asking = false;
        const hresult = ComError.hresultOf(error);
        if (ended() || !isDisconnection(hresult)) return;
        gone(hresult);
      },
    );
  }, PROBE_MS);
  return () => clearInterval(timer);
}

/** `error` as the ComError a run fails with: its HRESULT, and a message that says what failed. */
export function failure(error: unknown, what: string): ComError {
  const hresult = ComError.hresultOf(error);
  const detail = error instanceof ComError ? error.detail : error instanceof Error ? error.message : String(error);
  return new ComError(hresult, detail ? `${what}: ${detail}` : what, { cause: error });
}
