// `winbg doctor`: why a background task does not run. Each check says what it found and, when
// something is missing, what to do. Off Windows it says what it would check.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isWindows, koffi, koffiLoader } from '../ffi/koffi.js';
import { nativeUnknownUnavailable } from '../ffi/native-unknown.js';
import { Guid } from '../com/guid.js';
import { ComError } from '../com/hresult.js';
import { checkManifest } from '../manifest/index.js';
import { explain, listBackgroundTasks, packageIdentity } from './index.js'; // the whole of winbg/tasks: one chunk of the bundle

export interface Finding {
  readonly check: string;
  readonly level: 'ok' | 'warning' | 'error' | 'info';
  readonly message: string;
}

export interface DoctorOptions {
  /** The task's CLSID, to look for in the manifest. */
  readonly clsid?: Guid | string;
  /** The registration's name, to look for among the registrations. */
  readonly name?: string;
  /** An AppxManifest.xml to check instead of the package's own. */
  readonly manifest?: string;
}

/** Runs the checks; never throws (a failing check is a finding). */
export function diagnose(options: DoctorOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const add = (check: string, level: Finding['level'], message: string): void => void findings.push({ check, level, message });
  const clsid = options.clsid ? Guid.from(options.clsid) : null;
  const unknown = nativeUnknownUnavailable();
  if (unknown === null) add('native IUnknown', 'ok', 'AddRef, Release and QueryInterface of JS COM objects are native code here: answered on the caller\'s thread, whatever the JS thread is doing');
  else add('native IUnknown', 'warning', `AddRef, Release and QueryInterface of JS COM objects fall back to koffi callbacks (${unknown}): a native caller's call to them waits for the JS thread, so never block it while Windows may call (README, Threads)`);

  add('koffi', 'ok', `koffi ${String((koffi as { version?: unknown }).version)}, ${koffiLoader === 'addon' ? 'its prebuilt addon loaded directly' : 'loaded through its package entry'}`);

  if (!isWindows) {
    add('platform', 'info', `this is ${process.platform}: background tasks run on Windows 10 or later. On Windows, doctor checks: package identity (MSIX or sparse package), that the package manifest declares a com:ExeServer with com:Class Id = the task's CLSID, that a registration of the task exists (BackgroundTaskRegistration.AllTasks) and its trigger, that background access is allowed (BackgroundExecutionManager.GetAccessStatus), and that SetTaskEntryPointClsid exists (Windows 10 2004+). Here, run the task under the portable host: \`winbg host <module>\`.`);
    if (options.manifest) checkManifestFile(options.manifest, clsid, add);
    return findings;
  }

  let identity: { fullName: string; path: string } | null = null;
  try {
    identity = packageIdentity();
    if (identity) add('package identity', 'ok', `running as package ${identity.fullName}`);
    else add('package identity', 'error', explain(0x80073d54 | 0) ?? 'no package identity');
  } catch (error) {
    add('package identity', 'warning', `could not be determined: ${String(error)}`);
  }

  const manifest = options.manifest ?? (identity ? join(identity.path, 'AppxManifest.xml') : null);
  if (manifest) checkManifestFile(manifest, clsid, add);
  else add('manifest', 'info', 'no package, so no manifest to check; pass --manifest AppxManifest.xml to check one');

  try {
    const registrations = listBackgroundTasks();
    if (registrations.length === 0) {
      add('registration', 'warning', 'this app has no background task registrations: call registerBackgroundTask (winbg register)');
    } else {
      for (const registration of registrations) {
        const trigger = (registration.raw as { Trigger?: { winrtType?: string } }).Trigger;
        add('registration', 'ok', `${registration.name} (${registration.taskId}), trigger ${trigger?.winrtType ?? 'unknown'}`);
      }
      if (options.name && !registrations.some((r) => r.name === options.name)) add('registration', 'error', `no registration named ${options.name}`);
    }
  } catch (error) {
    add('registration', 'error', error instanceof ComError ? error.message : String(error));
  }
  add('last result', 'info', 'Windows reports a run\'s result only to a Completed handler while the app runs: subscribe with registration.onCompleted (winbg list shows registrations)');
  return findings;
}

function checkManifestFile(path: string, clsid: Guid | null, add: (check: string, level: Finding['level'], message: string) => void): void {
  if (!existsSync(path)) {
    add('manifest', 'error', `${path} does not exist`);
    return;
  }
  if (!clsid) {
    add('manifest', 'info', `${path} found; pass --clsid to check that it declares the task's class`);
    return;
  }
  const result = checkManifest(readFileSync(path, 'utf8'), { clsid });
  for (const finding of result.findings) add('manifest', finding.level === 'ok' ? 'ok' : finding.level, finding.message);
}
