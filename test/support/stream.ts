// A JS implementation of ISequentialStream + IPersist over an in-memory byte array.
import koffi from 'koffi';
import { Guid, type Com } from '../../lib/com/index.js';
import { IPersist, IPersistStream, ISequentialStream, type SequentialStream } from './interfaces.js';

export class MemoryStream {
  static interfaces = [ISequentialStream, IPersist];
  data: number[] = [];
  position = 0;
  readonly threads = new Set<number>();
  constructor(readonly clsid: Guid) {}

  Read(buffer: bigint, size: number): number {
    const chunk = this.data.slice(this.position, this.position + size);
    if (chunk.length > 0) koffi.encode(buffer, 0, 'uint8_t', Uint8Array.from(chunk), chunk.length);
    this.position += chunk.length;
    return chunk.length;
  }

  Write(buffer: bigint, size: number): number {
    if (size > 0) this.data.push(...(koffi.decode(buffer, 'uint8_t', size) as Uint8Array));
    return size;
  }

  GetClassID(): Guid {
    return this.clsid;
  }
}

/** IPersistStream over a MemoryStream: Load reads everything from the stream it is given. */
export class PersistentStream extends MemoryStream {
  static override interfaces = [IPersistStream, ISequentialStream];

  Load(stream: Com<SequentialStream>): void {
    const buffer = new Uint8Array(256);
    for (let n = stream.Read(buffer, buffer.length); n > 0; n = stream.Read(buffer, buffer.length)) {
      this.data.push(...buffer.subarray(0, n));
    }
    stream.dispose();
  }

  GetSizeMax(): number {
    return this.data.length;
  }
}
