// Byte decoding inside blobs: compressed integers (ECMA-335 §II.23.2) and a bounded cursor over
// one blob. What the bytes mean (signatures, custom attributes) is in signatures.ts and
// attributes.ts.
import type { Bytes } from './bytes.js';

/**
 * Decodes the compressed unsigned integer at `offset` (§II.23.2): 1, 2 or 4 bytes with the width
 * in the top bits of the first byte. Returns the value and its size; fails if it would pass `end`.
 */
export function readCompressed(bytes: Bytes, where: string, offset: number, end: number): { value: number; size: number } {
  if (offset >= end) bytes.fail(where, offset, 'compressed integer runs past the end of its blob');
  const b0 = bytes.u8(where, offset);
  if ((b0 & 0x80) === 0) return { value: b0, size: 1 };
  if ((b0 & 0xc0) === 0x80) {
    if (offset + 2 > end) bytes.fail(where, offset, 'compressed integer runs past the end of its blob');
    return { value: ((b0 & 0x3f) << 8) | bytes.u8(where, offset + 1), size: 2 };
  }
  if ((b0 & 0xe0) === 0xc0) {
    if (offset + 4 > end) bytes.fail(where, offset, 'compressed integer runs past the end of its blob');
    const value = ((b0 & 0x1f) << 24) | (bytes.u8(where, offset + 1) << 16) | (bytes.u8(where, offset + 2) << 8) | bytes.u8(where, offset + 3);
    return { value, size: 4 };
  }
  return bytes.fail(where, offset, `invalid compressed integer lead byte 0x${b0.toString(16)}`);
}

/** A cursor over the bytes [start, end) of one blob; every read stays inside it. */
export class BlobReader {
  readonly bytes: Bytes;
  readonly start: number;
  readonly end: number;
  readonly where: string;
  position: number;

  constructor(bytes: Bytes, start: number, end: number, where = '#Blob') {
    this.bytes = bytes;
    this.start = start;
    this.end = end;
    this.where = where;
    this.position = start;
  }

  get remaining(): number {
    return this.end - this.position;
  }

  fail(detail: string, offset = this.position): never {
    return this.bytes.fail(this.where, offset, detail);
  }

  #take(size: number): number {
    const at = this.position;
    if (at + size > this.end) this.fail(`${size}-byte value runs past the end of the blob (${this.end - this.start} bytes at ${this.start})`);
    this.position = at + size;
    return at;
  }

  u8(): number {
    return this.bytes.u8(this.where, this.#take(1));
  }
  peek(): number {
    if (this.position >= this.end) this.fail('blob ends early');
    return this.bytes.u8(this.where, this.position);
  }
  i8(): number {
    return this.bytes.i8(this.where, this.#take(1));
  }
  u16(): number {
    return this.bytes.u16(this.where, this.#take(2));
  }
  i16(): number {
    return this.bytes.i16(this.where, this.#take(2));
  }
  u32(): number {
    return this.bytes.u32(this.where, this.#take(4));
  }
  i32(): number {
    return this.bytes.i32(this.where, this.#take(4));
  }
  u64(): bigint {
    return this.bytes.u64(this.where, this.#take(8));
  }
  i64(): bigint {
    return this.bytes.i64(this.where, this.#take(8));
  }
  f32(): number {
    return this.bytes.f32(this.where, this.#take(4));
  }
  f64(): number {
    return this.bytes.f64(this.where, this.#take(8));
  }
  utf8(length: number): string {
    return this.bytes.utf8(this.where, this.#take(length), length);
  }
  utf16(length: number): string {
    return this.bytes.utf16(this.where, this.#take(length), length);
  }

  /** A compressed unsigned integer (§II.23.2). */
  compressed(): number {
    const { value, size } = readCompressed(this.bytes, this.where, this.position, this.end);
    this.position += size;
    return value;
  }

  /**
   * A compressed signed integer (§II.23.2): the unsigned encoding of the value rotated left by
   * one bit, so the sign is the lowest bit, within 6, 13 or 28 bits.
   */
  compressedSigned(): number {
    const { value, size } = readCompressed(this.bytes, this.where, this.position, this.end);
    this.position += size;
    const magnitude = value >>> 1;
    if ((value & 1) === 0) return magnitude;
    return magnitude - (size === 1 ? 0x40 : size === 2 ? 0x2000 : 0x10000000);
  }

  /**
   * A count of items that each take at least `minSize` bytes: fails when the rest of the blob
   * cannot hold them, which bounds every loop over a count read from the file.
   */
  count(value: number, minSize: number, what: string): number {
    if (value * minSize > this.remaining) this.fail(`${what} count ${value} cannot fit in the ${this.remaining} bytes left`);
    return value;
  }
}
