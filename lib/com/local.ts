// What the ComPtr layer needs to know of the JS-object layer above it, without importing it:
// whether a pointer is a JS COM object of this process, and a way to have released objects freed
// at once after a Release returned 0 (lib/com/object.ts registers both).
import type { Pointer } from '../ffi/koffi.js';

let lookup: (ptr: Pointer) => object | undefined = () => undefined;
let released: () => void = () => {};

/** @internal Set by the JS-object layer. */
export function setLocalIdentity(fn: (ptr: Pointer) => object | undefined): void {
  lookup = fn;
}

/** @internal Set by the JS-object layer. */
export function afterLastRelease(fn: () => void): void {
  released = fn;
}

/** The JS object behind `ptr` when it is a JS COM object of this process. */
export function localImplementation(ptr: Pointer): object | undefined {
  return lookup(ptr);
}

/** Frees what a Release that returned 0 left for the JS thread to free (JS COM objects). */
export function lastReleased(): void {
  released();
}
