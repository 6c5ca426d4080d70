// The XML namespaces of the Windows 10 package manifest that winbg writes and reads. Where each URI
// is documented (the "Requirements" table of every element page of the package manifest schema
// reference, https://learn.microsoft.com/uwp/schemas/appxpackage/uapmanifestschema/schema-root):

/**
 * `com:` — `com:Extension`, `com:ComServer`, `com:ExeServer` and `com:Class (in ExeServer)` pages.
 * `LaunchAndActivationPermission` is an (optional) attribute of `com:ExeServer` in this namespace,
 * so the block `winbg manifest` writes needs no other COM namespace.
 */
export const COM_NAMESPACE = 'http://schemas.microsoft.com/appx/manifest/com/windows10';

/**
 * The later COM schemas (`com2:` … `com5:`, "What's different in Windows 10"), which repeat
 * `Extension`/`ComServer`/`ExeServer`/`Class` with more attributes. A manifest may declare the
 * comServer extension with any of them, so {@link checkManifest} accepts all of them.
 */
const VERSIONED_COM_NAMESPACE = /^http:\/\/schemas\.microsoft\.com\/appx\/manifest\/com\/windows10(?:\/([2-9]|[1-9]\d+))?$/;

/** The default namespace of `<Package>` and its `<Applications>`/`<Application>`/`<Extensions>`. */
export const FOUNDATION_NAMESPACE = 'http://schemas.microsoft.com/appx/manifest/foundation/windows10';

/** Whether `uri` is {@link COM_NAMESPACE} or one of its versions (`…/com/windows10/2` and on). */
export function isComNamespace(uri: string | null): boolean {
  return uri !== null && VERSIONED_COM_NAMESPACE.test(uri);
}

/** The URI a conventional prefix (`com`, `com2`, …) stands for, or null for any other prefix. */
export function comNamespaceOfPrefix(prefix: string): string | null {
  const match = /^com([2-9]|[1-9]\d+)?$/.exec(prefix);
  return match ? (match[1] ? `${COM_NAMESPACE}/${match[1]}` : COM_NAMESPACE) : null;
}
