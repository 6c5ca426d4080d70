// A JS implementation of ISequentialStream + IPersist over an in-memory byte array.
import koffi from 'koffi';
import { Guid } from '../../lib/com/index.js';
import { IPersist, ISequentialStream } from './interfaces.js';

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
