// The `windows.comServer` extension that lets COM start a packaged app's process for a background
// task's CLSID ("Create and register a winmain background task", Add the support code to
// instantiate the COM class, step 1). Attribute rules are those of the package manifest schema
// reference: com:ExeServer and com:Class (in ExeServer).
import { Guid } from '../com/guid.js';
import { COM_NAMESPACE } from './namespaces.js';

/**
 * The argument the process is started with when COM activates the task: the seed sample's
 * `-StartSampleTaskServer`. The server looks for it to know it was started to serve the task.
 */
export const DEFAULT_ACTIVATION_ARGUMENT = '-StartSampleTaskServer';

export interface ComServerExtensionOptions {
  /** The task class's CLSID, as given to `BackgroundTaskBuilder.SetTaskEntryPointClsid`. */
  clsid: Guid | string;
  /** The server's .exe, relative to the package root, e.g. `SampleBackgroundApp\SampleBackgroundApp.exe`. */
  executable: string;
  /** Command-line arguments COM starts the server with; default {@link DEFAULT_ACTIVATION_ARGUMENT}. */
  arguments?: string;
  /** The ExeServer's DisplayName (the AppID's default value); default: the executable's file name without `.exe`. */
  displayName?: string;
  /** The Class's DisplayName (the CLSID key's default value); default: `<displayName> task`. */
  classDisplayName?: string;
  /** An SDDL string for the AppID's LaunchPermission; omitted by default (COM's default launch permissions). */
  launchAndActivationPermission?: string;
  /** One level of indentation: a number of spaces (0–16) or a string of spaces and tabs; default 2. */
  indent?: number | string;
}

/** A namespace the root `<Package>` must declare for the block to be valid. */
export interface NamespaceDeclaration {
  readonly prefix: string;
  readonly uri: string;
  /** The attribute to add to `<Package>`: `xmlns:com="…"`. */
  readonly attribute: string;
}

export interface ComServerExtension {
  /** The `<com:Extension>` element, to paste inside `<Application><Extensions>`; no trailing newline. */
  readonly xml: string;
  readonly namespaces: readonly NamespaceDeclaration[];
}

/**
 * The `<com:Extension Category="windows.comServer">` block that registers `clsid` as served by
 * `executable`, and the namespace declarations it needs.
 *
 * @throws TypeError naming the option and what it allows, when an option is invalid.
 * @example
 * const { xml, namespaces } = comServerExtension({
 *   clsid: '14C5882B-35D3-41BE-86B2-5106269B97E6',
 *   executable: 'SampleBackgroundApp\\SampleBackgroundApp.exe',
 * });
 * // xml: <com:Extension Category="windows.comServer"> … <com:Class Id="14C5882B-…" DisplayName="SampleBackgroundApp task"/> …
 * // namespaces[0].attribute: xmlns:com="http://schemas.microsoft.com/appx/manifest/com/windows10"
 */
export function comServerExtension(options: ComServerExtensionOptions): ComServerExtension {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('comServerExtension: expected an options object { clsid, executable, … }');
  }
  const clsid = parseClsid(options.clsid, 'comServerExtension');
  const executable = options.executable;
  const invalid = (option: string, problem: string, value: unknown): TypeError =>
    new TypeError(`comServerExtension: ${option} ${problem}; got ${show(value)}`);

  let problem = executableProblem(executable);
  if (problem) throw invalid('executable', problem, executable);
  const args = options.arguments ?? DEFAULT_ACTIVATION_ARGUMENT;
  problem = argumentsProblem(args);
  if (problem) throw invalid('arguments', problem, args);
  const displayName = options.displayName ?? fileStem(executable);
  problem = displayNameProblem(displayName);
  if (problem) throw invalid('displayName', problem, displayName);
  const derivedClassName = `${displayName} task`;
  const classDisplayName = options.classDisplayName ?? (derivedClassName.length <= 256 ? derivedClassName : displayName);
  problem = displayNameProblem(classDisplayName);
  if (problem) throw invalid('classDisplayName', problem, classDisplayName);
  const permission = options.launchAndActivationPermission;
  if (permission !== undefined) {
    problem = permissionProblem(permission);
    if (problem) throw invalid('launchAndActivationPermission', problem, permission);
  }
  const xml = comServerClasses({
    executable, arguments: args, displayName, classes: [{ clsid, displayName: classDisplayName }],
    ...(permission !== undefined ? { launchAndActivationPermission: permission } : {}), indent: options.indent,
  });
  return { xml, namespaces: [{ prefix: 'com', uri: COM_NAMESPACE, attribute: `xmlns:com="${COM_NAMESPACE}"` }] };
}

/** What {@link comServerClasses} writes, each value already checked. */
export interface ComServerClassesOptions {
  readonly executable: string;
  readonly arguments: string;
  readonly displayName: string;
  readonly classes: readonly { readonly clsid: Guid; readonly displayName: string }[];
  readonly launchAndActivationPermission?: string;
  readonly indent?: number | string;
}

/** The `<com:Extension Category="windows.comServer">` element of one ExeServer and its classes. */
export function comServerClasses(options: ComServerClassesOptions): string {
  const unit = indentUnit(options.indent);
  const exeServer: [string, string][] = [['Executable', options.executable], ['Arguments', options.arguments], ['DisplayName', options.displayName]];
  if (options.launchAndActivationPermission !== undefined) exeServer.push(['LaunchAndActivationPermission', options.launchAndActivationPermission]);
  const attributes = (pairs: [string, string][]): string => pairs.map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`).join('');
  return [
    `<com:Extension Category="windows.comServer">`,
    `${unit}<com:ComServer>`,
    `${unit}${unit}<com:ExeServer${attributes(exeServer)}>`,
    ...options.classes.map((c) => `${unit}${unit}${unit}<com:Class${attributes([['Id', c.clsid.toString()], ['DisplayName', c.displayName]])}/>`),
    `${unit}${unit}</com:ExeServer>`,
    `${unit}</com:ComServer>`,
    `</com:Extension>`,
  ].join('\n');
}

/** Parses a CLSID option; `caller` names the function in the TypeError. */
export function parseClsid(value: unknown, caller: string): Guid {
  if (value instanceof Guid) return value;
  if (typeof value === 'string') {
    try {
      return Guid.parse(value.trim());
    } catch {
      // fall through to the message that names the option
    }
  }
  throw new TypeError(`${caller}: clsid must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, braces optional) or a Guid; got ${show(value)}`);
}

// Each *Problem function returns what is wrong with a value ("must …"), or null when it is valid.

// XML 1.0 cannot carry these characters at all, escaped or not ([2] Char).
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * com:ExeServer@Executable: "A path relative to the package root and must reference a file in the
 * package … between 1 and 256 characters in length that must end with ".exe" and cannot contain
 * these characters: <, >, :, ", |, ?, or *. The .exe extension is case sensitive, it must be
 * lowercase." So no drive letter (':'), no rooted or UNC path, no '..' leaving the package root.
 */
export function executableProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty path relative to the package root, e.g. App\\App.exe';
  if (value.length > 256) return `must be at most 256 characters (it has ${value.length})`;
  const forbidden = /[<>:"|?*]/.exec(value);
  if (forbidden) {
    const why = forbidden[0] === ':' ? '; a drive letter or absolute path is not inside the package' : '';
    return `cannot contain <, >, :, ", |, ? or * (found ${JSON.stringify(forbidden[0])}${why})`;
  }
  if (/[\u0000-\u001f]/.test(value)) return 'cannot contain control characters';
  if (/^[\\/]/.test(value)) return 'must be relative to the package root: it cannot start with \\ or / (rooted and UNC paths are outside the package)';
  if (!value.endsWith('.exe')) {
    return value.toLowerCase().endsWith('.exe') ? 'must end with .exe in lower case (the schema\'s extension check is case-sensitive)' : 'must name an .exe file (end with .exe)';
  }
  let depth = 0;
  const segments = value.split(/[\\/]/);
  for (const segment of segments) {
    if (segment === '..') depth--;
    else if (segment !== '.' && segment !== '') depth++;
    if (depth < 0) return 'must stay inside the package: a .. segment leaves the package root';
  }
  if (segments[segments.length - 1] === '.exe') return 'must name a file: the file name before .exe is empty';
  return null;
}

/** com:ExeServer@Arguments: 1–32767 characters with a non-whitespace character at each end. */
export function argumentsProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty string (1–32767 characters)';
  if (value.length > 32767) return `must be at most 32767 characters (it has ${value.length})`;
  if (/^\s|\s$/.test(value)) return 'must not start or end with white space (the schema requires a non-whitespace character at each end)';
  if (NOT_XML_CHAR.test(value)) return 'cannot contain control characters other than tab, CR and LF (XML 1.0 cannot represent them)';
  return null;
}

/** DisplayName of com:ExeServer and com:Class: 1–256 characters. */
export function displayNameProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim().length === 0) return 'must be a non-empty string of 1–256 characters';
  if (value.length > 256) return `must be at most 256 characters (it has ${value.length})`;
  if (NOT_XML_CHAR.test(value)) return 'cannot contain control characters other than tab, CR and LF (XML 1.0 cannot represent them)';
  return null;
}

/**
 * com:ExeServer@LaunchAndActivationPermission: an SDDL string ("Security Descriptor String
 * Format": components O:owner, G:group, D:dacl, S:sacl), e.g. `O:SYG:SYD:(A;;11;;;WD)`.
 * Only the shape is checked here; Windows checks the rest when the package is registered.
 */
export function permissionProblem(value: unknown): string | null {
  if (typeof value !== 'string' || !/^[OGDS]:\S*$/.test(value)) {
    return 'must be an SDDL security descriptor string without spaces, starting with O:, G:, D: or S: (e.g. O:SYG:SYD:(A;;11;;;WD))';
  }
  return null;
}

function indentUnit(indent: unknown): string {
  if (indent === undefined) return '  ';
  if (typeof indent === 'number' && Number.isInteger(indent) && indent >= 0 && indent <= 16) return ' '.repeat(indent);
  if (typeof indent === 'string' && /^[ \t]*$/.test(indent)) return indent;
  throw new TypeError(`comServerExtension: indent must be a number of spaces from 0 to 16 or a string of spaces and tabs; got ${show(indent)}`);
}

/** The executable's file name without `.exe`: `App\Server.exe` → `Server`. */
function fileStem(executable: string): string {
  return executable.split(/[\\/]/).pop()!.slice(0, -'.exe'.length);
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;',
  // Literal tab, LF and CR would become spaces when the value is read back (XML 1.0 §3.3.3).
  '\t': '&#9;', '\n': '&#10;', '\r': '&#13;',
};

/** The text of an attribute value between double quotes. */
export function escapeAttribute(value: string): string {
  return value.replace(/[&<>"'\t\n\r]/g, (c) => ESCAPES[c]!);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}
