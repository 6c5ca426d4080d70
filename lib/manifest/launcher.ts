// The launcher of a package with external location: a copy of the runtime's executable (node.exe,
// bun.exe, deno.exe) that COM starts for the package's tasks, changed in two ways (with resedit and
// pe-library, which read and write the PE format and its resources):
//   - its PE subsystem is Windows GUI (IMAGE_SUBSYSTEM_WINDOWS_GUI, PE/COFF "Optional Header
//     Windows-Specific Fields"), so that an activation by Windows opens no console window;
//   - its application manifest (resource type RT_MANIFEST, id 1) gains the element that gives the
//     process its package's identity ("Grant package identity by packaging with external
//     location"): <msix xmlns="urn:schemas-microsoft-com:msix.v1" publisher=… packageName=…
//     applicationId=…/>, whose values must be the package's Identity Publisher and Name and the
//     Application Id (or registration fails with 0x80073D54).
// The runtime's signature does not survive the change; the copy is unsigned.
import { readFileSync } from 'node:fs';
import { NtExecutable, NtExecutableResource } from 'resedit';
import { escapeAttribute } from './com-server.js';
import { writeFileAtomically } from './layout.js';
import { parseXml, type XmlElement } from './xml.js';

const RT_MANIFEST = 24;
const MANIFEST_ID = 1;
/** English (United States): the language the runtimes' own manifests are under. */
const LANG_EN_US = 1033;
const IMAGE_SUBSYSTEM_WINDOWS_GUI = 2;
const IMAGE_SUBSYSTEM_WINDOWS_CUI = 3;
const MSIX_NAMESPACE = 'urn:schemas-microsoft-com:msix.v1';

/** What the launcher's msix element names: the package and its application. */
export interface LauncherIdentity {
  /** The package's Identity Publisher. */
  readonly publisher: string;
  /** The package's Identity Name. */
  readonly packageName: string;
  /** The Application Id. */
  readonly applicationId: string;
}

/** What a launcher (or any executable) says about itself: its subsystem and its application manifest. */
export interface LauncherInfo {
  /** 'gui' (2), 'console' (3), or the number. */
  readonly subsystem: 'gui' | 'console' | number;
  /** The RT_MANIFEST resource's text, or null when it has none. */
  readonly manifest: string | null;
  /** The msix element's attributes, or null when the manifest has none. */
  readonly identity: LauncherIdentity | null;
}

/**
 * The launcher made from a runtime's executable: GUI subsystem, and its manifest with the msix
 * element of `identity` (an earlier one replaced).
 * @throws TypeError when `executable` is not a PE executable (resedit's reason attached).
 */
export function buildLauncher(executable: Uint8Array, identity: LauncherIdentity): Uint8Array {
  for (const key of ['publisher', 'packageName', 'applicationId'] as const) {
    if (typeof identity?.[key] !== 'string' || identity[key].length === 0) throw new TypeError(`buildLauncher: identity.${key} must be a non-empty string; got ${typeof identity?.[key]}`);
  }
  const exe = parse(executable, 'buildLauncher');
  exe.newHeader.optionalHeader.subsystem = IMAGE_SUBSYSTEM_WINDOWS_GUI;
  const resources = NtExecutableResource.from(exe);
  const existing = resources.entries.find((entry) => entry.type === RT_MANIFEST && entry.id === MANIFEST_ID);
  const text = existing ? decodeManifest(existing.bin) : '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<assembly xmlns="urn:schemas-microsoft-com:asm.v1" manifestVersion="1.0"></assembly>';
  const manifest = withMsixElement(text, identity);
  const bytes = new TextEncoder().encode(manifest);
  resources.replaceResourceEntry({
    type: RT_MANIFEST, id: MANIFEST_ID, lang: existing?.lang ?? LANG_EN_US, codepage: existing?.codepage ?? 0,
    bin: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  });
  resources.outputResource(exe);
  return new Uint8Array(exe.generate());
}

/** Reads the launcher made from `from` (a runtime's .exe) into `to`, written whole before it takes its name. */
export function writeLauncher(from: string, to: string, identity: LauncherIdentity): void {
  writeFileAtomically(to, buildLauncher(readFileSync(from), identity));
}

/** The subsystem and the application manifest of an executable. */
export function readLauncherInfo(executable: Uint8Array): LauncherInfo {
  const exe = parse(executable, 'readLauncherInfo');
  const subsystem = exe.newHeader.optionalHeader.subsystem;
  const entry = NtExecutableResource.from(exe).entries.find((e) => e.type === RT_MANIFEST && e.id === MANIFEST_ID);
  const manifest = entry ? decodeManifest(entry.bin) : null;
  return {
    subsystem: subsystem === IMAGE_SUBSYSTEM_WINDOWS_GUI ? 'gui' : subsystem === IMAGE_SUBSYSTEM_WINDOWS_CUI ? 'console' : subsystem,
    manifest,
    identity: manifest ? msixIdentity(manifest) : null,
  };
}

function parse(executable: Uint8Array, caller: string): NtExecutable {
  if (!(executable instanceof Uint8Array)) throw new TypeError(`${caller}: the executable must be its bytes (a Uint8Array or Buffer)`);
  try {
    return NtExecutable.from(executable, { ignoreCert: true });
  } catch (error) {
    throw new TypeError(`${caller}: not a Windows executable (PE): ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The manifest's text: UTF-16 after its byte order mark, else UTF-8 (the runtimes' own), the mark dropped. */
function decodeManifest(bin: ArrayBuffer): string {
  const bytes = new Uint8Array(bin);
  const encoding = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : 'utf-8';
  return new TextDecoder(encoding).decode(bytes).replace(/^\uFEFF/, '');
}

/** The manifest with one msix element, `identity`'s, as the last child of <assembly>. */
function withMsixElement(manifest: string, identity: LauncherIdentity): string {
  const element = `<msix xmlns="${MSIX_NAMESPACE}" publisher="${escapeAttribute(identity.publisher)}" packageName="${escapeAttribute(identity.packageName)}" applicationId="${escapeAttribute(identity.applicationId)}"/>`;
  // An earlier msix element, under any prefix, its attribute values quoted as they may be.
  const without = manifest.replace(/<(?:[\w.-]+:)?msix\b(?:[^>"']|"[^"]*"|'[^']*')*?(?:\/>|>[\s\S]*?<\/(?:[\w.-]+:)?msix\s*>)/g, '');
  const closing = [...without.matchAll(/<\/(?:[\w.-]+:)?assembly\s*>/g)].at(-1);
  if (!closing) throw new TypeError('buildLauncher: the executable\'s application manifest has no </assembly>: it is not a side-by-side manifest');
  return `${without.slice(0, closing.index)}${element}${without.slice(closing.index)}`;
}

/** The msix element's attributes in a manifest, or null (also for a manifest that is not well-formed). */
function msixIdentity(manifest: string): LauncherIdentity | null {
  let root: XmlElement;
  try {
    root = parseXml(manifest).root;
  } catch {
    return null;
  }
  const element = root.children.find((child) => child.localName === 'msix' && child.namespace === MSIX_NAMESPACE);
  if (!element) return null;
  const value = (name: string): string => element.attributes.find((a) => a.localName === name && a.prefix === null)?.value ?? '';
  return { publisher: value('publisher'), packageName: value('packageName'), applicationId: value('applicationId') };
}
