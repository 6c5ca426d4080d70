import type { ParsedSignature } from '../com/signature.js';
import { koffi, type NativeType } from './koffi.js';

export interface MethodPrototypes {
  /** For calling a native vtable slot: out-parameters are koffi out-pointers ([value] boxes). */
  readonly call: NativeType;
  /** For a JS vtable slot called by native code: every pointer arrives as a raw address. */
  readonly stub: NativeType;
}

/** koffi prototypes of a COM method: `this` first, then the parameters, __stdcall (WINAPI). */
export function methodPrototypes(signature: ParsedSignature): MethodPrototypes {
  const result = signature.returns.native;
  const call = ['void *', ...signature.params.map((p) => (p.direction === 'out' ? koffi.out(koffi.pointer(p.native)) : p.native))];
  const stub = ['void *', ...signature.params.map((p) => (p.direction === 'out' ? 'void *' : p.native))];
  return {
    call: koffi.proto('__stdcall', null, result, call),
    stub: koffi.proto('__stdcall', null, result, stub),
  };
}

/** Registers a JS function as a native function pointer of the stub prototype. */
export function registerStub(fn: (...args: any[]) => unknown, prototypes: MethodPrototypes): bigint {
  return koffi.register(fn, koffi.pointer(prototypes.stub));
}

/** A callable for the native function at `address` (a vtable slot). */
export function nativeFunction(address: bigint, prototypes: MethodPrototypes): (...args: any[]) => any {
  return koffi.decode(address, prototypes.call) as (...args: any[]) => any;
}
