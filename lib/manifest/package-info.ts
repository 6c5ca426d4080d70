// What registration needs to know of a package manifest: its identity, whether it is sparse
// (uap10:AllowExternalContent), and the executables it names (Application and com:ExeServer),
// which a sparse package's external location must hold.
import { isAbsolute, join } from 'node:path';
import { FOUNDATION_NAMESPACE, isComNamespace } from './namespaces.js';
import { attributeValue, descendants, parseXml, XmlSyntaxError } from './xml.js';

const UAP10 = 'http://schemas.microsoft.com/appx/manifest/uap/windows10/10';

export interface PackageManifestInfo {
  readonly name: string;
  readonly publisher: string;
  readonly version: string;
  readonly architecture: string;
  /** Properties/uap10:AllowExternalContent is true: a package with an external location. */
  readonly sparse: boolean;
  /** Each Application's and com:ExeServer's Executable, once each, in document order. */
  readonly executables: readonly string[];
}

/**
 * Reads `text`, the AppxManifest.xml at `where` (for messages).
 * @throws TypeError saying where the manifest is malformed or what it lacks.
 */
export function readPackageManifest(text: string, where: string): PackageManifestInfo {
  let root;
  try {
    root = parseXml(text).root;
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw new TypeError(`${where}:${error.line}:${error.column}: not well-formed XML: ${error.reason}`);
    throw error;
  }
  if (root.localName !== 'Package' || root.namespace !== FOUNDATION_NAMESPACE) {
    throw new TypeError(`${where}: the root element is not <Package xmlns="${FOUNDATION_NAMESPACE}"> (not a package manifest)`);
  }
  const elements = [...descendants(root)];
  const identity = elements.find((e) => e.localName === 'Identity' && e.namespace === FOUNDATION_NAMESPACE && e.parent === root);
  if (!identity) throw new TypeError(`${where}: the manifest has no <Identity> (Name, Publisher, Version)`);
  const field = (name: string): string => {
    const value = attributeValue(identity, name);
    if (value === undefined || value === '') throw new TypeError(`${where}:${identity.line}: <Identity> has no ${name}`);
    return value;
  };
  const external = elements.find((e) => e.localName === 'AllowExternalContent' && e.namespace === UAP10);
  const executables: string[] = [];
  for (const element of elements) {
    const application = element.localName === 'Application' && element.namespace === FOUNDATION_NAMESPACE;
    const server = element.localName === 'ExeServer' && isComNamespace(element.namespace);
    const executable = application || server ? attributeValue(element, 'Executable') : undefined;
    if (executable !== undefined && !executables.includes(executable)) executables.push(executable);
  }
  return {
    name: field('Name'),
    publisher: field('Publisher'),
    version: field('Version'),
    architecture: attributeValue(identity, 'ProcessorArchitecture') ?? 'neutral',
    sparse: external?.text.trim() === 'true',
    executables,
  };
}

/** Where a manifest's Executable (relative to `base`, the package or its external location, with \ or /) is on this machine. */
export function executableFile(base: string, executable: string): string {
  return isAbsolute(executable) ? executable : join(base, ...executable.split(/[\\/]/));
}
