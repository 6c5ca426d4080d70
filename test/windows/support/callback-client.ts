// A client process that hands the server an object of its own: IPersistStream::Load(IStream)
// makes the server call back into this process's JS IStream while Load is still running. The
// call is made with callAsync, so that this JS thread is free to serve the callback.
//   node callback-client.js <clsid> <result-file>
import { writeFileSync } from 'node:fs';
import koffi from 'koffi';
import { createInstance, initializeCom } from '../../../lib/com/index.js';
import { IPersistStream, IStream, type PersistStream } from '../../support/interfaces.js';

const [clsid, resultFile] = process.argv.slice(2);
const result: Record<string, unknown> = {};
try {
  initializeCom('mta');
  const payload = new TextEncoder().encode('payload served by the client');
  let position = 0;
  const source = {
    interfaces: [IStream],
    reads: 0,
    Read(buffer: bigint, size: number): number {
      this.reads++;
      const chunk = payload.subarray(position, position + Math.min(size, 7)); // several round trips
      if (chunk.length > 0) koffi.encode(buffer, 0, 'uint8_t', chunk, chunk.length);
      position += chunk.length;
      return chunk.length;
    },
  };
  const persist = await createInstance<PersistStream>(clsid!, IPersistStream);
  await persist.callAsync('Load', source as never);
  result.reads = source.reads;
  result.size = Number(persist.GetSizeMax());
  persist.dispose();
  result.ok = true;
} catch (error) {
  result.ok = false;
  result.error = String(error);
}
writeFileSync(resultFile!, JSON.stringify(result));
