// The other process of the out-of-process tests: activates a class that the test process serves
// (CoCreateInstance with CLSCTX_LOCAL_SERVER), calls it across processes, and writes what it saw
// as JSON to the file named on its command line (a Windows node.exe under Wine cannot write to
// a Linux pipe, so no stdout).
//   node client.js <clsid> <result-file>
import { writeFileSync } from 'node:fs';
import { ComError, createInstance, initializeCom, isWindows } from '../../../lib/com/index.js';
import { IPersist, ISequentialStream, type Persist, type SequentialStream } from '../../support/interfaces.js';

const [clsid, resultFile] = process.argv.slice(2);
const result: Record<string, unknown> = { pid: process.pid };
try {
  if (!isWindows || !clsid || !resultFile) throw new Error('usage: client.js <clsid> <result-file> (on Windows)');
  initializeCom('mta');
  const started = performance.now();
  const stream = await createInstance<SequentialStream>(clsid, ISequentialStream);
  result.activationMs = performance.now() - started;
  const message = new TextEncoder().encode('hello from another process');
  result.written = stream.Write(message, message.length);
  const buffer = new Uint8Array(64);
  const read = stream.Read(buffer, buffer.length);
  result.read = new TextDecoder().decode(buffer.subarray(0, read));
  const persist = stream.as<Persist>(IPersist);
  result.classId = persist.GetClassID().toString();
  persist.dispose();
  stream.dispose();
  result.ok = true;
} catch (error) {
  result.ok = false;
  result.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (error instanceof ComError) result.hresult = error.hresult;
}
writeFileSync(resultFile!, JSON.stringify(result));
