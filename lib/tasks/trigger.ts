// Running a registered task now, whatever its trigger: IPackageDebugSettings::ActivateBackgroundTask
// (shobjidl_core.h), the package manager's interface for debuggers, which Visual Studio's
// "Lifecycle Events" menu uses. Windows then activates the task's class and runs it as it would
// for its trigger, so `npx winbg demo` on Windows shows a first run within seconds instead of at
// the next 15-minute tick. The portable host implements the same class (lib/host/debug.ts).
import { Guid } from '../com/guid.js';
import { ComError, ERROR_NOT_FOUND, REGDB_E_CLASSNOTREG } from '../com/hresult.js';
import { defineInterface, type ComInterface } from '../com/interface.js';
import { CLSCTX_INPROC_SERVER, CLSCTX_LOCAL_SERVER, createInstance } from '../com/runtime.js';
import { IUnknown } from '../com/unknown.js';
import { listBackgroundTasks, type TaskRegistration } from './registration.js';

/** CLSID_PackageDebugSettings. */
export const PACKAGE_DEBUG_SETTINGS_CLSID = Guid.parse('B1AEC16F-2383-4852-B0E9-8F0B1DC66B4D');

export interface PackageDebugSettingsMethods {
  ActivateBackgroundTask(taskId: Guid): void;
}

/**
 * IPackageDebugSettings, in the order of shobjidl_core.h. Only ActivateBackgroundTask is called
 * here; the others are declared for their slots (a package's full name is an LPCWSTR).
 */
export const IPackageDebugSettings: ComInterface<PackageDebugSettingsMethods> = defineInterface<PackageDebugSettingsMethods>({
  name: 'IPackageDebugSettings',
  iid: 'F27C3930-8029-4AD1-94E3-3DBA417810C1',
  base: IUnknown,
  methods: {
    EnableDebugging: 'HRESULT (LPCWSTR packageFullName, LPCWSTR debuggerCommandLine, void *environment)',
    DisableDebugging: 'HRESULT (LPCWSTR packageFullName)',
    Suspend: 'HRESULT (LPCWSTR packageFullName)',
    Resume: 'HRESULT (LPCWSTR packageFullName)',
    TerminateAllProcesses: 'HRESULT (LPCWSTR packageFullName)',
    SetTargetSessionId: 'HRESULT (ULONG sessionId)',
    EnumerateBackgroundTasks: 'HRESULT (LPCWSTR packageFullName, void *taskCount, void *taskIds, void *taskNames)',
    ActivateBackgroundTask: 'HRESULT (const GUID *taskId)',
    StartServicing: 'HRESULT (LPCWSTR packageFullName)',
    StopServicing: 'HRESULT (LPCWSTR packageFullName)',
    StartSessionRedirection: 'HRESULT (LPCWSTR packageFullName, ULONG sessionId)',
    StopSessionRedirection: 'HRESULT (LPCWSTR packageFullName)',
    GetPackageExecutionState: 'HRESULT (LPCWSTR packageFullName, void *packageExecutionState)',
    RegisterForPackageStateChanges: 'HRESULT (LPCWSTR packageFullName, void *notification, void *cookie)',
    UnregisterForPackageStateChanges: 'HRESULT (ULONG cookie)',
  },
});

/** A registration that was asked to run. */
export interface TriggeredTask {
  readonly name: string;
  readonly taskId: Guid;
}

/**
 * Asks Windows (or the portable host) to run now the registrations named `target` (or the one of
 * that TaskId). Resolves when each was handed over; the run itself follows as for its trigger.
 *
 * @throws ComError ERROR_NOT_FOUND when no registration has that name or TaskId;
 *   REGDB_E_CLASSNOTREG, explained, where the package manager's debug interface is missing.
 */
export async function triggerBackgroundTask(target: string): Promise<TriggeredTask[]> {
  if (typeof target !== 'string' || target.trim() === '') throw new TypeError('triggerBackgroundTask: give the registration\'s name or its TaskId');
  const byId = parseTaskId(target);
  const registrations = listBackgroundTasks();
  try {
    return await activate(registrations.filter((r) => (byId ? r.taskId.equals(byId) : r.name === target)), registrations, target, byId);
  } finally {
    for (const registration of registrations) registration.raw.dispose();
  }
}

async function activate(chosen: readonly TaskRegistration[], registrations: readonly TaskRegistration[], target: string, byId: Guid | null): Promise<TriggeredTask[]> {
  if (chosen.length === 0) {
    const names = registrations.map((r) => r.name);
    throw new ComError(ERROR_NOT_FOUND, `no background task registration ${byId ? `with TaskId ${byId}` : `named ${JSON.stringify(target)}`}${names.length ? ` (there are: ${names.join(', ')})` : ' (this app has none: register one first, winbg register)'}`);
  }
  let settings;
  try {
    // Windows' class is an in-process server (the host's too: lib/host/debug.ts).
    settings = await createInstance<PackageDebugSettingsMethods>(PACKAGE_DEBUG_SETTINGS_CLSID, IPackageDebugSettings, CLSCTX_INPROC_SERVER | CLSCTX_LOCAL_SERVER);
  } catch (error) {
    if (error instanceof ComError && error.hresult === REGDB_E_CLASSNOTREG) {
      throw new ComError(error.hresult, 'PackageDebugSettings (IPackageDebugSettings, which runs a registered task at once) is not registered here: Windows 8 and later have it; Wine does not. Run the task under the portable host instead (winbg host)');
    }
    throw error;
  }
  try {
    for (const registration of chosen) await settings.callAsync('ActivateBackgroundTask', registration.taskId);
  } finally {
    settings.dispose();
  }
  return chosen.map((r) => ({ name: r.name, taskId: r.taskId }));
}

function parseTaskId(text: string): Guid | null {
  try {
    return Guid.parse(text.trim());
  } catch {
    return null;
  }
}
