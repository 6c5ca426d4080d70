// The package manifest side of a packaged background task: the windows.comServer block that lets
// COM start the task's process, and a check of an existing AppxManifest.xml.
export {
  DEFAULT_ACTIVATION_ARGUMENT,
  comServerExtension,
  type ComServerExtension,
  type ComServerExtensionOptions,
  type NamespaceDeclaration,
} from './com-server.js';
export { checkManifest, type CheckManifestOptions, type ManifestCheck, type ManifestFinding } from './check.js';
export { COM_NAMESPACE, FOUNDATION_NAMESPACE } from './namespaces.js';
export { XmlSyntaxError, parseXml, type XmlAttribute, type XmlDocument, type XmlElement } from './xml.js';
import '../tasks/index.js'; // the whole runtime of a served task, so that the bundle keeps it in one chunk (README, Start-up)
