// The bytes of one file: every read is checked against the file's length, so that no DataView
// RangeError ever escapes; a read outside the file is a WinmdError naming what was being read.
import { WinmdError } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf16 = new TextDecoder('utf-16le', { fatal: false });

export class Bytes {
  readonly file: string;
  readonly data: Uint8Array;
  readonly length: number;
  readonly #view: DataView;

  constructor(file: string, data: Uint8Array) {
    this.file = file;
    this.data = data;
    this.length = data.byteLength;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  fail(where: string, offset: number, detail: string): never {
    throw new WinmdError(this.file, where, offset, detail);
  }

  /** Throws unless the `length` bytes at `offset` lie inside the file. */
  check(where: string, offset: number, length: number, what = 'data'): void {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.length)) {
      this.fail(where, Math.max(0, Math.min(offset, this.length)), `${what} (${length} bytes at ${offset}) runs past the end of the file (${this.length} bytes)`);
    }
  }

  u8(where: string, offset: number): number {
    this.check(where, offset, 1);
    return this.data[offset]!;
  }

  u16(where: string, offset: number): number {
    this.check(where, offset, 2);
    return this.#view.getUint16(offset, true);
  }

  u32(where: string, offset: number): number {
    this.check(where, offset, 4);
    return this.#view.getUint32(offset, true);
  }

  i8(where: string, offset: number): number {
    this.check(where, offset, 1);
    return this.#view.getInt8(offset);
  }

  i16(where: string, offset: number): number {
    this.check(where, offset, 2);
    return this.#view.getInt16(offset, true);
  }

  i32(where: string, offset: number): number {
    this.check(where, offset, 4);
    return this.#view.getInt32(offset, true);
  }

  i64(where: string, offset: number): bigint {
    this.check(where, offset, 8);
    return this.#view.getBigInt64(offset, true);
  }

  u64(where: string, offset: number): bigint {
    this.check(where, offset, 8);
    return this.#view.getBigUint64(offset, true);
  }

  f32(where: string, offset: number): number {
    this.check(where, offset, 4);
    return this.#view.getFloat32(offset, true);
  }

  f64(where: string, offset: number): number {
    this.check(where, offset, 8);
    return this.#view.getFloat64(offset, true);
  }

  /** `length` bytes at `offset` as UTF-8 (invalid sequences become U+FFFD). */
  utf8(where: string, offset: number, length: number): string {
    this.check(where, offset, length);
    return utf8.decode(this.data.subarray(offset, offset + length));
  }

  /** `length` bytes at `offset` as UTF-16LE (an odd final byte is left out). */
  utf16(where: string, offset: number, length: number): string {
    this.check(where, offset, length);
    return utf16.decode(this.data.subarray(offset, offset + (length & ~1)));
  }
}
