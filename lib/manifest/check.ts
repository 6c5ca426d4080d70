// Checks an existing AppxManifest.xml for what COM needs to start the task's process: the COM
// namespace, a windows.comServer extension under Package/Applications/Application/Extensions, a
// com:ExeServer declaring the CLSID, and its Executable and Arguments. Each missing piece is a
// finding that says what to add.
import { Guid } from '../com/guid.js';
import { DEFAULT_ACTIVATION_ARGUMENT, argumentsProblem, executableProblem, parseClsid } from './com-server.js';
import { runtimeOfExecutable } from './package.js';
import { COM_NAMESPACE, FOUNDATION_NAMESPACE, comNamespaceOfPrefix, isComNamespace } from './namespaces.js';
import { type XmlDocument, type XmlElement, XmlSyntaxError, attributeNode, attributeValue, descendants, parseXml } from './xml.js';

export interface ManifestFinding {
  readonly level: 'error' | 'warning' | 'ok';
  readonly message: string;
  /** Where in the manifest, when the finding is about one place. */
  readonly line?: number;
  readonly column?: number;
}

export interface ManifestCheck {
  /** True when no finding is an error. */
  readonly ok: boolean;
  readonly findings: readonly ManifestFinding[];
}

export interface CheckManifestOptions {
  clsid: Guid | string;
  /** When given, the ExeServer's Executable must be this path (compared as Windows compares paths). */
  executable?: string;
  /** When given, the ExeServer's Arguments must be these; otherwise they should contain {@link DEFAULT_ACTIVATION_ARGUMENT}. */
  arguments?: string;
}

/**
 * Reads the text of an AppxManifest.xml and reports whether it registers `clsid` for COM to
 * start the task's server. Malformed XML is one error finding with its line and column.
 *
 * @throws TypeError when an option is invalid (not for anything in the manifest).
 * @example
 * const { ok, findings } = checkManifest(readFileSync('AppxManifest.xml', 'utf8'), { clsid });
 * for (const f of findings) console.log(f.level, f.line, f.message);
 */
export function checkManifest(xmlText: string, options: CheckManifestOptions): ManifestCheck {
  if (typeof xmlText !== 'string') throw new TypeError(`checkManifest: xmlText must be the manifest's text as a string; got ${typeof xmlText}`);
  if (typeof options !== 'object' || options === null) throw new TypeError('checkManifest: expected an options object { clsid, executable?, arguments? }');
  const clsid = parseClsid(options.clsid, 'checkManifest');
  if (options.executable !== undefined) {
    const problem = executableProblem(options.executable);
    if (problem) throw new TypeError(`checkManifest: executable ${problem}; got ${JSON.stringify(options.executable)}`);
  }
  if (options.arguments !== undefined) {
    const problem = argumentsProblem(options.arguments);
    if (problem) throw new TypeError(`checkManifest: arguments ${problem}; got ${JSON.stringify(options.arguments)}`);
  }

  const findings: ManifestFinding[] = [];
  const report = (level: ManifestFinding['level'], message: string, at?: { line: number; column: number }): void => {
    findings.push(at ? { level, message, line: at.line, column: at.column } : { level, message });
  };
  let document: XmlDocument;
  try {
    document = parseXml(xmlText);
  } catch (error) {
    if (!(error instanceof XmlSyntaxError)) throw error;
    report('error', `not well-formed XML: ${error.reason}`, error);
    return { ok: false, findings };
  }
  new Checker(document, clsid, options, report).run();
  return { ok: !findings.some((f) => f.level === 'error'), findings };
}

const UAP10 = 'http://schemas.microsoft.com/appx/manifest/uap/windows10/10';

type Report = (level: ManifestFinding['level'], message: string, at?: { line: number; column: number }) => void;

class Checker {
  private readonly root: XmlElement;
  /** What to run to get the block this check looks for. */
  private readonly command: string;

  constructor(
    private readonly document: XmlDocument,
    private readonly clsid: Guid,
    private readonly options: CheckManifestOptions,
    private readonly report: Report,
  ) {
    this.root = document.root;
    const args = ['winbg manifest', '--clsid', clsid.toString(), '--exe', quote(options.executable ?? 'path\\to\\server.exe')];
    if (options.arguments !== undefined) args.push('--args', quote(options.arguments));
    this.command = `the block \`${args.join(' ')}\` prints`;
  }

  run(): void {
    if (!this.checkRoot()) return;
    this.checkNamespaces();
    const extensions = this.findExtensions();
    if (extensions.length === 0) return;
    const exeServers = this.findExeServers(extensions);
    if (exeServers.length === 0) return;
    const exeServer = this.findClass(exeServers);
    if (!exeServer) return;
    this.checkExecutable(exeServer);
    this.checkArguments(exeServer);
    this.checkRuntimeArguments(exeServer);
    this.checkUniqueClasses(exeServers);
    this.checkExternalContent();
  }

  /**
   * A copy of node.exe, bun.exe or deno.exe as the ExeServer runs a script, which must come first:
   * COM starts `<Executable> <Arguments> -Embedding`, and node.exe takes a leading
   * -StartSampleTaskServer as an option of its own and exits (9, "bad option"); deno.exe needs
   * `run` first.
   */
  private checkRuntimeArguments(exeServer: XmlElement): void {
    const executable = attributeValue(exeServer, 'Executable');
    const attribute = attributeNode(exeServer, 'Arguments');
    const runtime = executable === undefined ? undefined : runtimeOfExecutable(executable);
    if (!runtime || !attribute) return;
    const [first] = commandLineArguments(attribute.value);
    const activation = (this.options.arguments !== undefined ? commandLineArguments(this.options.arguments)[0] : undefined) ?? DEFAULT_ACTIVATION_ARGUMENT;
    const fix = `put the script first: the arguments ${runtime === 'deno' ? 'run -A ' : ''}"app.js" ${activation} (Arguments="${runtime === 'deno' ? 'run -A ' : ''}&quot;app.js&quot; ${activation}" in the XML; winbg package init writes it so)`;
    if (first === undefined || first.toLowerCase() === activation.toLowerCase() || /^[-/]embedding$/i.test(first)) {
      this.report('error', `Arguments="${attribute.value}" start with ${first ?? 'nothing'}, not the script: COM would start ${executable} ${attribute.value} -Embedding, ${runtime === 'node' ? 'which node refuses (exit 9, bad option)' : `and ${runtime} would not run the app`}; ${fix}`, attribute);
    } else if (runtime === 'deno' && first !== 'run') {
      this.report('warning', `Arguments="${attribute.value}" do not start with run: deno would run the script without the permissions koffi needs (--allow-ffi); ${fix}`, attribute);
    } else if (/^[-/]/.test(first) && runtime !== 'deno') {
      this.report('warning', `Arguments="${attribute.value}" start with the option ${first}: make sure the script comes before ${activation}, or ${runtime} takes ${activation} as an option of its own`, attribute);
    } else {
      this.report('ok', `Arguments="${attribute.value}" start the script for ${runtime}`, attribute);
    }
  }

  /** Each CLSID declared once in the package: Windows registers one server per class. */
  private checkUniqueClasses(exeServers: XmlElement[]): void {
    const seen = new Map<string, XmlElement>();
    for (const element of exeServers.flatMap((s) => this.children(s, 'Class', 'com'))) {
      const guid = tryGuid(attributeValue(element, 'Id') ?? '');
      if (!guid || guid.equals(this.clsid)) continue; // the task's own CLSID is reported by findClass
      const first = seen.get(guid.key);
      if (first) this.report('error', `the CLSID ${guid} is declared twice (lines ${first.line} and ${element.line}): each com:Class needs a CLSID of its own`, element);
      else seen.set(guid.key, element);
    }
  }

  /**
   * A package with external location ("Grant package identity by packaging with external
   * location"): its applications are full-trust Win32 apps, uap10:TrustLevel="mediumIL" and
   * uap10:RuntimeBehavior="win32App", or Windows refuses to register it.
   */
  private checkExternalContent(): void {
    const properties = this.children(this.root, 'Properties', 'foundation');
    const external = properties.flatMap((p) => p.children).find((e) => e.localName === 'AllowExternalContent' && e.namespace === UAP10);
    // xs:boolean: true or 1.
    if (!external || !['true', '1'].includes(external.text.trim())) return;
    const applications = this.children(this.root, 'Applications', 'foundation').flatMap((a) => this.children(a, 'Application', 'foundation'));
    for (const application of applications) {
      const trust = application.attributes.find((a) => a.localName === 'TrustLevel' && a.namespace === UAP10)?.value;
      const behavior = application.attributes.find((a) => a.localName === 'RuntimeBehavior' && a.namespace === UAP10)?.value;
      if (trust === 'mediumIL' && behavior === 'win32App') {
        this.report('ok', 'a package with external location whose application is a full-trust Win32 app (mediumIL, win32App)', application);
      } else {
        this.report('error', `uap10:AllowExternalContent is true (a package with external location), so the <Application> needs uap10:TrustLevel="mediumIL" and uap10:RuntimeBehavior="win32App"; it has ${trust === undefined ? 'no TrustLevel' : `TrustLevel="${trust}"`} and ${behavior === undefined ? 'no RuntimeBehavior' : `RuntimeBehavior="${behavior}"`}`, application);
      }
    }
  }

  private checkRoot(): boolean {
    const root = this.root;
    if (root.localName !== 'Package') {
      this.report('error', `the root element is <${root.name}>, not <Package>: this is not a package manifest (AppxManifest.xml)`, root);
      return false;
    }
    if (root.namespace !== FOUNDATION_NAMESPACE) {
      const actual = root.namespace === null ? 'in no namespace' : `in the namespace ${root.namespace}`;
      this.report('error', `<Package> is ${actual}; a Windows 10 package manifest declares xmlns="${FOUNDATION_NAMESPACE}" on <Package>`, root);
    }
    return true;
  }

  /** The COM namespace, by URI whatever its prefix; prefixes used without a declaration. */
  private checkNamespaces(): void {
    const declared: { prefix: string; uri: string; on: XmlElement }[] = [];
    for (const element of descendants(this.root)) {
      for (const [prefix, uri] of element.declarations) if (isComNamespace(uri)) declared.push({ prefix, uri, on: element });
    }
    for (const { prefix, uri, on } of declared) {
      const attribute = prefix === '' ? 'xmlns' : `xmlns:${prefix}`;
      this.report('ok', `the COM namespace is declared: ${attribute}="${uri}" on <${on.name}>`, on);
    }
    const seen = new Set<string>();
    for (const { prefix, line, column } of this.document.unboundPrefixes) {
      if (seen.has(prefix)) continue;
      seen.add(prefix);
      const uri = comNamespaceOfPrefix(prefix);
      this.report('error', uri
        ? `the prefix ${prefix}: is used but not declared: add xmlns:${prefix}="${uri}" to <Package>`
        : `the prefix ${prefix}: is used but not declared: add its xmlns:${prefix}="…" declaration to <Package>`, { line, column });
    }
    if (declared.length === 0 && ![...seen].some((prefix) => comNamespaceOfPrefix(prefix))) {
      this.report('error', `the COM namespace is not declared: add xmlns:com="${COM_NAMESPACE}" to <Package>`, this.root);
    }
  }

  /** com:Extension Category="windows.comServer" under Package/Applications/Application/Extensions. */
  private findExtensions(): XmlElement[] {
    const applications = this.children(this.root, 'Applications', 'foundation').flatMap((a) => this.children(a, 'Application', 'foundation'));
    const extensionLists = applications.flatMap((a) => this.children(a, 'Extensions', 'foundation'));
    const extensions = extensionLists.flatMap((e) => this.children(e, 'Extension', 'com')).filter(isComServer);
    if (extensions.length > 0) {
      const lines = extensions.map((e) => e.line).join(', ');
      this.report('ok', `<${extensions[0]!.name} Category="windows.comServer"> under <Application><Extensions> (line ${lines})`, extensions[0]);
      return extensions;
    }
    const elsewhere = [...descendants(this.root)].filter((e) => this.is(e, 'Extension', 'com') && isComServer(e));
    const packageLevel = elsewhere.filter((e) => e.parent && e.parent.parent === this.root && this.is(e.parent, 'Extensions', 'foundation'));
    if (packageLevel.length > 0) {
      this.report('warning', `the <${packageLevel[0]!.name} Category="windows.comServer"> is under <Package><Extensions>, not under the <Application> whose process serves the task: move it into <Application><Extensions> unless it is meant for the whole package`, packageLevel[0]);
      return packageLevel;
    }
    let message: string;
    if (applications.length === 0) {
      message = 'there is no <Applications><Application> in <Package>: the windows.comServer extension belongs inside <Application><Extensions>';
    } else {
      message = `no <com:Extension Category="windows.comServer"> under <Application><Extensions>: add ${this.command} inside <Application><Extensions>`;
      if (extensionLists.length === 0) message += ` (the <Application> at line ${applications[0]!.line} has no <Extensions> yet: add one after its <uap:VisualElements>)`;
    }
    const misplaced = elsewhere[0];
    if (misplaced) message += `; the one at line ${misplaced.line} is inside <${misplaced.parent?.name ?? ''}>, where it is not read`;
    const otherCategory = extensionLists.flatMap((e) => this.children(e, 'Extension', 'com')).find((e) => !isComServer(e));
    if (otherCategory) message += `; the <${otherCategory.name}> at line ${otherCategory.line} has Category="${attributeValue(otherCategory, 'Category') ?? ''}", not "windows.comServer"`;
    this.report('error', message, applications[0] ?? this.root);
    return [];
  }

  private findExeServers(extensions: XmlElement[]): XmlElement[] {
    const comServers = extensions.flatMap((e) => this.children(e, 'ComServer', 'com'));
    if (comServers.length === 0) {
      const extension = extensions[0]!;
      this.report('error', `the <${extension.name} Category="windows.comServer"> has no <com:ComServer>: put the <com:ComServer> of ${this.command} inside it`, extension);
      return [];
    }
    const exeServers = comServers.flatMap((s) => this.children(s, 'ExeServer', 'com'));
    if (exeServers.length === 0) {
      this.report('error', `the <${comServers[0]!.name}> has no <com:ExeServer>, so COM cannot start a process for the task: add the <com:ExeServer> of ${this.command}`, comServers[0]);
    }
    return exeServers;
  }

  /** The ExeServer whose com:Class has the CLSID (compared as GUIDs), or null after reporting why not. */
  private findClass(exeServers: XmlElement[]): XmlElement | null {
    const clsid = this.clsid.toString();
    const matching: XmlElement[] = [];
    const others: string[] = [];
    for (const element of exeServers.flatMap((s) => this.children(s, 'Class', 'com'))) {
      const id = attributeValue(element, 'Id');
      const guid = id === undefined ? null : tryGuid(id);
      if (id === undefined) this.report('error', `the <${element.name}> has no Id: the schema requires the CLSID as Id="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"`, element);
      else if (!guid) this.report('warning', `the <${element.name} Id="${id}"> is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`, element);
      else if (guid.equals(this.clsid)) matching.push(element);
      else others.push(`${id} (line ${element.line})`);
    }
    if (matching.length === 0) {
      let message = `no <com:Class Id="${clsid}"> in a <com:ExeServer>: add <com:Class Id="${clsid}" DisplayName="…"/> to the <com:ExeServer> that starts your server, or add ${this.command}`;
      if (others.length > 0) message += `; the ExeServer declares ${others.join(', ')}`;
      const stray = [...descendants(this.root)].find((e) => !exeServers.includes(e.parent!) && sameGuid(attributeValue(e, 'Id'), this.clsid));
      if (stray) message += `; the CLSID appears at line ${stray.line} in <${stray.parent?.name ?? stray.name}>, which is not a com:ExeServer under <Application><Extensions>`;
      this.report('error', message, exeServers[0]);
      return null;
    }
    const found = matching[0]!;
    const exeServer = found.parent!;
    const id = attributeValue(found, 'Id')!;
    this.report('ok', `<${found.name} Id="${id}"> declares the CLSID, in the <${exeServer.name}> at line ${exeServer.line}`, found);
    if (/[{}]/.test(id)) this.report('warning', `the Id "${id}" has braces; the schema's form is ${clsid} (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`, found);
    if (matching.length > 1) {
      this.report('warning', `the CLSID is declared ${matching.length} times (lines ${matching.map((m) => m.line).join(', ')}): keep one <com:Class> for it`, matching[1]);
    }
    return exeServer;
  }

  private checkExecutable(exeServer: XmlElement): void {
    const attribute = attributeNode(exeServer, 'Executable');
    const expected = this.options.executable;
    if (!attribute) {
      this.report('error', `the <${exeServer.name}> has no Executable: add Executable="${expected ?? 'path\\to\\server.exe'}" (the server, relative to the package root)`, exeServer);
      return;
    }
    const problem = executableProblem(attribute.value);
    if (problem) {
      this.report('error', `Executable="${attribute.value}" ${problem}`, attribute);
    } else if (expected !== undefined && !samePath(attribute.value, expected)) {
      this.report('error', `Executable="${attribute.value}" is not the server ${expected}: COM would start that program for the task; set Executable="${expected}"`, attribute);
    } else {
      this.report('ok', `Executable="${attribute.value}"${expected !== undefined ? ' is the server' : ''}`, attribute);
    }
  }

  private checkArguments(exeServer: XmlElement): void {
    const explicit = this.options.arguments !== undefined;
    const expected = this.options.arguments ?? DEFAULT_ACTIVATION_ARGUMENT;
    // Without --args the expected argument is winbg's default: a server may use another one.
    const missing = explicit ? 'error' : 'warning';
    const otherwise = explicit ? '' : ' (if your server starts on another argument, pass it as arguments / --args)';
    const attribute = attributeNode(exeServer, 'Arguments');
    if (!attribute) {
      this.report(missing, `the <${exeServer.name}> has no Arguments: COM would start the server without ${expected}, so it could not tell it was started to serve the task; add Arguments="${expected}"${otherwise}`, exeServer);
      return;
    }
    const actual = commandLineArguments(attribute.value);
    const wanted = commandLineArguments(expected);
    if (actual.join('\0') === wanted.join('\0')) {
      this.report('ok', `Arguments="${attribute.value}" ${explicit ? 'are the expected arguments' : 'contain the activation argument'}`, attribute);
    } else if (containsRun(actual, wanted)) {
      this.report(explicit ? 'warning' : 'ok', `Arguments="${attribute.value}" contain ${expected}${explicit ? ' and other arguments too' : ', the activation argument'}`, attribute);
    } else {
      this.report(missing, `Arguments="${attribute.value}" do not contain the activation argument ${expected}: the server would not know it was started to serve the task; set Arguments="${expected}"${otherwise}`, attribute);
    }
  }

  private children(element: XmlElement, localName: string, kind: 'foundation' | 'com'): XmlElement[] {
    return element.children.filter((child) => this.is(child, localName, kind));
  }

  /**
   * Foundation elements are in `<Package>`'s own namespace; COM elements in any COM namespace, or
   * under an undeclared com/comN prefix (reported once by checkNamespaces, then read as meant).
   */
  private is(element: XmlElement, localName: string, kind: 'foundation' | 'com'): boolean {
    if (element.localName !== localName) return false;
    if (kind === 'foundation') return element.namespace === this.root.namespace;
    return isComNamespace(element.namespace) || (element.namespace === null && element.prefix !== null && comNamespaceOfPrefix(element.prefix) !== null);
  }
}

function isComServer(extension: XmlElement): boolean {
  return attributeValue(extension, 'Category') === 'windows.comServer';
}

function tryGuid(text: string): Guid | null {
  try {
    return Guid.parse(text.trim());
  } catch {
    return null;
  }
}

function sameGuid(text: string | undefined, guid: Guid): boolean {
  return text !== undefined && tryGuid(text)?.equals(guid) === true;
}

/** Paths in a package compare as Windows compares them: either slash, any case, no leading `.\`. */
function samePath(a: string, b: string): boolean {
  const normal = (path: string): string => path.replace(/\//g, '\\').replace(/\\{2,}/g, '\\').replace(/^(\.\\)+/, '').toLowerCase();
  return normal(a) === normal(b);
}

/**
 * Splits a command line as CommandLineToArgvW does for the arguments after the program name:
 * white space separates, double quotes group, `\"` is a quote, backslashes are literal otherwise.
 */
export function commandLineArguments(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArgument = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\') {
      let slashes = 0;
      while (line[i] === '\\') { slashes++; i++; }
      if (line[i] === '"') {
        current += '\\'.repeat(slashes >> 1);
        if (slashes % 2 === 1) current += '"';
        else i--; // an even run: the quote toggles quoting on the next turn
      } else {
        current += '\\'.repeat(slashes);
        i--;
      }
      inArgument = true;
    } else if (c === '"') {
      quoted = !quoted;
      inArgument = true;
    } else if (!quoted && (c === ' ' || c === '\t' || c === '\n' || c === '\r')) {
      if (inArgument) args.push(current);
      current = '';
      inArgument = false;
    } else {
      current += c;
      inArgument = true;
    }
  }
  if (inArgument) args.push(current);
  return args;
}

/** Whether `run` occurs in `list` as consecutive items. */
function containsRun(list: string[], run: string[]): boolean {
  if (run.length === 0) return true;
  for (let i = 0; i + run.length <= list.length; i++) {
    if (run.every((item, j) => list[i + j] === item)) return true;
  }
  return false;
}

function quote(arg: string): string {
  return /^[A-Za-z0-9_\-.\\/{}:]+$/.test(arg) ? arg : `"${arg.replace(/(\\*)"/g, '$1$1\\"')}"`;
}
