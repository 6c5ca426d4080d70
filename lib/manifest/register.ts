// Registering a package with Windows, so that the app gets its identity and COM finds its
// com:ExeServer: what `winbg package register | unregister | status` do, through winbg's own
// projection of Windows.Management.Deployment.PackageManager (lib/generated).
//
// A folder (what `winbg package init` wrote) is registered loose, in developer mode:
// RegisterPackageByUriAsync(AppxManifest.xml, RegisterPackageOptions { DeveloperMode,
// ExternalLocationUri for a sparse package, DeferRegistrationWhenPackagesAreInUse }), as
// `Add-AppxPackage -Register AppxManifest.xml -ExternalLocation DIR` does. A packed .msix (signed,
// or unsigned with the OID publisher on Windows 11) is added with AddPackageByUriAsync
// (AddPackageOptions { ExternalLocationUri, AllowUnsigned, DeferRegistrationWhenPackagesAreInUse }).
// learn.microsoft.com/uwp/api/windows.management.deployment.packagemanager,
// learn.microsoft.com/windows/apps/desktop/modernize/grant-identity-to-nonpackaged-apps.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  APPMODEL_ERROR_NO_PACKAGE, CERT_E_UNTRUSTEDROOT, CLASS_E_CLASSNOTAVAILABLE, ComError, ERROR_INSTALL_FAILED, ERROR_INSTALL_OPEN_PACKAGE_FAILED,
  ERROR_INSTALL_PACKAGE_DOWNGRADE, ERROR_INSTALL_POLICY_FAILURE, ERROR_INSTALL_REGISTRATION_FAILURE, ERROR_INSTALL_RESOLVE_DEPENDENCY_FAILED, ERROR_PACKAGE_ALREADY_EXISTS,
  ERROR_PACKAGES_IN_USE, hr, hresultHex, hresultMessage, REGDB_E_CLASSNOTREG, TRUST_E_NOSIGNATURE,
} from '../com/hresult.js';
import { Uri } from '../generated/Windows.Foundation.js';
import { AddPackageOptions, PackageManager, RegisterPackageOptions, type DeploymentProgress, type DeploymentResult } from '../generated/Windows.Management.Deployment.js';
import type { Package } from '../generated/Windows.ApplicationModel.js';
import { asPromise } from '../winrt/async.js';
import { executableFile, readPackageManifest, type PackageManifestInfo } from './package-info.js';

export type { PackageManifestInfo };

/** Bad input to registerPackage (a TypeError that names the option), before Windows is asked. */
export class PackageInputError extends TypeError {
  override readonly name = 'PackageInputError';
}

export interface PackageRegistrationOptions {
  /** The package: its folder (holding AppxManifest.xml, as `winbg package init` writes it) or a packed .msix/.appx file. */
  readonly package: string;
  /**
   * A sparse package's external location: the app's folder, which holds the launcher the
   * manifest's Executable names (default: the current folder). Ignored for a full package.
   */
  readonly externalLocation?: string;
  /** For a .msix: let Windows 11 add it unsigned (its Publisher must carry the OID of unsignedPublisher()). */
  readonly allowUnsigned?: boolean;
  /**
   * Replace a higher registered version of the package with this lower one (ForceUpdateFromAnyVersion);
   * without it Windows refuses a downgrade with ERROR_INSTALL_PACKAGE_DOWNGRADE (0x80073D06).
   */
  readonly allowDowngrade?: boolean;
  /** Told of Windows' progress: a percentage from 0 to 100 and its state. */
  readonly onProgress?: (progress: { percent: number; state: 'queued' | 'processing' | 'completed' }) => void;
  /** Cancels the deployment (IAsyncInfo.Cancel). */
  readonly signal?: AbortSignal;
}

/** A package Windows has registered for this user. */
export interface RegisteredPackage {
  readonly fullName: string;
  readonly name: string;
  readonly publisher: string;
  readonly version: string;
  readonly installedPath: string;
  /** A sparse package's external location ('' for a full package). */
  readonly externalPath: string;
  /** Registered loose, in developer mode. */
  readonly developmentMode: boolean;
}

/** What an HRESULT of package deployment means, with the fix; undefined for others. */
export function explainDeployment(hresult: number, className = 'Windows.Management.Deployment.PackageManager'): string | undefined {
  switch (hr(hresult)) {
    // (the codes: learn.microsoft.com/windows/win32/appxpkg/troubleshooting, winerror.h)
    case ERROR_INSTALL_OPEN_PACKAGE_FAILED:
      return 'Windows could not open the package (0x80073CF0, ERROR_INSTALL_OPEN_PACKAGE_FAILED): it is unsigned, its Publisher does not match the signing certificate\'s subject, or the file is not where it was given';
    case ERROR_INSTALL_RESOLVE_DEPENDENCY_FAILED:
      return 'the package failed update, dependency or conflict validation (0x80073CF3): it conflicts with an installed package (unregister it first), a dependency is missing, or its ProcessorArchitecture does not match this machine';
    case ERROR_INSTALL_REGISTRATION_FAILURE:
      return 'Windows could not register the package (0x80073CF6, ERROR_INSTALL_REGISTRATION_FAILURE): most often the manifest is not valid; Windows\' text below names the line and the rule (`winbg doctor --package DIR --clsid GUID` checks what winbg knows of; `winbg package init` writes a valid one)';
    case ERROR_INSTALL_FAILED:
      return 'the installation failed (0x80073CF9, ERROR_INSTALL_FAILED); Windows\' text below says why (Get-AppxLog in PowerShell shows the deployment log)';
    case ERROR_PACKAGE_ALREADY_EXISTS:
      return 'this version of the package is already registered with other contents (0x80073CFB, ERROR_PACKAGE_ALREADY_EXISTS): raise its Version (winbg package init --version) or `winbg package unregister` it first';
    case ERROR_INSTALL_POLICY_FAILURE:
      return 'Windows\' policy refused the package (0x80073CFF, ERROR_INSTALL_POLICY_FAILURE): a loose registration needs developer mode (Settings > System > For developers > Developer Mode), a package from elsewhere a trusted signature';
    case ERROR_INSTALL_PACKAGE_DOWNGRADE:
      return 'a higher version of this package is registered (0x80073D06, ERROR_INSTALL_PACKAGE_DOWNGRADE): raise the manifest\'s Version above it (winbg package init --version), `winbg package unregister` the other first, or allow the downgrade (allowDowngrade, --allow-downgrade: ForceUpdateFromAnyVersion)';
    case ERROR_PACKAGES_IN_USE:
      return 'the package is in use (0x80073D02, ERROR_PACKAGES_IN_USE): close the app (its server process too) and try again';
    case APPMODEL_ERROR_NO_PACKAGE:
      return 'the process has no package identity (0x80073D54, APPMODEL_ERROR_NO_PACKAGE): a sparse package gives its identity only to an executable whose embedded <msix> element names the package\'s Publisher, Name and application Id exactly, from its external location; start the launcher `winbg package init` built (again, after a change of identity)';
    case CERT_E_UNTRUSTEDROOT:
      return 'the package\'s certificate is not trusted (0x800B0109, CERT_E_UNTRUSTEDROOT): install it in Local Machine > Trusted People, or register the folder loose in developer mode instead';
    case TRUST_E_NOSIGNATURE:
      return 'the package is not signed (0x800B0100, TRUST_E_NOSIGNATURE): sign it, add it with allowUnsigned (Windows 11, with the unsigned Publisher OID), or register the folder loose in developer mode';
    case REGDB_E_CLASSNOTREG:
    case CLASS_E_CLASSNOTAVAILABLE:
      return `${className} is not available here: package registration needs Windows 10 2004 or later (Wine 8 has no Windows.Management.Deployment, Wine 10 a PackageManager without RegisterPackageOptions)`;
    default:
      return undefined;
  }
}

/** Errors deploymentError made: not explained a second time by an outer call. */
const explainedErrors = new WeakSet<object>();

/** The error of a failed deployment: Windows' HRESULT, what it means, and Windows' own text. */
function deploymentError(what: string, error: unknown, operation?: { result: DeploymentResult | null }): unknown {
  if (!(error instanceof ComError) || explainedErrors.has(error)) return error;
  if (!operation && explainDeployment(error.hresult) === undefined) return error;
  const result = operation?.result;
  let hresult = error.hresult;
  let text = '';
  try {
    if (result) {
      const extended = result.ExtendedErrorCode as unknown as { Value: number } | number;
      const code = typeof extended === 'number' ? extended : extended.Value;
      if (code) hresult = code;
      text = result.ErrorText;
    } else if (operation && error.detail && !/the asynchronous operation failed/.test(error.detail)) {
      text = error.detail.replace(/^calling .*?\.GetResults: /, ''); // the operation's own error, where its implementation gave one
    }
  } catch {
    // the result itself is unreadable: the HRESULT is what there is
  }
  const explanation = explainDeployment(hresult, /^[A-Z]\w*(\.\w+)+$/.test(what) ? what : undefined) ?? `the deployment failed with ${hresultHex(hresult)} (${hresultMessage(hresult)})`;
  const explainedError = new ComError(hresult, `${what}: ${explanation}${text ? `\nWindows says: ${text.trim()}` : ''}`, { cause: error });
  explainedErrors.add(explainedError);
  return explainedError;
}

/** Runs `action`, turning a ComError into one that says what it means. */
function explained<T>(what: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    throw deploymentError(what, error);
  }
}

function fileUri(path: string): Uri {
  return explained('Windows.Foundation.Uri', () => Uri.create(pathToFileURL(path).href));
}

/** Awaits a deployment operation, with progress, and turns its failure into an explained ComError. */
async function deployment(what: string, start: () => object, options: Pick<PackageRegistrationOptions, 'onProgress' | 'signal'>): Promise<DeploymentResult> {
  const operation = explained(what, start) as object & { GetResults(): DeploymentResult };
  const { onProgress } = options;
  let result: DeploymentResult;
  try {
    result = await asPromise<DeploymentResult, DeploymentProgress>(operation, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(onProgress ? { onProgress: (progress) => onProgress({ percent: progress.percentage, state: progress.state === 0 ? 'queued' : 'processing' }) } : {}),
    });
  } catch (error) {
    if (options.signal?.aborted && error === options.signal.reason) throw error;
    let result: DeploymentResult | null = null;
    try {
      result = operation.GetResults();
    } catch {
      // a failed operation may give no result
    }
    throw deploymentError(what, error, { result });
  }
  onProgress?.({ percent: 100, state: 'completed' });
  return result;
}

/**
 * Whether Windows registered the package now: with DeferRegistrationWhenPackagesAreInUse it waits
 * for the app's processes to exit (DeploymentResult.IsRegistered false, IDeploymentResult2).
 */
function registeredNow(result: DeploymentResult): boolean {
  try {
    return (result as unknown as { IsRegistered: boolean }).IsRegistered !== false;
  } catch {
    return true; // before Windows 10 1809 there is no IsRegistered: no deferral either
  }
}

/**
 * Registers a package for this user: a folder loose in developer mode, a .msix added. Checks
 * what it can first (the manifest reads, a sparse package's external location holds its
 * executables), so that most mistakes are refused before Windows is asked.
 *
 * Resolves with the registered package; for a .msix, the package this user did not have before
 * (null when none or several are new: it was registered already, or something else was installed meanwhile).
 *
 * @throws TypeError naming the option when the input is wrong; ComError with Windows' HRESULT,
 *   what it means and Windows' own text when Windows refuses.
 */
export async function registerPackage(options: PackageRegistrationOptions): Promise<RegisteredPackage | null> {
  if (typeof options !== 'object' || options === null) throw new PackageInputError('registerPackage: expected options { package, externalLocation?, allowUnsigned?, allowDowngrade?, onProgress?, signal? }');
  if (typeof options.package !== 'string' || options.package === '') throw new PackageInputError('registerPackage: package must be the package\'s folder (with AppxManifest.xml) or a .msix file');
  const path = resolve(options.package);
  if (!existsSync(path)) throw new PackageInputError(`registerPackage: package ${path} does not exist (run \`winbg package init\` first, or give its --out folder)`);
  const packed = statSync(path).isFile();
  if (packed && !/\.(msix|appx)$/i.test(path)) throw new PackageInputError(`registerPackage: package ${path} is a file but not a .msix or .appx; give the package's folder (with AppxManifest.xml) or a packed package`);
  const manifestPath = packed ? null : join(path, 'AppxManifest.xml');
  if (manifestPath && !existsSync(manifestPath)) throw new PackageInputError(`registerPackage: ${path} holds no AppxManifest.xml (run \`winbg package init --out ${path}\`)`);
  let info: PackageManifestInfo | null = null;
  try {
    info = manifestPath ? readPackageManifest(readFileSync(manifestPath, 'utf8'), manifestPath) : null;
  } catch (error) {
    throw error instanceof TypeError ? new PackageInputError(error.message) : error;
  }
  const external = options.externalLocation === undefined ? process.cwd() : resolve(options.externalLocation);
  const sparse = info ? info.sparse : options.externalLocation !== undefined;
  if (sparse) {
    if (!existsSync(external) || !statSync(external).isDirectory()) throw new PackageInputError(`registerPackage: externalLocation ${external} is not a folder (the app's folder, which holds the launcher)`);
    for (const executable of info?.executables ?? []) {
      const file = executableFile(external, executable);
      if (!existsSync(file)) throw new PackageInputError(`registerPackage: the manifest's Executable ${executable} is not in the external location ${external} (build the launcher with \`winbg package init --launcher-from …\`, or give externalLocation)`);
    }
  }
  const manager = explained('Windows.Management.Deployment.PackageManager', () => PackageManager.create());
  // A .msix's identity is inside it: the package it adds is the one this user did not have before.
  const before = info ? null : new Set(userPackages(manager).map((item) => item.Id.FullName));
  let result: DeploymentResult;
  if (manifestPath) {
    const settings = explained('Windows.Management.Deployment.RegisterPackageOptions', () => RegisterPackageOptions.create());
    settings.DeveloperMode = true;
    settings.DeferRegistrationWhenPackagesAreInUse = true;
    if (options.allowDowngrade) settings.ForceUpdateFromAnyVersion = true;
    if (sparse) settings.ExternalLocationUri = fileUri(external);
    result = await deployment('RegisterPackageByUriAsync', () => manager.RegisterPackageByUriAsync(fileUri(manifestPath), settings), options);
  } else {
    const settings = explained('Windows.Management.Deployment.AddPackageOptions', () => AddPackageOptions.create());
    settings.DeferRegistrationWhenPackagesAreInUse = true;
    if (options.allowUnsigned) settings.AllowUnsigned = true;
    if (options.allowDowngrade) settings.ForceUpdateFromAnyVersion = true;
    if (sparse) settings.ExternalLocationUri = fileUri(external);
    result = await deployment('AddPackageByUriAsync', () => manager.AddPackageByUriAsync(fileUri(path), settings), options);
  }
  if (!registeredNow(result)) throw new ComError(ERROR_PACKAGES_IN_USE, 'registerPackage: Windows deferred the registration until the package\'s processes exit (DeferRegistrationWhenPackagesAreInUse): close the app, its server process too; the new version is registered then');
  if (!info) {
    // Exactly one new package is ours; none (it was registered already) or several (something
    // else was installed meanwhile) cannot be told apart.
    const added = allPackages(manager).filter((p) => !before!.has(p.fullName));
    return added.length === 1 ? added[0]! : null;
  }
  const found = findPackages(info.name, manager).find((p) => p.publisher === info.publisher && p.version === info.version);
  if (!found) throw new ComError(ERROR_INSTALL_REGISTRATION_FAILURE, `registerPackage: Windows reported success, but no package ${info.name} ${info.version} of ${info.publisher} is registered for this user`);
  return found;
}

/** This user's packages, as Windows gives them (FindPackagesForUser with the current user, ''). */
function userPackages(manager: PackageManager): Package[] {
  return [...explained('FindPackagesForUser', () => manager.FindPackagesForUser(''))] as Package[];
}

/** This user's packages, each read whole. */
function allPackages(manager: PackageManager): RegisteredPackage[] {
  return userPackages(manager).map(describePackage);
}

/** The packages of `name` registered for this user (FindPackagesForUser with the current user). */
export function findPackages(name: string, manager?: PackageManager): RegisteredPackage[] {
  if (typeof name !== 'string' || name === '') throw new TypeError('findPackages: name must be a package\'s identity name (e.g. Contoso.PrimeApp)');
  // Windows has no lookup by name alone (FindPackages wants the publisher too).
  return allPackages(manager ?? explained('Windows.Management.Deployment.PackageManager', () => PackageManager.create())).filter((p) => p.name === name);
}

function describePackage(item: Package): RegisteredPackage {
  const id = item.Id;
  const v = id.Version;
  // A property older Windows lacks (or a package does not answer): its fallback.
  const optional = <T>(read: () => T, fallback: T): T => {
    try {
      return read();
    } catch {
      return fallback;
    }
  };
  return {
    fullName: id.FullName,
    name: id.Name,
    publisher: id.Publisher,
    version: `${v.Major}.${v.Minor}.${v.Build}.${v.Revision}`,
    installedPath: optional(() => item.InstalledPath, ''),
    externalPath: optional(() => item.EffectiveExternalPath, ''),
    developmentMode: optional(() => item.IsDevelopmentMode, false),
  };
}

/**
 * Removes this user's registrations of package `name` (RemovePackageAsync, each full name);
 * returns what was removed (nothing when none was registered).
 */
export async function unregisterPackage(name: string, options: Pick<PackageRegistrationOptions, 'onProgress' | 'signal'> = {}): Promise<RegisteredPackage[]> {
  const manager = explained('Windows.Management.Deployment.PackageManager', () => PackageManager.create());
  const found = findPackages(name, manager);
  for (const entry of found) await deployment('RemovePackageAsync', () => manager.RemovePackageAsync(entry.fullName), options);
  return found;
}
