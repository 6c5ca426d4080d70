import { koffi, type NativeType, type Pointer } from './koffi.js';

/** Size of a pointer on this process (8 on every platform winbg supports). */
export const POINTER_SIZE: number = koffi.sizeof('void *');

/** Zeros to clear a new block from (koffi.encode copies `size` of them), never written. */
const ZEROS = new Uint8Array(1024);

let liveBlocks = 0;
let liveBytes = 0;

/**
 * Allocates `size` zeroed bytes of native memory that never moves, for vtables and COM object
 * headers that native code keeps pointers to. Counted, so tests can prove nothing leaks.
 */
export function allocate(size: number, zeroed = true): Pointer {
  const ptr = koffi.address(koffi.alloc('uint8_t', size));
  // `zeroed` false: the caller writes every byte itself.
  if (zeroed) koffi.encode(ptr, 0, 'uint8_t', size <= ZEROS.length ? ZEROS : new Uint8Array(size), size);
  liveBlocks++;
  liveBytes += size;
  return ptr;
}

/** Frees memory from {@link allocate}; `size` must be the size it was allocated with. */
export function release(ptr: Pointer, size: number): void {
  koffi.free(ptr);
  liveBlocks--;
  liveBytes -= size;
}

const accounting: (() => void)[] = [];

/** @internal Runs `fn` before {@link nativeMemoryInUse} counts (to free what is already released). */
export function beforeAccounting(fn: () => void): void {
  accounting.push(fn);
}

/** Native memory that winbg allocated and has not freed yet. */
export function nativeMemoryInUse(): { blocks: number; bytes: number } {
  for (const fn of accounting) fn();
  return { blocks: liveBlocks, bytes: liveBytes };
}

export function readPointer(ptr: Pointer, offset = 0): Pointer | null {
  const value = koffi.decode(ptr, offset, 'void *') as Pointer | null;
  return value === 0n ? null : value;
}

export function writePointer(ptr: Pointer, value: Pointer | null, offset = 0): void {
  koffi.encode(ptr, offset, 'void *', value);
}

export function readUint32(ptr: Pointer, offset = 0): number {
  return koffi.decode(ptr, offset, 'uint32_t') as number;
}

export function writeUint32(ptr: Pointer, value: number, offset = 0): void {
  koffi.encode(ptr, offset, 'uint32_t', value);
}

export function readInt32(ptr: Pointer, offset = 0): number {
  return koffi.decode(ptr, offset, 'int32_t') as number;
}

export function writeInt32(ptr: Pointer, value: number, offset = 0): void {
  koffi.encode(ptr, offset, 'int32_t', value);
}

export function readBytes(ptr: Pointer, length: number, offset = 0): Uint8Array {
  return new Uint8Array(koffi.decode(ptr, offset, 'uint8_t', length) as Uint8Array);
}

export function writeBytes(ptr: Pointer, bytes: Uint8Array, offset = 0): void {
  koffi.encode(ptr, offset, 'uint8_t', bytes, bytes.length);
}

/**
 * Reads `length` UTF-16 code units exactly as stored: embedded NULs and unpaired surrogates are
 * kept (a TextDecoder would stop or substitute U+FFFD).
 */
export function readUtf16(ptr: Pointer, length: number, offset = 0): string {
  if (length === 0) return '';
  const units = koffi.decode(ptr, offset, 'uint16_t', length) as Uint16Array;
  let text = '';
  for (let i = 0; i < length; i += 8192) {
    text += String.fromCharCode.apply(null, units.subarray(i, i + 8192) as unknown as number[]);
  }
  return text;
}

/** Writes the string's UTF-16 code units (no terminator) at `ptr + offset`. */
export function writeUtf16(ptr: Pointer, text: string, offset = 0): void {
  if (text.length === 0) return;
  koffi.encode(ptr, offset, 'uint16_t', toUtf16(text), text.length);
}

export function toUtf16(text: string): Uint16Array {
  const units = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
  return units;
}

/** Reads a NUL-terminated UTF-16 string (LPCWSTR). */
export function readWideString(ptr: Pointer): string {
  return koffi.decode(ptr, 'char16_t *') as string;
}

/** A NUL-terminated UTF-16 copy of `text`, to pass where a `const WCHAR *` is expected. */
export function wideString(text: string): Uint16Array {
  const units = new Uint16Array(text.length + 1);
  for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
  return units;
}

/** Writes a value of a koffi type (e.g. 'int32_t', 'double', a struct type) at `ptr`. */
export function writeValue(ptr: Pointer, type: string | NativeType, value: unknown): void {
  koffi.encode(ptr, type, value);
}

/** The size of a koffi type: a primitive name or a struct type. */
export function sizeOf(type: string | NativeType): number {
  return koffi.sizeof(type);
}

/** `count` values of `type` read at `ptr`. */
export function readArray(ptr: Pointer, type: string | NativeType, count: number): unknown[] {
  return Array.from(koffi.decode(ptr, type, count) as ArrayLike<unknown>);
}

/** Writes `values` as consecutive values of `type` at `ptr`. */
export function writeArray(ptr: Pointer, type: string | NativeType, values: readonly unknown[]): void {
  koffi.encode(ptr, type, values, values.length);
}
