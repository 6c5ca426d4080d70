import { koffi, type NativeType } from './koffi.js';

/** An anonymous koffi struct (C layout rules) from fields in order; anonymous so names never clash. */
export function structLayout(fields: Readonly<Record<string, string | NativeType>>): NativeType {
  return koffi.struct(fields);
}

/** A fixed array type decoded as a JS array (e.g. GUID's `uint8_t Data4[8]`). */
export function fixedArray(type: string, length: number): NativeType {
  return koffi.array(type, length, 'Array');
}
