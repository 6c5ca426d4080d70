import type { ParsedSignature } from '../com/signature.js';
import { koffi, type NativeType } from './koffi.js';

export interface MethodPrototypes {
  /** For calling a native vtable slot: out-parameters are koffi out-pointers ([value] boxes). */
  readonly call: NativeType;
  /** For a JS vtable slot called by native code: every pointer arrives as a raw address. */
  readonly stub: NativeType;
}

/**
 * koffi prototypes of a COM method: `this` first, then the parameters, __stdcall (WINAPI). A WinRT
 * array takes two native parameters: its length and its pointer (for a ReceiveArray, pointers to both).
 */
export function methodPrototypes(signature: ParsedSignature): MethodPrototypes {
  const result = signature.returns.native;
  const call: unknown[] = ['void *'];
  const stub: unknown[] = ['void *'];
  for (const p of signature.params) {
    if (p.kind === 'array' && p.array === 'receive') {
      call.push(koffi.out(koffi.pointer('uint32_t')), koffi.out(koffi.pointer('void *')));
      stub.push('void *', 'void *');
    } else if (p.kind === 'array') {
      call.push('uint32_t', 'void *');
      stub.push('uint32_t', 'void *');
    } else if (p.direction === 'out') {
      call.push(koffi.out(koffi.pointer(p.native)));
      stub.push('void *');
    } else {
      call.push(p.native);
      stub.push(p.native);
    }
  }
  return {
    call: koffi.proto('__stdcall', null, result, call as string[]),
    stub: koffi.proto('__stdcall', null, result, stub as string[]),
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
