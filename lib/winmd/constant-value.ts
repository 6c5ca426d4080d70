// Constant values (ECMA-335 §II.22.9): the blob holds the value in the form of its element type.
import type { BlobReader } from './blob.js';
import { ElementType } from './signatures.js';

/** A field's or parameter's constant: numbers up to 32 bits and floats, bigint for 64 bits. */
export type ConstantValue = boolean | number | bigint | string | null;

export function readConstant(r: BlobReader, type: number): ConstantValue {
  switch (type) {
    case ElementType.Boolean:
      return r.u8() !== 0;
    case ElementType.Char:
      return String.fromCharCode(r.u16());
    case ElementType.I1:
      return r.i8();
    case ElementType.U1:
      return r.u8();
    case ElementType.I2:
      return r.i16();
    case ElementType.U2:
      return r.u16();
    case ElementType.I4:
      return r.i32();
    case ElementType.U4:
      return r.u32();
    case ElementType.I8:
      return r.i64();
    case ElementType.U8:
      return r.u64();
    case ElementType.R4:
      return r.f32();
    case ElementType.R8:
      return r.f64();
    case ElementType.String:
      // The whole blob, UTF-16 (§II.22.9); no length prefix of its own.
      return r.utf16(r.remaining);
    case ElementType.Class:
      // A null reference: the blob is a 4-byte zero.
      return null;
  }
  return r.fail(`constant of element type 0x${type.toString(16)}`, r.start);
}
