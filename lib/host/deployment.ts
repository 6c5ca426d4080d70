// A stand-in for Windows.Management.Deployment.PackageManager (and RegisterPackageOptions,
// AddPackageOptions, and off Windows Windows.Foundation.Uri), so that package registration can be
// tested on any OS through the same projection winbg's registerPackage calls. What it enforces,
// and where each rule comes from (learn.microsoft.com/windows/win32/appxpkg/troubleshooting,
// "Common error codes"; "Grant identity to non-packaged apps"):
// - a loose registration needs developer mode (documented: ERROR_INSTALL_POLICY_FAILURE,
//   0x80073CFF, "a Windows developer license or a sideloading-enabled system"); refusing one
//   without RegisterPackageOptions.DeveloperMode with the same code is the stand-in's choice;
// - the manifest must be one (0x80073CF6, ERROR_INSTALL_REGISTRATION_FAILURE, with the reason
//   worded as Windows' "App manifest validation error: Line L, Column C, Reason: …");
// - a package that allows external content needs its ExternalLocationUri, a folder that holds
//   the executables the manifest names (documented for sparse packages; the code, 0x80073CF6, is
//   the stand-in's choice);
// - a loose registration of a version already registered re-registers it in place, as a
//   developer's edit-and-register loop does (the stand-in's understanding: Windows documents
//   ERROR_PACKAGE_ALREADY_EXISTS, 0x80073CFB, for a packed package that is not bitwise identical);
// - a lower version than the one registered is refused unless ForceUpdateFromAnyVersion is set
//   (documented: ERROR_INSTALL_PACKAGE_DOWNGRADE, 0x80073D06, "a higher version of this package is
//   already installed"; ForceUpdateFromAnyVersion "forces the update of a package from any
//   version", RegisterPackageOptions and AddPackageOptions);
// - a package whose processes run (DeploymentStandIn.running) is not replaced while they do
//   (documented, RegisterPackageOptions): with DeferRegistrationWhenPackagesAreInUse the new
//   registration waits until they end (DeploymentResult.IsRegistered false; `exited` ends them
//   and applies it), with ForceAppShutdown they are shut down, and with neither Windows refuses
//   with ERROR_PACKAGES_IN_USE (0x80073D02). The stand-in's own choices there: a same-version
//   re-registration counts as an update, ForceTargetAppShutdown acts as ForceAppShutdown, a
//   force wins over a deferral when both are set, and a second deferral replaces the first;
// - removing a package that is not registered is ERROR_INSTALL_PACKAGE_NOT_FOUND (0x80073CF1).
// A packed .msix is not opened: AddPackageByUriAsync fails with E_NOTIMPL, saying so.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../generated/descriptors.js';
import { Guid } from '../com/guid.js';
import {
  CLASS_E_CLASSNOTAVAILABLE, ComError, E_INVALIDARG, E_NOTIMPL, ERROR_INSTALL_PACKAGE_DOWNGRADE, ERROR_INSTALL_PACKAGE_NOT_FOUND, ERROR_INSTALL_POLICY_FAILURE, ERROR_INSTALL_REGISTRATION_FAILURE,
  ERROR_PACKAGES_IN_USE, REGDB_E_CLASSNOTREG, S_OK,
} from '../com/hresult.js';
import type { Com } from '../com/pointer.js';
import { isWindows } from '../ffi/koffi.js';
import { executableFile, readPackageManifest, type PackageManifestInfo } from '../manifest/package-info.js';
import { activationFactory, registerActivationFactory } from '../winrt/activation.js';
import { fromPromise } from '../winrt/async.js';
import { resolveType, type ResolvedInterface } from '../winrt/types.js';

const DEPLOYMENT = 'Windows.Management.Deployment';
const OPERATION = `Windows.Foundation.IAsyncOperationWithProgress\`2<${DEPLOYMENT}.DeploymentResult, ${DEPLOYMENT}.DeploymentProgress>`;
const ARCHITECTURES: Readonly<Record<string, number>> = { x86: 0, arm: 5, x64: 9, neutral: 11, arm64: 12 };

const interfaces = (...names: string[]): unknown[] => names.map((name) => (resolveType(name) as ResolvedInterface).iface);

/** A package the stand-in has registered. */
export interface StandInPackage {
  readonly fullName: string;
  readonly info: PackageManifestInfo;
  readonly manifestPath: string;
  readonly manifestText: string;
  readonly externalPath: string;
}

export interface DeploymentStandInOptions {
  /** Whether developer mode is on (default true): a loose registration needs it. */
  readonly developerMode?: boolean;
}

export interface DeploymentStandIn extends Disposable {
  /** Developer mode, changeable at any time. */
  developerMode: boolean;
  /** The registered packages, by full name. */
  readonly packages: ReadonlyMap<string, StandInPackage>;
  /** Package family names whose processes run (add one to model a running app): see {@link exited}. */
  readonly running: Set<string>;
  /** Registrations deferred until a family's processes end, by family name. */
  readonly deferred: ReadonlyMap<string, StandInPackage>;
  /** A family's processes ended: its deferred registration, if any, is applied (as Windows does then). */
  exited(familyName: string): void;
  /** Removes the factories. */
  close(): void;
}

/**
 * PublisherId: the first 8 bytes of SHA-256 of the publisher in UTF-16LE, in 13 characters of
 * Crockford's base32, lower case (the package family name's hash; a public algorithm, the same
 * PowerShell's Get-AppxPackage shows).
 */
export function publisherId(publisher: string): string {
  const digest = createHash('sha256').update(Buffer.from(publisher, 'utf16le')).digest();
  let bits = 0n;
  for (let i = 0; i < 8; i++) bits = (bits << 8n) | BigInt(digest[i]!);
  bits <<= 1n; // 64 bits padded to 65, 13 groups of 5
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  let text = '';
  for (let i = 12; i >= 0; i--) text += alphabet[Number((bits >> BigInt(i * 5)) & 31n)];
  return text;
}

/** Installs the stand-in's factories; close (or dispose) it to remove them. */
export function installDeploymentStandIn(options: DeploymentStandInOptions = {}): DeploymentStandIn {
  const packages = new Map<string, StandInPackage>();
  const state: StandInState = { developerMode: options.developerMode ?? true, running: new Set(), deferred: new Map() };
  const registrations: Disposable[] = [
    registerActivationFactory(`${DEPLOYMENT}.PackageManager`, () => ({ ActivateInstance: () => packageManager(packages, state) })),
    registerActivationFactory(`${DEPLOYMENT}.RegisterPackageOptions`, () => ({ ActivateInstance: () => optionsObject(['IRegisterPackageOptions', 'IRegisterPackageOptions2']) })),
    registerActivationFactory(`${DEPLOYMENT}.AddPackageOptions`, () => ({ ActivateInstance: () => optionsObject(['IAddPackageOptions', 'IAddPackageOptions2']) })),
  ];
  // Off Windows (and under Wine) there is no Uri class to take file: URIs; Windows' own is used where it exists.
  if (!hasClass('Windows.Foundation.Uri')) registrations.push(registerActivationFactory('Windows.Foundation.Uri', () => ({ CreateUri: (text: string) => uriObject(text) })));
  const close = (): void => {
    for (const registration of registrations.splice(0)) registration[Symbol.dispose]();
  };
  return {
    get developerMode() {
      return state.developerMode;
    },
    set developerMode(value: boolean) {
      state.developerMode = value;
    },
    packages,
    running: state.running,
    deferred: state.deferred,
    exited(familyName: string): void {
      state.running.delete(familyName);
      const pending = state.deferred.get(familyName);
      if (!pending) return;
      state.deferred.delete(familyName);
      install(packages, pending);
    },
    close,
    [Symbol.dispose]: close,
  };
}

interface StandInState {
  developerMode: boolean;
  readonly running: Set<string>;
  readonly deferred: Map<string, StandInPackage>;
}

/** A package family name: Name_PublisherId. */
function familyOf(info: PackageManifestInfo): string {
  return `${info.name}_${publisherId(info.publisher)}`;
}

/** Registers `entry` in place of every other version of its family: one per family, as Windows keeps. */
function install(packages: Map<string, StandInPackage>, entry: StandInPackage): void {
  const family = familyOf(entry.info);
  for (const [other, registered] of packages) if (other !== entry.fullName && familyOf(registered.info) === family) packages.delete(other);
  packages.set(entry.fullName, entry);
}

/** Whether the system activates `className` (a JS factory registered for it counts too). */
function hasClass(className: string): boolean {
  if (!isWindows) return false;
  try {
    activationFactory(className);
    return true;
  } catch (error) {
    if (error instanceof ComError && (error.hresult === REGDB_E_CLASSNOTREG || error.hresult === CLASS_E_CLASSNOTAVAILABLE)) return false;
    throw error;
  }
}

/** A Uri of the stand-in (IUriRuntimeClass, IStringable): what file: URIs need. */
function uriObject(text: string): object {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ComError(E_INVALIDARG, `Uri: ${JSON.stringify(text)} is not an absolute URI`);
  }
  return {
    interfaces: interfaces('Windows.Foundation.IUriRuntimeClass', 'Windows.Foundation.IStringable'),
    href: url.href,
    get_AbsoluteUri: () => url.href,
    get_RawUri: () => text,
    get_DisplayUri: () => url.href,
    get_SchemeName: () => url.protocol.slice(0, -1),
    get_Host: () => url.hostname,
    get_Path: () => url.pathname,
    get_Query: () => url.search,
    get_Fragment: () => url.hash,
    ToString: () => url.href,
  };
}

/** The href of a Uri argument: the stand-in's own, or any IUriRuntimeClass. */
function hrefOf(uri: Com | null, what: string): string {
  if (!uri) throw new ComError(E_INVALIDARG, `${what} is null`);
  try {
    const own = (uri.implementation as { href?: string } | undefined)?.href;
    return own ?? ((uri as unknown as { get_AbsoluteUri(): string }).get_AbsoluteUri());
  } finally {
    uri.dispose();
  }
}

/** RegisterPackageOptions / AddPackageOptions: their properties, kept. */
function optionsObject(names: string[]): object {
  const values = new Map<string, unknown>();
  const object: Record<string, unknown> = { interfaces: interfaces(...names.map((name) => `${DEPLOYMENT}.${name}`)), values };
  for (const name of ['DeveloperMode', 'ForceAppShutdown', 'ForceTargetAppShutdown', 'ForceUpdateFromAnyVersion', 'InstallAllResources', 'StageInPlace', 'AllowUnsigned', 'DeferRegistrationWhenPackagesAreInUse', 'RequiredContentGroupOnly', 'RetainFilesOnFailure', 'ExpectedDigests', 'LimitToExistingPackages']) {
    object[`get_${name}`] = () => Boolean(values.get(name));
    object[`put_${name}`] = (value: boolean) => void values.set(name, Boolean(value));
  }
  object.get_ExternalLocationUri = () => null;
  object.put_ExternalLocationUri = (uri: Com | null) => void values.set('ExternalLocationUri', uri ? hrefOf(uri, 'ExternalLocationUri') : null);
  return object;
}

/** The values a caller set on an options object of the stand-in's. */
function settingsOf(settings: Com | null): Map<string, unknown> {
  if (!settings) return new Map();
  try {
    const values = (settings.implementation as { values?: Map<string, unknown> } | undefined)?.values;
    if (!values) throw new ComError(E_INVALIDARG, 'the options object is not one the stand-in made (RegisterPackageOptions.create())');
    return values;
  } finally {
    settings.dispose();
  }
}

function deploymentResult(hresult: number, errorText: string, registered: boolean): object {
  const activityId = Guid.parse(randomUUID());
  return {
    interfaces: interfaces(`${DEPLOYMENT}.IDeploymentResult`, `${DEPLOYMENT}.IDeploymentResult2`),
    get_ErrorText: () => errorText,
    get_ActivityId: () => activityId,
    get_ExtendedErrorCode: () => ({ Value: hresult }),
    get_IsRegistered: () => registered,
  };
}

/** The deployment operation: queued, processing, then `work`'s result (whether the package is registered now) or failure. */
function operation(work: () => boolean): Com {
  return fromPromise(async (report) => {
    await Promise.resolve(); // as Windows' do, reports come after the caller has set its handlers
    report({ state: 0, percentage: 0 });
    await Promise.resolve();
    report({ state: 1, percentage: 50 });
    const registered = work();
    return deploymentResult(S_OK, '', registered);
  }, OPERATION);
}

function packageObject(entry: StandInPackage): object {
  const { info } = entry;
  const [major = 0, minor = 0, build = 0, revision = 0] = info.version.split('.').map(Number);
  const id = {
    interfaces: interfaces('Windows.ApplicationModel.IPackageId'),
    get_Name: () => info.name,
    get_Version: () => ({ Major: major, Minor: minor, Build: build, Revision: revision }),
    get_Architecture: () => ARCHITECTURES[info.architecture] ?? 11,
    get_ResourceId: () => '',
    get_Publisher: () => info.publisher,
    get_PublisherId: () => publisherId(info.publisher),
    get_FullName: () => entry.fullName,
    get_FamilyName: () => familyOf(info),
  };
  return {
    interfaces: interfaces('Windows.ApplicationModel.IPackage', 'Windows.ApplicationModel.IPackage2', 'Windows.ApplicationModel.IPackage8'),
    get_Id: () => id,
    get_IsFramework: () => false,
    get_IsDevelopmentMode: () => true,
    get_InstalledPath: () => dirname(entry.manifestPath),
    get_EffectiveExternalPath: () => entry.externalPath,
  };
}

function packageManager(packages: Map<string, StandInPackage>, state: StandInState): object {
  return {
    interfaces: interfaces(`${DEPLOYMENT}.IPackageManager`, `${DEPLOYMENT}.IPackageManager9`),
    RegisterPackageByUriAsync(manifestUri: Com | null, settings: Com | null): Com {
      const href = hrefOf(manifestUri, 'manifestUri');
      const values = settingsOf(settings);
      return operation(() => register(packages, state, href, values));
    },
    AddPackageByUriAsync(packageUri: Com | null, settings: Com | null): Com {
      hrefOf(packageUri, 'packageUri');
      settingsOf(settings);
      throw new ComError(E_NOTIMPL, 'AddPackageByUriAsync: the deployment stand-in does not open packed packages (.msix); register the package\'s folder');
    },
    RemovePackageAsync(fullName: string): Com {
      return operation(() => {
        if (!packages.delete(fullName)) throw new ComError(ERROR_INSTALL_PACKAGE_NOT_FOUND, `Removal failed. Package ${fullName} is not installed for the current user (0x80073CF1).`);
        return false;
      });
    },
    // FindPackagesForUser(string) in the projection; its ABI name.
    FindPackagesByUserSecurityId(userSecurityId: string): object[] {
      if (userSecurityId !== '') throw new ComError(E_INVALIDARG, 'FindPackagesForUser: the stand-in knows the current user only (\'\')');
      return [...packages.values()].map(packageObject);
    },
  };
}

/** Package versions (Major.Minor.Build.Revision) compared part by part: negative, 0 or positive. */
function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * A loose registration: true when registered now, false when deferred until the package's
 * processes end. Each refusal is a ComError whose detail is the text DeploymentResult.ErrorText would carry.
 */
function register(packages: Map<string, StandInPackage>, state: StandInState, href: string, values: Map<string, unknown>): boolean {
  if (!values.get('DeveloperMode')) throw new ComError(ERROR_INSTALL_POLICY_FAILURE, 'Deployment Register operation rejected: registering a package from its manifest needs RegisterPackageOptions.DeveloperMode (0x80073CFF).');
  if (!state.developerMode) throw new ComError(ERROR_INSTALL_POLICY_FAILURE, 'Deployment Register operation rejected: developer mode is off; a loose registration needs it (0x80073CFF).');
  if (!href.startsWith('file:')) throw new ComError(ERROR_INSTALL_REGISTRATION_FAILURE, `the manifest URI ${href} is not a file: URI`);
  const path = fileURLToPath(href);
  if (!existsSync(path)) throw new ComError(ERROR_INSTALL_REGISTRATION_FAILURE, `error 0x80070002: the manifest ${path} was not found.`);
  const text = readFileSync(path, 'utf8');
  let info: PackageManifestInfo;
  try {
    info = readPackageManifest(text, path);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = /:(\d+):(\d+): (.*)$/s.exec(message) ?? /:(\d+): (.*)$/s.exec(message);
    throw new ComError(ERROR_INSTALL_REGISTRATION_FAILURE, `error 0x80080204: App manifest validation error: ${at ? `Line ${at[1]}, ${at.length === 4 ? `Column ${at[2]}, ` : ''}Reason: ${at[at.length - 1]}` : message}`);
  }
  const external = values.get('ExternalLocationUri') as string | null | undefined;
  let externalPath = '';
  if (info.sparse) {
    if (!external) throw new ComError(ERROR_INSTALL_REGISTRATION_FAILURE, 'the package allows external content (uap10:AllowExternalContent) but no ExternalLocationUri was given.');
    externalPath = fileURLToPath(external);
    if (!existsSync(externalPath) || !statSync(externalPath).isDirectory()) throw new ComError(ERROR_INSTALL_REGISTRATION_FAILURE, `the external location ${externalPath} is not a folder.`);
    for (const executable of info.executables) {
      const file = executableFile(externalPath, executable);
      if (!existsSync(file)) throw new ComError(ERROR_INSTALL_REGISTRATION_FAILURE, `error 0x80070002: the executable ${executable} is not in the external location ${externalPath}.`);
    }
  }
  const fullName = `${info.name}_${info.version}_${info.architecture}__${publisherId(info.publisher)}`;
  // Another version of the same package (name and publisher) is replaced: one per family; a
  // higher one only when the caller forces it.
  const familyName = familyOf(info);
  const family = [...packages.values()].filter((registered) => registered.fullName !== fullName && familyOf(registered.info) === familyName);
  const higher = family.find((registered) => compareVersions(registered.info.version, info.version) > 0);
  if (higher && !values.get('ForceUpdateFromAnyVersion')) {
    throw new ComError(ERROR_INSTALL_PACKAGE_DOWNGRADE, `Windows cannot install package ${fullName} because it has version ${info.version}. A higher version ${higher.info.version} of this package is already installed (0x80073D06).`);
  }
  const entry: StandInPackage = { fullName, info, manifestPath: path, manifestText: text, externalPath };
  if (state.running.has(familyName) && (family.length > 0 || packages.has(fullName))) {
    if (values.get('ForceAppShutdown') || values.get('ForceTargetAppShutdown')) state.running.delete(familyName);
    else if (values.get('DeferRegistrationWhenPackagesAreInUse')) {
      state.deferred.set(familyName, entry);
      return false;
    } else {
      throw new ComError(ERROR_PACKAGES_IN_USE, `Deployment Register operation on package ${fullName} failed: the package's processes are running, and neither DeferRegistrationWhenPackagesAreInUse nor ForceAppShutdown was set (0x80073D02).`);
    }
  }
  install(packages, entry);
  return true;
}
