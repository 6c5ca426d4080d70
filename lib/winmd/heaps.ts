// The heaps: #Strings, #Blob, #GUID, #US (ECMA-335 §II.24.2.3, §II.24.2.4, §II.24.2.5).
import { readCompressed } from './blob.js';
import type { Bytes } from './bytes.js';
import type { Stream } from './streams.js';

/** A heap's place in the file: its stream's offset and size (§II.24.2.2); an absent stream is empty. */
abstract class Heap {
  protected readonly bytes: Bytes;
  protected readonly start: number;
  protected readonly size: number;

  constructor(bytes: Bytes, stream: Stream | null) {
    this.bytes = bytes;
    this.start = stream?.offset ?? 0;
    this.size = stream?.size ?? 0;
  }
}

/** #Strings: NUL-terminated UTF-8 strings addressed by byte offset; 0 is the empty string. */
export class StringHeap extends Heap {
  readonly #cache = new Map<number, string>();

  get(index: number): string {
    if (index === 0) return '';
    const cached = this.#cache.get(index);
    if (cached !== undefined) return cached;
    if (index >= this.size) this.bytes.fail('#Strings', this.start + Math.min(index, this.size), `string index ${index} is outside the heap (${this.size} bytes)`);
    const data = this.bytes.data;
    const from = this.start + index;
    const end = this.start + this.size;
    let at = from;
    while (at < end && data[at] !== 0) at++;
    if (at >= end) this.bytes.fail('#Strings', from, 'string is not NUL-terminated within the heap');
    const text = this.bytes.utf8('#Strings', from, at - from);
    this.#cache.set(index, text);
    return text;
  }
}

/** A blob's bytes: the file offsets [start, end). */
export interface BlobRange {
  readonly start: number;
  readonly end: number;
}

/** #Blob: byte arrays with a compressed length prefix (§II.24.2.4); 0 is the empty blob. */
export class BlobHeap extends Heap {


  get(index: number): BlobRange {
    const heapEnd = this.start + this.size;
    if (index === 0 && this.size === 0) return { start: this.start, end: this.start };
    if (index >= this.size) this.bytes.fail('#Blob', this.start + Math.min(index, this.size), `blob index ${index} is outside the heap (${this.size} bytes)`);
    const at = this.start + index;
    const { value, size } = readCompressed(this.bytes, '#Blob', at, heapEnd);
    const start = at + size;
    if (value > heapEnd - start) this.bytes.fail('#Blob', at, `blob of ${value} bytes runs past the end of the heap`);
    return { start, end: start + value };
  }
}

/** #GUID: 16-byte GUIDs addressed by 1-based index; 0 is no GUID (§II.24.2.5). */
export class GuidHeap extends Heap {


  /** The GUID in canonical upper-case form without braces, or null for index 0. */
  get(index: number): string | null {
    if (index === 0) return null;
    if (index * 16 > this.size) this.bytes.fail('#GUID', this.start + this.size, `GUID index ${index} is outside the heap (${Math.floor(this.size / 16)} GUIDs)`);
    const at = this.start + (index - 1) * 16;
    const b = this.bytes;
    const hex = (value: number, digits: number): string => value.toString(16).padStart(digits, '0');
    let tail = '';
    for (let i = 8; i < 16; i++) tail += hex(b.u8('#GUID', at + i), 2) + (i === 9 ? '-' : '');
    return `${hex(b.u32('#GUID', at), 8)}-${hex(b.u16('#GUID', at + 4), 4)}-${hex(b.u16('#GUID', at + 6), 4)}-${tail}`.toUpperCase();
  }
}

/** #US: UTF-16 user strings with a compressed length prefix and a final flag byte (§II.24.2.4). */
export class UserStringHeap extends Heap {


  get(index: number): string {
    if (index === 0) return '';
    if (index >= this.size) this.bytes.fail('#US', this.start + Math.min(index, this.size), `user string index ${index} is outside the heap (${this.size} bytes)`);
    const at = this.start + index;
    const heapEnd = this.start + this.size;
    const { value, size } = readCompressed(this.bytes, '#US', at, heapEnd);
    if (value > heapEnd - at - size) this.bytes.fail('#US', at, `user string of ${value} bytes runs past the end of the heap`);
    // The length counts the final byte (1 when any character needs more than 8 bits), not text.
    return this.bytes.utf16('#US', at + size, Math.max(0, value - 1));
  }
}
