// What the ComPtr layer (pointer.ts) needs of the JS-object layer above it, without importing it:
// whether a pointer is a JS COM object of this process, a JS object made a COM object, freeing
// what a Release to zero left, and the state of the stubs registered inside callbacks. The
// object layer (object.ts) fills these in when it loads; until then there are no JS COM objects.
import type { ComInterface } from './interface.js';
import type { Pointer } from '../ffi/koffi.js';

interface ObjectLayer {
  implementation(ptr: Pointer): object | undefined;
  pointer(value: object, interfaces: readonly ComInterface<any>[]): Pointer;
  released(): void;
  unsettled(): boolean;
  settle(): void;
}

let layer: ObjectLayer | null = null;
let epoch = 0;

/** @internal Called once by lib/com/object.ts. */
export function setObjectLayer(next: ObjectLayer): void {
  layer = next;
}

/** The JS object behind `ptr` when it is a JS COM object of this process. */
export function localImplementation(ptr: Pointer): object | undefined {
  return layer?.implementation(ptr);
}

/**
 * An AddRef'd IUnknown pointer of `value` as a COM object implementing `interfaces`: the object's
 * existing identity when it already is one (as C#/WinRT's CCWs keep theirs), else a new one.
 */
export function localObjectPointer(value: object, interfaces: readonly ComInterface<any>[], where: string): Pointer {
  if (!layer) throw new TypeError(`${where}: JS objects become COM objects through winbg/com (lib/com/object.js), which is not loaded`);
  return layer.pointer(value, interfaces);
}

/** Frees what a Release that returned 0 left for the JS thread to free (JS COM objects). */
export function lastReleased(): void {
  layer?.released();
}

/** Whether stubs registered inside a callback wait to be registered again (see object.ts). */
export function hasUnsettledStubs(): boolean {
  return layer !== null && layer.unsettled();
}

/** Registers those stubs again, now that the JS thread is outside every callback. */
export function settleStubs(): void {
  layer?.settle();
}

/** Changes each time settling repoints vtables: decoded vtable functions cached before are stale. */
export function stubEpoch(): number {
  return epoch;
}

/** @internal */
export function nextStubEpoch(): void {
  epoch++;
}
