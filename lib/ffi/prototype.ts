import type { ParsedSignature } from '../com/signature.js';
import { koffi, type NativeType } from './koffi.js';

export interface MethodPrototypes {
  /**
   * For calling a native vtable slot. Out-parameters are plain pointers: the caller passes a
   * typed array (lib/com/out-memory.ts), which koffi hands over as a pointer to its bytes.
   */
  readonly call: NativeType;
  /** For a JS vtable slot called by native code: every pointer arrives as a raw address. */
  readonly stub: NativeType;
}

/**
 * koffi prototypes of a COM method: `this` first, then the parameters, __stdcall (WINAPI). A WinRT
 * array takes two native parameters: its length and its pointer (for a ReceiveArray, pointers to
 * both). Both directions use the same native types, so one prototype serves both.
 */
export function methodPrototypes(signature: ParsedSignature): MethodPrototypes {
  const params: unknown[] = ['void *'];
  for (const p of signature.params) {
    if (p.kind === 'array' && p.array === 'receive') params.push('void *', 'void *');
    else if (p.kind === 'array') params.push('uint32_t', 'void *');
    else if (p.direction === 'out') params.push('void *');
    else params.push(p.native);
  }
  const proto = koffi.proto('__stdcall', null, signature.returns.native, params as string[]);
  return { call: proto, stub: proto };
}

/** Registers a JS function as a native function pointer of the stub prototype. */
export function registerStub(fn: (...args: any[]) => unknown, prototypes: MethodPrototypes): bigint {
  return koffi.register(fn, koffi.pointer(prototypes.stub));
}

/** A callable for the native function at `address` (a vtable slot). */
export function nativeFunction(address: bigint, prototypes: MethodPrototypes): (...args: any[]) => any {
  return koffi.decode(address, prototypes.call) as (...args: any[]) => any;
}
