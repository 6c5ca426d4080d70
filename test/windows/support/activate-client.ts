// Another process that activates a task server's class through COM (CoCreateInstance,
// CLSCTX_LOCAL_SERVER) and reports what it could do across processes, as JSON in a file.
//   node activate-client.js <clsid> <result-file>
import { writeFileSync } from 'node:fs';
import '../../../lib/generated/Windows.ApplicationModel.Background.js';
import { ComError, createInstance, initializeCom, IUnknown } from '../../../lib/com/index.js';
import { resolveType, type ResolvedInterface } from '../../../lib/winrt/index.js';

const [clsid, resultFile] = process.argv.slice(2);
const result: Record<string, unknown> = {};
try {
  initializeCom('mta');
  const unknown = await createInstance(clsid!, IUnknown);
  result.activated = true;
  // Without a proxy/stub for IBackgroundTask (Wine has none until `node scripts/wine.mjs proxy`
  // registers winbg's), COM cannot hand this interface across processes.
  const task = (resolveType('Windows.ApplicationModel.Background.IBackgroundTask') as ResolvedInterface).iface;
  try {
    unknown.as(task).dispose();
    result.backgroundTask = 'ok';
  } catch (error) {
    result.backgroundTask = error instanceof ComError ? error.hresult : String(error);
  }
  unknown.dispose();
} catch (error) {
  result.activated = false;
  result.error = String(error);
}
writeFileSync(resultFile!, JSON.stringify(result));
