// A complete package manifest (AppxManifest.xml) for an app whose background tasks winbg serves:
// a sparse package (a package with an external location: the app's folder stays where it is,
// "Grant package identity by packaging with external location") or a full MSIX layout. Element
// order and attribute rules are those of the package manifest schema (foundation, uap, uap10,
// rescap, com) that ../shared/appx-schema validates against; Windows' own rules beyond the schema
// (mediumIL needs AllowExternalContent in a sparse package, an unsigned package's publisher) are
// checked here too, before anything is written.
import { Guid } from '../com/guid.js';
import { argumentsProblem, comServerClasses, DEFAULT_ACTIVATION_ARGUMENT, displayNameProblem, escapeAttribute, executableProblem, parseClsid } from './com-server.js';
import { COM_NAMESPACE, FOUNDATION_NAMESPACE } from './namespaces.js';

export const UAP_NAMESPACE = 'http://schemas.microsoft.com/appx/manifest/uap/windows10';
export const UAP10_NAMESPACE = 'http://schemas.microsoft.com/appx/manifest/uap/windows10/10';
export const RESCAP_NAMESPACE = 'http://schemas.microsoft.com/appx/manifest/foundation/windows10/restrictedcapabilities';

/**
 * The attribute Windows 11 looks for in the Publisher of an unsigned package ("Create an
 * unsigned package": OID 2.25.311729368913984317654407730594956997722 with the value 1); such a
 * package registers without a signature, in developer mode.
 */
export const UNSIGNED_PUBLISHER_OID = 'OID.2.25.311729368913984317654407730594956997722=1';

/** The oldest Windows 10 winbg's tasks run on: 2004 (build 19041), which has SetTaskEntryPointClsid. */
export const MIN_WINDOWS_VERSION = '10.0.19041.0';
/** The newest Windows the manifest says it was tested on (Windows 11 24H2). */
export const MAX_VERSION_TESTED = '10.0.26100.0';

/** The logo files every manifest names, relative to the package root (the layout writes them). */
export const LOGOS = {
  store: 'Assets\\StoreLogo.png',
  square150: 'Assets\\Square150x150Logo.png',
  square44: 'Assets\\Square44x44Logo.png',
} as const;

/** A task the package's COM server serves: its class. */
export interface PackageTask {
  readonly clsid: Guid | string;
  /** The com:Class DisplayName; default `task <n>`. */
  readonly displayName?: string;
}

export interface PackageManifestOptions {
  /** Identity Name: 3–50 characters of A–Z, a–z, 0–9, '.' and '-', e.g. `Contoso.PrimeApp`. */
  readonly name: string;
  /** The app's display name (Properties, VisualElements). */
  readonly displayName: string;
  /** Properties/PublisherDisplayName. */
  readonly publisherDisplayName: string;
  /**
   * Identity Publisher: the certificate's subject, e.g. `CN=Contoso, O=Contoso, C=US`, which must
   * match the signing certificate's. Default: an unsigned package's publisher,
   * `CN=<publisherDisplayName>, OID.2.25.311729368913984317654407730594956997722=1`.
   */
  readonly publisher?: string;
  /** Identity Version: four numbers 0–65535, e.g. `1.0.0.0` (default). */
  readonly version?: string;
  /** Identity ProcessorArchitecture: x64, x86, arm64 or neutral; default neutral (sparse) or this machine's (full). */
  readonly architecture?: 'x64' | 'x86' | 'arm64' | 'neutral';
  /** 'sparse' (default): the exe stays in the app's folder (the external location); 'full': everything in the package. */
  readonly layout?: 'sparse' | 'full';
  /** The launcher COM starts, relative to the package root (full) or the external location (sparse), e.g. `winbg-node.exe`. */
  readonly executable: string;
  /** The runtime the launcher is a copy of: node (default), bun or deno (which needs `run -A` first). */
  readonly runtime?: 'node' | 'bun' | 'deno';
  /**
   * The app's script that serves the tasks, as the runtime is to find it: absolute for a sparse
   * package (COM starts the server in C:\\Windows\\System32, where a relative path would be
   * looked for), e.g. `C:\\Apps\\Primes\\app.js`.
   */
  readonly script: string;
  /** The argument the server looks for (serve's `argument`); default `-StartSampleTaskServer`. */
  readonly activationArgument?: string;
  /** The tasks, one com:Class each; CLSIDs unique. */
  readonly tasks: readonly PackageTask[];
  /** Application Id; default `App`. */
  readonly applicationId?: string;
  /** VisualElements Description; default `Background tasks of <displayName>`. */
  readonly description?: string;
}

/** A manifest and what it was made from, for writing the layout and registering it. */
export interface PackageManifest {
  readonly xml: string;
  readonly identity: { readonly name: string; readonly publisher: string; readonly version: string; readonly architecture: string };
  readonly applicationId: string;
  readonly layout: 'sparse' | 'full';
  readonly executable: string;
  /** The ExeServer's Arguments, as COM passes them (before its own -Embedding). */
  readonly arguments: string;
}

/**
 * The AppxManifest.xml of a package whose COM server (the launcher running the app's script)
 * serves `tasks`.
 *
 * @throws TypeError naming the option and the rule it breaks; nothing is returned half-made.
 */
export function packageManifest(options: PackageManifestOptions): PackageManifest {
  if (typeof options !== 'object' || options === null) throw new TypeError('packageManifest: expected an options object { name, displayName, publisherDisplayName, executable, script, tasks }');
  const invalid = (option: string, problem: string, value: unknown): TypeError => new TypeError(`packageManifest: ${option} ${problem}; got ${show(value)}`);
  const check = (option: string, value: unknown, problem: string | null): void => {
    if (problem) throw invalid(option, problem, value);
  };

  check('name', options.name, packageNameProblem(options.name));
  check('displayName', options.displayName, textProblem(options.displayName, 256) ?? (/\\/.test(options.displayName) ? 'cannot contain \\ (the schema\'s ST_NonPathDisplayName)' : null));
  check('publisherDisplayName', options.publisherDisplayName, textProblem(options.publisherDisplayName, 256));
  if (options.publisher === undefined && options.publisherDisplayName.includes('"')) {
    throw invalid('publisherDisplayName', 'cannot make the unsigned publisher (CN=…) with a double quote in it: give publisher yourself', options.publisherDisplayName);
  }
  const publisher = options.publisher ?? unsignedPublisher(options.publisherDisplayName);
  check(options.publisher === undefined ? 'publisherDisplayName' : 'publisher', publisher, publisherProblem(publisher));
  const version = options.version ?? '1.0.0.0';
  check('version', version, versionProblem(version));
  const layout = options.layout ?? 'sparse';
  check('layout', layout, layout === 'sparse' || layout === 'full' ? null : "must be 'sparse' or 'full'");
  // A sparse package holds no binaries (the launcher is in the external location): neutral, as
  // Microsoft's sample has it. A full one holds the launcher: this machine's.
  const architecture = options.architecture ?? (layout === 'sparse' ? 'neutral' : machineArchitecture());
  check('architecture', architecture, ['x64', 'x86', 'arm64', 'neutral'].includes(architecture) ? null : 'must be x64, x86, arm64 or neutral');
  check('executable', options.executable, executableProblem(options.executable) ?? packagePathProblem(options.executable));
  const runtime = options.runtime ?? 'node';
  check('runtime', runtime, ['node', 'bun', 'deno'].includes(runtime) ? null : 'must be node, bun or deno');
  check('script', options.script, scriptProblem(options.script));
  const activationArgument = options.activationArgument ?? DEFAULT_ACTIVATION_ARGUMENT;
  check('activationArgument', activationArgument, /^[^\s"]+$/.test(activationArgument) ? null : 'must be one argument without white space or double quotes, e.g. -StartSampleTaskServer');
  const args = serverArguments(runtime, options.script, activationArgument);
  check('script', options.script, argumentsProblem(args));
  const applicationId = options.applicationId ?? 'App';
  check('applicationId', applicationId, applicationIdProblem(applicationId));
  const description = options.description ?? `Background tasks of ${options.displayName}`;
  check('description', description, textProblem(description, 2048) ?? (/[\u0000-\u001f\u007f-\u009f]/.test(description) ? 'cannot contain control characters, tabs and line breaks included (the schema\'s ST_Description)' : null));
  if (!Array.isArray(options.tasks) || options.tasks.length === 0) throw invalid('tasks', 'must be a non-empty array of { clsid, displayName? }', options.tasks);
  const seen = new Map<string, number>();
  const classes = options.tasks.map((task, index) => {
    if (typeof task !== 'object' || task === null) throw invalid(`tasks[${index}]`, 'must be an object { clsid, displayName? }', task);
    const clsid = parseClsid(task.clsid, `packageManifest: tasks[${index}].clsid`);
    const earlier = seen.get(clsid.key);
    if (earlier !== undefined) throw invalid(`tasks[${index}].clsid`, `is the CLSID of task ${earlier + 1} too: each task needs a CLSID of its own`, String(task.clsid));
    seen.set(clsid.key, index);
    const displayName = task.displayName ?? `task ${index + 1}`;
    check(`tasks[${index}].displayName`, displayName, textProblem(displayName, 256));
    return { clsid, displayName };
  });

  const attributes = (pairs: readonly (readonly [string, string])[]): string => pairs.map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`).join('');
  const text = (value: string): string => escapeAttribute(value);
  const sparse = layout === 'sparse';
  const extension = comServerClasses({ executable: options.executable, arguments: args, displayName: options.displayName, classes, indent: 2 });
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Package${attributes([
      ['xmlns', FOUNDATION_NAMESPACE], ['xmlns:uap', UAP_NAMESPACE], ['xmlns:uap10', UAP10_NAMESPACE],
      ['xmlns:rescap', RESCAP_NAMESPACE], ['xmlns:com', COM_NAMESPACE], ['IgnorableNamespaces', 'uap uap10 rescap com'],
    ])}>`,
    `  <Identity${attributes([['Name', options.name], ['Publisher', publisher], ['Version', version], ['ProcessorArchitecture', architecture]])}/>`,
    '  <Properties>',
    `    <DisplayName>${text(options.displayName)}</DisplayName>`,
    `    <PublisherDisplayName>${text(options.publisherDisplayName)}</PublisherDisplayName>`,
    `    <Logo>${text(LOGOS.store)}</Logo>`,
    // A sparse package's files, the executable among them, are in its external location.
    ...(sparse ? ['    <uap10:AllowExternalContent>true</uap10:AllowExternalContent>'] : []),
    '  </Properties>',
    '  <Dependencies>',
    `    <TargetDeviceFamily${attributes([['Name', 'Windows.Desktop'], ['MinVersion', MIN_WINDOWS_VERSION], ['MaxVersionTested', MAX_VERSION_TESTED]])}/>`,
    '  </Dependencies>',
    '  <Resources>',
    '    <Resource Language="en-us"/>',
    '  </Resources>',
    '  <Capabilities>',
    // runFullTrust: a desktop app. unvirtualizedResources: the restricted capability a package
    // needs to turn its file system and registry write virtualization off (desktop6:
    // FileSystemWriteVirtualization, RegistryWriteVirtualization, which winbg does not set).
    '    <rescap:Capability Name="runFullTrust"/>',
    '    <rescap:Capability Name="unvirtualizedResources"/>',
    '  </Capabilities>',
    '  <Applications>',
    // A full-trust desktop app ("Understanding how packaged desktop apps run on Windows"): in a
    // package with external location, RuntimeBehavior win32App; in a full package, a Desktop
    // Bridge app, packagedClassicApp.
    `    <Application${attributes([['Id', applicationId], ['Executable', options.executable], ['uap10:TrustLevel', 'mediumIL'], ['uap10:RuntimeBehavior', sparse ? 'win32App' : 'packagedClassicApp']])}>`,
    `      <uap:VisualElements${attributes([
      ['DisplayName', options.displayName], ['Description', description], ['BackgroundColor', 'transparent'],
      ['Square150x150Logo', LOGOS.square150], ['Square44x44Logo', LOGOS.square44], ['AppListEntry', 'none'],
    ])}/>`,
    '      <Extensions>',
    ...extension.split('\n').map((line) => `        ${line}`),
    '      </Extensions>',
    '    </Application>',
    '  </Applications>',
    '</Package>',
    '',
  ];
  return {
    xml: lines.join('\r\n'),
    identity: { name: options.name, publisher, version, architecture },
    applicationId,
    layout,
    executable: options.executable,
    arguments: args,
  };
}

/** The publisher of an unsigned package for development: `CN=<name>, OID.2.25.…=1` (Windows 11). */
export function unsignedPublisher(name: string): string {
  return `CN=${/[,+="<>#;]/.test(name) || /^\s|\s$/.test(name) ? `"${name.replaceAll('"', '')}"` : name}, ${UNSIGNED_PUBLISHER_OID}`;
}

/**
 * The ExeServer's Arguments for a launcher that is a copy of `runtime`: the script comes first
 * (node.exe takes an option in its place, `-StartSampleTaskServer` being none of its own, and
 * exits 9), quoted, then the activation argument; COM appends `-Embedding`. Deno's script
 * needs `run -A` before it (koffi needs --allow-ffi).
 */
export function serverArguments(runtime: 'node' | 'bun' | 'deno', script: string, activationArgument: string = DEFAULT_ACTIVATION_ARGUMENT): string {
  return [...(runtime === 'deno' ? ['run', '-A'] : []), `"${script}"`, activationArgument].join(' ');
}

/** The JS runtimes a launcher can be a copy of. */
export type Runtime = 'node' | 'bun' | 'deno';
export const RUNTIMES: readonly Runtime[] = ['node', 'bun', 'deno'];

/** The runtime an ExeServer's executable is a copy of, by its file name (node.exe, winbg-deno.exe…), or undefined. */
export function runtimeOfExecutable(executable: string): Runtime | undefined {
  return /^(?:winbg-)?(node|bun|deno)\.exe$/i.exec(executable.split(/[\\/]/).pop() ?? '')?.[1]?.toLowerCase() as Runtime | undefined;
}

// Each *Problem function returns what is wrong with a value ("must …"), or null when it is valid.

/** Identity Name: the schema's ST_PackageName, 3–50 characters of [-.A-Za-z0-9]. */
export function packageNameProblem(value: unknown): string | null {
  if (typeof value !== 'string') return 'must be a string of 3–50 letters, digits, dots and hyphens, e.g. Contoso.PrimeApp';
  if (!/^[-.A-Za-z0-9]*$/.test(value)) return 'may contain only letters A–Z and a–z, digits, dots and hyphens (the schema\'s ST_PackageName)';
  if (value.length < 3 || value.length > 50) return `must be 3–50 characters long (it has ${value.length})`;
  return null;
}

// ST_Publisher_2010_v2: RDNs of a distinguished name joined by ", ".
const RDN = '(?:CN|L|O|OU|E|C|S|STREET|T|G|I|SN|DC|SERIALNUMBER|Description|PostalCode|POBox|Phone|X21Address|dnQualifier|(?:OID\\.(?:0|[1-9][0-9]*)(?:\\.(?:0|[1-9][0-9]*))+))=(?:[^,+="<>#;]+|".*")';
const PUBLISHER = new RegExp(`^${RDN}(?:, ${RDN})*$`);

/** Identity Publisher: a distinguished name as the schema's ST_Publisher_2010_v2 has it. */
export function publisherProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a distinguished name such as CN=Contoso, O=Contoso, C=US (the signing certificate\'s subject)';
  if (value.length > 8192) return `must be at most 8192 characters (it has ${value.length})`;
  if (!PUBLISHER.test(value)) return 'must be a distinguished name: KEY=value pairs (CN, O, OU, L, S, C, E… or OID.n.n) joined by ", ", a value with , + = " < > # or ; in double quotes';
  return null;
}

/** Identity Version: ST_VersionQuad, four numbers 0–65535 without leading zeros. */
export function versionProblem(value: unknown): string | null {
  const part = '(?:0|[1-9][0-9]{0,4})';
  if (typeof value !== 'string' || !new RegExp(`^${part}(?:\\.${part}){3}$`).test(value) || value.split('.').some((n) => Number(n) > 65535)) {
    return 'must be four numbers from 0 to 65535 joined by dots, without leading zeros, e.g. 1.0.0.0';
  }
  return null;
}

/** Application Id: ST_ApplicationId, dot-separated names of a letter then letters and digits, at most 64 characters. */
export function applicationIdProblem(value: unknown): string | null {
  if (typeof value !== 'string' || !/^[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)*$/.test(value)) {
    return 'must be names that start with a letter and hold only letters and digits, joined by dots, e.g. App';
  }
  if (value.length > 64) return `must be at most 64 characters (it has ${value.length})`;
  return null;
}

/**
 * The app's script as the runtime will look for it: COM starts a packaged app's server in
 * C:\\Windows\\System32, so a relative path is taken from there; winbg package init writes the
 * absolute path of a sparse package's script. No double quote and no trailing backslash (the
 * Arguments quote it, and \\" would escape that quote), no white space at either end.
 */
export function scriptProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim().length === 0) return 'must be the path of the script that calls serve(), e.g. C:\\Apps\\Primes\\app.js';
  if (value.includes('"')) return 'cannot contain a double quote (the Arguments quote it)';
  if (/[\\/]$/.test(value)) return 'must name a file, not end with \\ or / (before the closing quote, \\" would escape it)';
  if (/^\s|\s$/.test(value)) return 'must not start or end with white space';
  if (/[\u0000-\u001f]/.test(value)) return 'cannot contain control characters';
  return null;
}

/**
 * Text of the manifest (DisplayName, PublisherDisplayName, Description, a class's DisplayName):
 * the schema's ST_NonEmptyString, 1 to `max` characters with no white space at either end and no
 * line break (its pattern's `.` matches none).
 */
export function textProblem(value: unknown, max: number): string | null {
  const base = displayNameProblem(value);
  if (base) return base;
  const text = value as string;
  if (text.length > max) return `must be at most ${max} characters (it has ${text.length})`;
  if (/^\s|\s$/.test(text)) return 'must not start or end with white space (the schema\'s ST_NonEmptyString)';
  if (/[\r\n\u0085\u2028\u2029]/.test(text)) return 'cannot contain a line break';
  return null;
}

/**
 * A file of the package (Application@Executable, the schema's ST_FileName segments): segments
 * separated by \\ only, none empty, '.' or '..', and no %.
 */
export function packagePathProblem(value: string): string | null {
  if (value.includes('/')) return 'must separate folders with \\, not /';
  if (value.includes('%')) return 'cannot contain % (the schema\'s file names exclude it)';
  if (value.split('\\').some((segment) => segment === '' || segment === '.' || segment === '..')) return 'must be folders and a file name joined by \\, without empty, . or .. segments';
  return null;
}

function machineArchitecture(): 'x64' | 'x86' | 'arm64' | 'neutral' {
  return process.arch === 'arm64' ? 'arm64' : process.arch === 'ia32' ? 'x86' : 'x64';
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}
