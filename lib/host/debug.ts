// The host's PackageDebugSettings: IPackageDebugSettings::ActivateBackgroundTask runs a
// registration now, whatever its trigger, as Windows' does (lib/tasks/trigger.ts calls it). It is
// published for this process only (CLSCTX_INPROC_SERVER), in COM's class table on Windows and in
// winbg's own elsewhere, while the host is open. The rules it keeps are Windows': the TaskId must
// be a registration's (else ERROR_NOT_FOUND); the run then goes as for its trigger (conditions,
// access), so a task that would not run for its trigger does not run here either.
import type { Guid } from '../com/guid.js';
import { ComError, ERROR_NOT_FOUND } from '../com/hresult.js';
import { CLSCTX_INPROC_SERVER, registerClassObject } from '../com/runtime.js';
import { IPackageDebugSettings, PACKAGE_DEBUG_SETTINGS_CLSID } from '../tasks/trigger.js';

/** Publishes the class; `fire` runs the registration of a TaskId and says whether there was one. Disposing it revokes the class. */
export function installDebugSettings(fire: (taskId: Guid) => boolean): Disposable {
  const registration = registerClassObject(PACKAGE_DEBUG_SETTINGS_CLSID, {
    interfaces: [IPackageDebugSettings],
    create: () => ({
      ActivateBackgroundTask(taskId: Guid): void {
        if (!fire(taskId)) throw new ComError(ERROR_NOT_FOUND, `ActivateBackgroundTask: no background task registration has the TaskId ${taskId}`);
      },
    }),
  }, { context: CLSCTX_INPROC_SERVER });
  return { [Symbol.dispose]: () => registration.revoke() };
}
