// A COM object's vtable slots called from the layers below ComPtr (error information, array
// elements, the aggregated marshaler), as C does: `p->lpVtbl->Method(p, ...)`. The decoded
// function is cached by its address, so a slot whose function changes is decoded afresh.
import { koffi, type NativeType, type Pointer } from './koffi.js';
import { nativeUnknown, type NativeUnknown } from './native-unknown.js';

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
const queryProto = koffi.proto('__stdcall', null, 'int32_t', ['void *', 'void *', 'void *']);

let thunks: NativeUnknown['through'] | null | undefined;

/**
 * IUnknown's methods of any COM object called through its vtable by winbg's machine code
 * (native-unknown.ts), which needs neither the vtable nor the slot read first; null where there
 * is none (then the slots are read and decoded, as slotFunction does).
 */
export function unknownThroughVtable(): NativeUnknown['through'] | null {
  return thunks === undefined ? (thunks = nativeUnknown()?.through ?? null) : thunks;
}

/** IUnknown::Release of any COM object; returns the new count. */
export function releaseInterface(self: Pointer): number {
  const through = unknownThroughVtable();
  return (through ? through.release(self) : slotFunction(self, 2, releaseProto)(self)) as number;
}

/** QueryInterface's out-pointer, reused (taken while a call holds it: a JS QueryInterface it reaches may query in turn). */
let queryOut: BigUint64Array | null = new BigUint64Array(new ArrayBuffer(8));

/** IUnknown::QueryInterface of any COM object: the interface pointer (one reference), or the failed HRESULT. */
export function queryInterface(self: Pointer, iid: Uint8Array): Pointer | number {
  return query(self, iid);
}

/**
 * The COM identity of the object `self` points to: the address of its IUnknown, the same from
 * every interface of one object (IUnknown::QueryInterface's rule, "object identity" in the COM
 * specification), as a number; or QueryInterface's failed HRESULT, which is negative. The
 * reference QueryInterface added is released again: the address stays the object's while the
 * caller holds one of its own. A number, not a bigint: it is what the machine code's one call
 * returns through koffi (a 64-bit integer up to 2^53 comes as a Number, and user-mode addresses
 * of x86-64 and arm64 are below 2^47 or 2^48 unless a process asks for more, with 5-level paging
 * or 52-bit addresses), and a number is the cheaper Map key. A bigint where koffi gives one, above
 * that, so that no two addresses are ever made one. `iidUnknown`: IID_IUnknown's 16 bytes, for the
 * path without the machine code (which has them in its frame).
 */
export function identityAddress(self: Pointer, iidUnknown: Uint8Array): number | bigint {
  const through = unknownThroughVtable();
  if (through) return through.identity(self);
  const result = query(self, iidUnknown);
  if (typeof result === 'number') return result;
  releaseInterface(result);
  return result <= MAX_SAFE ? Number(result) : result;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function query(self: Pointer, iid: Uint8Array): Pointer | number {
  // A typed array for the out-pointer (lib/com/out-memory.ts says why, not koffi's _Out_ box).
  const out = queryOut ?? new BigUint64Array(new ArrayBuffer(8));
  queryOut = null;
  try {
    out[0] = 0n;
    const through = unknownThroughVtable();
    const hr = (through ? through.queryInterface(self, iid, out) : slotFunction(self, 0, queryProto)(self, iid, out)) as number;
    return hr < 0 ? hr : out[0] || -2147467261 /* E_POINTER */;
  } finally {
    queryOut = out;
  }
}
