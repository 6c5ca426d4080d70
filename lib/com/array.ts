// The elements of WinRT arrays (PassArray, FillArray, ReceiveArray) in native memory: values and
// structs as koffi encodes them, HSTRINGs and interface pointers as handles whose ownership
// depends on the direction (WinRT type system, "Arrays").
import type { NativeType, Pointer } from '../ffi/koffi.js';
import { readArray, sizeOf, writeArray, writePointer } from '../ffi/memory.js';
import { createHString, deleteHString, readHString, takeHString } from './hstring.js';
import type { ComInterface } from './interface.js';
import { releaseInterface } from '../ffi/vtable.js';
import { isWide, type ValueSpec } from './signature.js';

/** koffi's type of one element. */
export function elementType(element: ValueSpec): string | NativeType {
  return element.kind === 'hstring' || element.kind === 'interface' ? 'void *' : element.native;
}

export function elementSize(element: ValueSpec): number {
  return sizeOf(elementType(element));
}

/** Wraps an interface element (a ComPtr; `take`: owning the element's reference, else adding one). */
export type WrapInterface = (ptr: Pointer, iface: ComInterface<any>, take: boolean) => unknown;

/**
 * Reads `count` elements at `ptr`. With `take`, the caller owns what the elements hold (a
 * ReceiveArray or a filled array): HSTRINGs are deleted after reading and interface pointers
 * become ComPtrs that own their reference; otherwise they are borrowed.
 */
export function readElements(ptr: Pointer | null, count: number, element: ValueSpec, iface: ComInterface<any> | null, take: boolean, wrap: WrapInterface): unknown[] {
  if (count === 0 || ptr === null) return [];
  const values = readArray(ptr, elementType(element), count);
  switch (element.kind) {
    case 'hstring':
      return values.map((h) => (take ? takeHString(h as Pointer | null) : readHString(h as Pointer | null)));
    case 'interface':
      return values.map((p) => (p === null || p === 0n ? null : wrap(p as Pointer, iface!, take)));
    case 'struct':
      return values.map((v) => element.struct!.toJS(v, take));
    default:
      return isWide(element.native) ? values.map((v) => (typeof v === 'number' ? BigInt(v) : v)) : values;
  }
}

/**
 * Writes `values` as elements at `ptr` (room for values.length elements). `interfacePointer`
 * turns a JS value into an AddRef'd interface pointer; the returned function undoes what the
 * elements hold (deletes the HSTRINGs, releases the pointers) for the caller that keeps ownership.
 */
export function writeElements(
  ptr: Pointer,
  values: readonly unknown[],
  element: ValueSpec,
  where: string,
  interfacePointer: (value: unknown) => Pointer | null,
): () => void {
  const count = values.length;
  if (count === 0) return () => {};
  switch (element.kind) {
    case 'hstring':
    case 'interface': {
      const handles: (Pointer | null)[] = [];
      try {
        for (const [i, value] of values.entries()) {
          if (element.kind === 'hstring') {
            if (typeof value !== 'string') throw new TypeError(`${where}[${i}] must be a string, got ${typeof value}`);
            handles.push(createHString(value));
          } else {
            handles.push(value == null ? null : interfacePointer(value));
          }
        }
      } catch (error) {
        release(handles, element);
        throw error;
      }
      handles.forEach((handle, i) => writePointer(ptr, handle, i * 8));
      return () => release(handles, element);
    }
    case 'struct': {
      const strings: (() => void)[] = [];
      writeArray(ptr, element.native, values.map((v, i) => element.struct!.toNative(v, `${where}[${i}]`, strings)));
      return () => strings.forEach((done) => done());
    }
    default:
      for (const [i, value] of values.entries()) {
        if (typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'boolean') {
          throw new TypeError(`${where}[${i}] must be a number, got ${value === null ? 'null' : typeof value}`);
        }
      }
      writeArray(ptr, element.native, values);
      return () => {};
  }
}

function release(handles: (Pointer | null)[], element: ValueSpec): void {
  for (const handle of handles) {
    if (handle === null) continue;
    if (element.kind === 'hstring') deleteHString(handle);
    else releaseInterface(handle);
  }
}
