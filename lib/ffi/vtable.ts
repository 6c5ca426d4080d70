// A COM object's vtable slots called from the layers below ComPtr (error information, array
// elements, the aggregated marshaler), as C does: `p->lpVtbl->Method(p, ...)`. The decoded
// function is cached by its address, so a slot whose function changes is decoded afresh.
import { koffi, type NativeType, type Pointer } from './koffi.js';

type NativeFn = (...args: any[]) => any;
const decoded = new Map<NativeType, Map<Pointer, NativeFn>>();

/** The function in slot `slot` of `self`'s vtable, callable with `proto` (`this` first). */
export function slotFunction(self: Pointer, slot: number, proto: NativeType): NativeFn {
  const vtable = koffi.decode(self, 'void *') as Pointer;
  const address = koffi.decode(vtable, slot * 8, 'void *') as Pointer;
  let byAddress = decoded.get(proto);
  if (!byAddress) decoded.set(proto, (byAddress = new Map()));
  let fn = byAddress.get(address);
  if (!fn) byAddress.set(address, (fn = koffi.decode(address, proto) as NativeFn));
  return fn;
}

const releaseProto = koffi.proto('__stdcall', null, 'uint32_t', ['void *']);
const queryProto = koffi.proto('__stdcall', null, 'int32_t', ['void *', 'void *', koffi.out(koffi.pointer('void *'))]);

/** IUnknown::Release of any COM object; returns the new count. */
export function releaseInterface(self: Pointer): number {
  return slotFunction(self, 2, releaseProto)(self) as number;
}

/** IUnknown::QueryInterface of any COM object: the interface pointer (one reference), or the failed HRESULT. */
export function queryInterface(self: Pointer, iid: Uint8Array): Pointer | number {
  const out: [Pointer | null] = [null];
  const hr = slotFunction(self, 0, queryProto)(self, iid, out) as number;
  return hr < 0 ? hr : out[0] ?? -2147467261 /* E_POINTER */;
}
