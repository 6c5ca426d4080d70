// The package manifest side of a packaged background task: a complete AppxManifest.xml (sparse or
// full) and its folder, the windows.comServer block that lets COM start the task's process, and
// a check of an existing AppxManifest.xml, and the package's registration with Windows.
export {
  DEFAULT_ACTIVATION_ARGUMENT,
  comServerExtension,
  type ComServerExtension,
  type ComServerExtensionOptions,
  type NamespaceDeclaration,
} from './com-server.js';
export { checkManifest, type CheckManifestOptions, type ManifestCheck, type ManifestFinding } from './check.js';
export { COM_NAMESPACE, FOUNDATION_NAMESPACE } from './namespaces.js';
export {
  packageManifest, serverArguments, unsignedPublisher, UNSIGNED_PUBLISHER_OID, MIN_WINDOWS_VERSION,
  type PackageManifest, type PackageManifestOptions, type PackageTask,
} from './package.js';
export { logoPng, writePackageLayout } from './layout.js';
export { buildLauncher, readLauncherInfo, writeLauncher, type LauncherIdentity, type LauncherInfo } from './launcher.js';
export { executableFile, readPackageManifest, type PackageManifestInfo } from './package-info.js';
export {
  registerPackage, unregisterPackage, findPackages, explainDeployment, PackageInputError,
  type PackageRegistrationOptions, type RegisteredPackage,
} from './register.js';
export { XmlSyntaxError, parseXml, type XmlAttribute, type XmlDocument, type XmlElement } from './xml.js';
import '../tasks/index.js'; // the whole runtime of a served task, so that the bundle keeps it in one chunk (README, Start-up)
