// A "native caller" for tests: calls COM objects through the raw function pointers of their
// vtables with koffi, exactly as C++ would (`p->lpVtbl->Method(p, ...)`), with no winbg code in
// the path. Pointers are bigints; out-parameters are native memory the test reads back.
import koffi from 'koffi';

export type Pointer = bigint;
type NativeType = ReturnType<typeof koffi.proto>;
const protos = new Map<string, NativeType>();

/** A koffi prototype from C parameter types, `this` first (e.g. ['void *', 'int32_t']). */
function proto(result: string, params: readonly string[]): NativeType {
  const key = `${result}(${params.join(',')})`;
  let type = protos.get(key);
  if (!type) protos.set(key, (type = koffi.proto('__stdcall', null, result, ['void *', ...params])));
  return type;
}

export function vtableSlot(self: Pointer, slot: number): Pointer {
  const vtable = koffi.decode(self, 'void *') as Pointer;
  return koffi.decode(vtable, slot * 8, 'void *') as Pointer;
}

/** Calls slot `slot` of `self`'s vtable. */
export function callSlot(self: Pointer, slot: number, result: string, params: readonly string[], ...args: unknown[]): any {
  return koffi.call(vtableSlot(self, slot), proto(result, params), self, ...args);
}

/** Native memory for out-parameters and GUIDs; freed by `free`. */
export class Memory {
  readonly #blocks: Pointer[] = [];
  alloc(size: number, fill = 0): Pointer {
    const ptr = koffi.address(koffi.alloc('uint8_t', size)) as Pointer;
    koffi.encode(ptr, 0, 'uint8_t', new Uint8Array(size).fill(fill), size);
    this.#blocks.push(ptr);
    return ptr;
  }
  /** A GUID struct holding `text` (canonical form). */
  guid(text: string): Pointer {
    const ptr = this.alloc(16);
    const hex = text.replace(/[{}-]/g, '');
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, parseInt(hex.slice(0, 8), 16), true);
    view.setUint16(4, parseInt(hex.slice(8, 12), 16), true);
    view.setUint16(6, parseInt(hex.slice(12, 16), 16), true);
    for (let i = 0; i < 8; i++) bytes[8 + i] = parseInt(hex.slice(16 + i * 2, 18 + i * 2), 16);
    koffi.encode(ptr, 0, 'uint8_t', bytes, 16);
    return ptr;
  }
  free(): void {
    for (const ptr of this.#blocks.splice(0)) koffi.free(ptr);
  }
}

export const readPointer = (ptr: Pointer): Pointer | null => {
  const value = koffi.decode(ptr, 'void *') as Pointer | null;
  return value === 0n ? null : value;
};
export const readInt32 = (ptr: Pointer): number => koffi.decode(ptr, 'int32_t') as number;
export const readUint32 = (ptr: Pointer): number => koffi.decode(ptr, 'uint32_t') as number;
export const readBytes = (ptr: Pointer, length: number): Uint8Array => new Uint8Array(koffi.decode(ptr, 'uint8_t', length) as Uint8Array);

// IUnknown through the raw vtable (unknwn.h): the calls every native COM client makes.
export function queryInterface(self: Pointer, iid: Pointer, ppv: Pointer | null): number {
  return callSlot(self, 0, 'int32_t', ['void *', 'void *'], iid, ppv) as number;
}
export function addRef(self: Pointer): number {
  return callSlot(self, 1, 'uint32_t', []) as number;
}
export function release(self: Pointer): number {
  return callSlot(self, 2, 'uint32_t', []) as number;
}

export const IID = {
  IUnknown: '00000000-0000-0000-C000-000000000046',
  IInspectable: 'AF86E2E0-B12D-4C6A-9C5A-D7AA65101E90',
  IAgileObject: '94EA2B94-E9CC-49E0-C0FF-EE64CA8F5B90',
  IMarshal: '00000003-0000-0000-C000-000000000046',
  IClassFactory: '00000001-0000-0000-C000-000000000046',
} as const;

/** Forces a full garbage collection where the runtime allows it; false when it does not. */
export function collectGarbage(): boolean {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) {
    g.Bun.gc(true);
    return true;
  }
  if (typeof g.gc === 'function') {
    g.gc();
    return true;
  }
  return false;
}

/**
 * `count()` once the garbage collector has released what was dropped (FinalizationRegistry):
 * collects and yields to the event loop, where finalizers run, until ten readings in a row agree
 * (at most 400 rounds). A baseline read without this counts objects that are about to go, and a
 * later reading lower than expected only says that a collection happened in between (seen in CI
 * under Wine: 44 objects of earlier suites collected while a client process ran).
 */
export async function settledCount(count: () => number): Promise<number> {
  let last = count();
  for (let stable = 0, i = 0; stable < 10 && i < 400; i++) {
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
    const now = count();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/**
 * Keeps the JS thread blocked (Atomics.wait, 5 ms at a time) until `done()` holds, reading native
 * memory only: no callback, promise or timer runs meanwhile, so whatever changed was done by
 * other threads. Throws, naming `what`, after `ms`.
 */
export function blockUntil(done: () => boolean, what: string, ms = 10_000): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`with the JS thread blocked for ${ms} ms: ${what}`);
    Atomics.wait(cell, 0, 0, 5);
  }
}
