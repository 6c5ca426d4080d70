// `winbg doctor`: why a background task does not run. Each check says what it found and, when
// something is missing, what to do; a check it cannot make here is listed as skipped, with why.
// The checks that call Windows' classes (PackageManager, BackgroundTaskRegistration,
// BackgroundExecutionManager, ApiInformation) run wherever those classes are: on Windows, and
// against the portable host and its stand-ins (winbg/host) on any OS.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isWindows, koffi, koffiLoader } from '../ffi/koffi.js';
import { nativeUnknownUnavailable } from '../ffi/native-unknown.js';
import { Guid } from '../com/guid.js';
import { APPMODEL_ERROR_NO_PACKAGE, ComError, ERROR_NOT_SUPPORTED } from '../com/hresult.js';
import { checkManifest, executableFile, findPackages, readPackageManifest, type PackageManifestInfo, type RegisteredPackage } from '../manifest/index.js';
import { activationFactory, runtimeClass } from '../winrt/index.js';
import { backgroundAccessStatus, explain, listBackgroundTasks, packageIdentity } from './index.js'; // the whole of winbg/tasks: one chunk of the bundle
import { readRecord } from './records.js';

export interface Finding {
  readonly check: string;
  /** 'skipped': the check could not be made here; the message says why. */
  readonly level: 'ok' | 'warning' | 'error' | 'info' | 'skipped';
  readonly message: string;
}

export interface DoctorOptions {
  /** The tasks' CLSIDs, to look for in the manifest. */
  readonly clsids?: readonly (Guid | string)[];
  /** The registration's name, to look for among the registrations. */
  readonly name?: string;
  /** An AppxManifest.xml to check instead of the package folder's or the package's own. */
  readonly manifest?: string;
  /** The package folder `winbg package init` wrote (default ./package, when it holds a manifest). */
  readonly package?: string;
  /** A sparse package's external location, which holds the launcher (default: the registered one, else the current folder). */
  readonly appDir?: string;
}

const NS = 'Windows.ApplicationModel.Background';
const COM_TRIGGERS = new Set([`${NS}.TimeTrigger`, `${NS}.MaintenanceTrigger`]);
const DENIED = new Set(['Denied', 'DeniedBySystemPolicy', 'DeniedByUser']);

/** Why `className` cannot be activated here, or null when it can (Windows', or a JS factory of winbg/host). */
function unavailable(className: string): string | null {
  try {
    activationFactory(className);
    return null;
  } catch (error) {
    return isWindows ? `${className} is not available (${error instanceof ComError ? error.code : String(error)})` : `${className} is a Windows class (not on ${process.platform}, and no portable host is open in this process)`;
  }
}

/** Runs the checks; never throws (a failing check is a finding). */
export async function diagnose(options: DoctorOptions = {}): Promise<Finding[]> {
  const findings: Finding[] = [];
  const add = (check: string, level: Finding['level'], message: string): void => void findings.push({ check, level, message });
  /** Runs a check; what it throws is its error finding. Resolves with what it returns (undefined when it threw). */
  const guard = async <T>(check: string, run: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      add(check, 'error', error instanceof Error ? error.message : String(error));
      return undefined;
    }
  };
  let clsids: Guid[] = [];
  try {
    clsids = (options.clsids ?? []).map((clsid) => Guid.from(clsid));
  } catch (error) {
    add('options', 'error', `a CLSID is not a GUID: ${(error as Error).message}`);
  }

  const unknown = nativeUnknownUnavailable();
  if (unknown === null) add('native IUnknown', 'ok', 'AddRef, Release and QueryInterface of JS COM objects are native code here: answered on the caller\'s thread, whatever the JS thread is doing');
  else add('native IUnknown', 'warning', `AddRef, Release and QueryInterface of JS COM objects fall back to koffi callbacks (${unknown}): a native caller's call to them waits for the JS thread, so never block it while Windows may call (README, Threads)`);
  add('koffi', 'ok', `koffi ${String((koffi as { version?: unknown }).version)}, ${koffiLoader === 'addon' ? 'its prebuilt addon loaded directly' : 'loaded through its package entry'}`);
  if (!isWindows) add('platform', 'info', `this is ${process.platform}: background tasks run on Windows 10 or later; the checks that need Windows are skipped below, saying so (under the portable host, \`winbg host <module>\`, its classes answer them)`);

  // Package identity and developer mode: Windows itself.
  let identity: { fullName: string; path: string } | null = null;
  if (!isWindows) add('package identity', 'skipped', 'only Windows gives a process package identity');
  else {
    identity = (await guard('package identity', () => {
      const found = packageIdentity();
      if (found) add('package identity', 'ok', `running as package ${found.fullName}`);
      else add('package identity', 'error', explain(APPMODEL_ERROR_NO_PACKAGE) ?? 'no package identity');
      return found;
    })) ?? null;
  }
  if (!isWindows) add('developer mode', 'skipped', 'a Windows setting');
  else await guard('developer mode', () => developerMode(add));

  // The package: the folder's manifest, its registration, the launcher.
  const packageDir = options.package !== undefined ? resolve(options.package) : existsSync(join('package', 'AppxManifest.xml')) ? resolve('package') : null;
  const manifestPath = options.manifest ?? (packageDir ? join(packageDir, 'AppxManifest.xml') : identity ? join(identity.path, 'AppxManifest.xml') : null);
  let info: PackageManifestInfo | null = null;
  if (!manifestPath) add('manifest', 'skipped', 'no package folder (./package, or --package DIR), package identity or --manifest to read one from');
  else if (!existsSync(manifestPath)) add('manifest', 'error', `${manifestPath} does not exist (winbg package init writes it)`);
  else {
    info = (await guard('manifest', () => {
      const text = readFileSync(manifestPath, 'utf8');
      const read = readPackageManifest(text, manifestPath);
      add('manifest', 'ok', `${manifestPath}: package ${read.name} ${read.version} (${read.sparse ? 'sparse: the app\'s folder is its external location' : 'full'})`);
      if (clsids.length === 0) add('manifest', 'info', 'pass --clsid (or --module) to check that it declares each task\'s class');
      for (const clsid of clsids) {
        const result = checkManifest(text, { clsid });
        for (const finding of result.findings) if (finding.level !== 'ok') add('manifest', finding.level, finding.message);
        if (result.ok) add('manifest', 'ok', `declares ${clsid} in a com:ExeServer`);
      }
      return read;
    })) ?? null;
  }
  let registered: RegisteredPackage | null = null;
  const deployment = unavailable('Windows.Management.Deployment.PackageManager');
  if (!info) add('package registration', 'skipped', 'no manifest, so no package name to look for');
  else if (deployment) add('package registration', 'skipped', deployment);
  else {
    const manifest = info;
    registered = (await guard('package registration', () => {
      const found = findPackages(manifest.name);
      const match = found.find((p) => p.version === manifest.version && p.publisher === manifest.publisher) ?? null;
      if (match) add('package registration', 'ok', `${match.fullName} is registered for this user${match.externalPath ? `, external location ${match.externalPath}` : ''}`);
      else if (found.length > 0) add('package registration', 'warning', `${manifest.name} is registered as ${found.map((p) => `${p.version} (${p.publisher})`).join(', ')}, not as the manifest's ${manifest.version} (${manifest.publisher}): winbg package register`);
      else add('package registration', 'error', `${manifest.name} is not registered for this user: winbg package register (developer mode)`);
      return match;
    })) ?? null;
  }
  if (info && manifestPath) {
    const external = options.appDir !== undefined ? resolve(options.appDir) : registered?.externalPath || process.cwd();
    const base = info.sparse ? external : dirname(manifestPath);
    for (const executable of info.executables) {
      const file = executableFile(base, executable);
      if (existsSync(file) && statSync(file).isFile()) add('launcher', 'ok', `${file} exists`);
      else add('launcher', 'error', `the manifest's Executable ${executable} is not at ${file}: build it with winbg package init --launcher-from <runtime>.exe${info.sparse ? ' (in the app\'s folder, the external location)' : ''}`);
    }
  }

  // The registrations and their triggers, background access, SetTaskEntryPointClsid.
  const background = unavailable(`${NS}.BackgroundTaskRegistration`);
  if (background) add('registration', 'skipped', background);
  else {
    await guard('registration', () => {
      const registrations = listBackgroundTasks();
      if (registrations.length === 0) add('registration', 'warning', 'this app has no background task registrations: call registerBackgroundTask (winbg register)');
      for (const registration of registrations) {
        const trigger = (registration.raw as { Trigger?: { winrtType?: string } }).Trigger?.winrtType ?? 'unknown';
        const record = readRecord(registration.taskId);
        const comTask = record !== null && record.clsid !== '';
        if (comTask && !COM_TRIGGERS.has(trigger)) {
          add('trigger', 'error', `${registration.name}: ${trigger} with a COM entry point: ${explain(ERROR_NOT_SUPPORTED)}`);
        } else add('registration', 'ok', `${registration.name} (${registration.taskId}), trigger ${trigger}${comTask ? `, COM class ${record.clsid}` : ''}`);
      }
      if (options.name && !registrations.some((r) => r.name === options.name)) add('registration', 'error', `no registration named ${options.name}`);
    });
  }
  add('triggers', 'info', 'a task with a COM entry point (SetTaskEntryPointClsid) runs on TimeTrigger and MaintenanceTrigger; Windows refuses SystemTrigger and ApplicationTrigger for it with 0x80070032 (use timeTrigger() or maintenanceTrigger())');
  const access = unavailable(`${NS}.BackgroundExecutionManager`);
  if (access) add('background access', 'skipped', access);
  else {
    await guard('background access', () => {
      // GetAccessStatus, which changes nothing (RequestAccessAsync would ask for it).
      const status = backgroundAccessStatus();
      if (DENIED.has(status)) add('background access', 'error', `GetAccessStatus answers ${status}: the user or a policy turned background activity off for this app (Settings > Apps > the app > Background apps permissions, or Battery saver)`);
      else if (status === 'Unspecified') add('background access', 'warning', 'GetAccessStatus answers Unspecified: the app has not asked yet; call requestBackgroundAccess() (RequestAccessAsync), which Windows asks of an app before it registers background tasks');
      else add('background access', 'ok', `GetAccessStatus answers ${status}`);
    });
  }
  const api = unavailable('Windows.Foundation.Metadata.ApiInformation');
  if (api) add('SetTaskEntryPointClsid', 'skipped', api);
  else {
    await guard('SetTaskEntryPointClsid', () => {
      let present: boolean;
      try {
        present = runtimeClass<{ IsMethodPresent(type: string, method: string): boolean }>('Windows.Foundation.Metadata.ApiInformation').IsMethodPresent(`${NS}.BackgroundTaskBuilder`, 'SetTaskEntryPointClsid');
      } catch (error) {
        // Wine's ApiInformation answers E_NOTIMPL: nothing to conclude from.
        add('SetTaskEntryPointClsid', 'skipped', `ApiInformation.IsMethodPresent failed: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      if (present) add('SetTaskEntryPointClsid', 'ok', 'BackgroundTaskBuilder.SetTaskEntryPointClsid is present (Windows 10 2004 or later)');
      else add('SetTaskEntryPointClsid', 'error', 'BackgroundTaskBuilder.SetTaskEntryPointClsid is missing: a COM background task needs Windows 10 2004 (build 19041) or later');
    });
  }
  add('last result', 'info', 'Windows reports a run\'s result only to a Completed handler while the app runs: subscribe with registration.onCompleted (winbg list shows registrations)');
  return findings;
}

let regGetValue: ((...args: unknown[]) => number) | undefined;

/**
 * Developer mode: HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\AppModelUnlock's
 * AllowDevelopmentWithoutDevLicense is 1 ("Enable your device for development"), or the group
 * policy's (HKLM\SOFTWARE\Policies\Microsoft\Windows\Appx) is.
 */
function developerMode(add: (check: string, level: Finding['level'], message: string) => void): void {
  regGetValue ??= koffi.load('advapi32.dll').func('int32_t __stdcall RegGetValueW(intptr_t hkey, const char16_t *subKey, const char16_t *value, uint32_t flags, void *type, _Out_ uint32_t *data, _Inout_ uint32_t *size)') as (...args: unknown[]) => number;
  const HKEY_LOCAL_MACHINE = -0x7ffffffe; // (HKEY)(ULONG_PTR)(LONG)0x80000002, sign-extended (winreg.h)
  const RRF_RT_REG_DWORD = 0x10;
  const RRF_SUBKEY_WOW6464KEY = 0x10000; // the 64-bit view, from a 32-bit runtime too
  const read = (key: string): { code: number; on: boolean } => {
    const data: [number] = [0];
    const code = regGetValue!(HKEY_LOCAL_MACHINE, key, 'AllowDevelopmentWithoutDevLicense', RRF_RT_REG_DWORD | RRF_SUBKEY_WOW6464KEY, null, data, [4]);
    return { code, on: code === 0 && data[0] === 1 };
  };
  // The setting, or the group policy that turns it on (ERROR_FILE_NOT_FOUND, 2: not set).
  const setting = read('SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\AppModelUnlock');
  const policy = read('SOFTWARE\\Policies\\Microsoft\\Windows\\Appx');
  // A policy that is set decides, 0 included; the setting counts only without one.
  const on = policy.code === 0 ? policy.on : setting.on;
  if (on) add('developer mode', 'ok', `on${policy.code === 0 ? ' (by policy)' : ''}: a package folder registers loose (winbg package register)`);
  else if (policy.code === 0) add('developer mode', 'warning', 'off by group policy (Appx\\AllowDevelopmentWithoutDevLicense = 0): a loose registration (winbg package register) needs it; ask the machine\'s administrator');
  else add('developer mode', 'warning', `off${setting.code !== 0 && setting.code !== 2 ? ` (the registry answered Win32 error ${setting.code})` : ''}: a loose registration (winbg package register) needs it: Settings > System > For developers > Developer Mode`);
}
