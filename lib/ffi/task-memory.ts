import { isWindows, koffi, type Pointer } from './koffi.js';
import { windows } from './windows.js';

/**
 * Memory that crosses the COM boundary and is freed by the other side (GetIids' array, out
 * BSTR-like buffers): CoTaskMemAlloc on Windows, the C heap elsewhere (the portable host frees
 * with {@link taskMemFree} too).
 */
export function taskMemAlloc(size: number): Pointer {
  const ptr = isWindows
    ? (windows().CoTaskMemAlloc(size) as Pointer | null)
    : koffi.address(koffi.alloc('uint8_t', Math.max(size, 1)));
  if (!ptr) throw new RangeError(`out of memory allocating ${size} bytes`);
  return ptr;
}

export function taskMemFree(ptr: Pointer | null): void {
  if (!ptr) return;
  if (isWindows) windows().CoTaskMemFree(ptr);
  else koffi.free(ptr);
}
