// The native IUnknown of winbg's JS COM objects: the machine code of lib/ffi/asm/unknown-*.S
// (bytes in unknown-code.ts) copied into executable memory once per process. Its functions are
// plain native code, so a native caller's AddRef, Release or QueryInterface is answered on the
// caller's thread at once, whatever the JS thread is doing; koffi callbacks could not (koffi runs
// every callback on the JS thread and makes other threads wait for it).
import { executableCopy, executableFailure } from './executable.js';
import { isWindows, koffi, type Pointer } from './koffi.js';
import { unknownCode } from './unknown-code.js';

export interface NativeUnknown {
  /** Addresses of QueryInterface, AddRef and Release, for vtable slots 0, 1 and 2. */
  readonly slots: readonly [Pointer, Pointer, Pointer];
  /** AddRef through the native code: the new count, or 0 when the object was already released. */
  readonly addRef: (self: Pointer) => number;
  /** Release through the native code: the new count. */
  readonly release: (self: Pointer) => number;
  /** Takes the whole list of released headers (linked through header + 8), leaving it empty. */
  readonly take: (head: Pointer) => Pointer | null;
  /**
   * IUnknown's three methods of any COM object, called through its vtable by the machine code
   * (slot0-2 in the .S files), so that JS needs to read neither the vtable nor the slot. The
   * results are the object's own (HRESULT, and the counts AddRef and Release return).
   */
  readonly through: {
    readonly queryInterface: ((self: Pointer, iid: Uint8Array, out: BigUint64Array) => number) & { async(...args: unknown[]): void };
    readonly addRef: ((self: Pointer) => number) & { async(...args: unknown[]): void };
    readonly release: ((self: Pointer) => number) & { async(...args: unknown[]): void };
    /**
     * The object's COM identity in one call: QueryInterface for IUnknown, then Release of what it
     * returned. The address (positive), or QueryInterface's failed HRESULT (negative); see
     * vtable.ts, identityAddress.
     */
    readonly identity: (self: Pointer) => number | bigint;
  };
}

let loaded: NativeUnknown | null | undefined;
let unavailable: string | null = null;

/**
 * The native IUnknown, or null where it cannot run: an architecture without machine code here
 * (winbg has x86-64 and arm64), a process that refuses executable memory, or
 * WINBG_NATIVE_UNKNOWN=0. Then JS objects fall back to koffi callbacks for IUnknown, with the
 * limits that brings (see {@link nativeUnknownUnavailable}).
 */
export function nativeUnknown(): NativeUnknown | null {
  if (loaded !== undefined) return loaded;
  loaded = load();
  return loaded;
}

/** Why {@link nativeUnknown} is null, or null when it is not. */
export function nativeUnknownUnavailable(): string | null {
  nativeUnknown();
  return unavailable;
}

function load(): NativeUnknown | null {
  if (process.env.WINBG_NATIVE_UNKNOWN === '0') {
    unavailable = 'turned off by WINBG_NATIVE_UNKNOWN=0';
    return null;
  }
  const arch = process.arch === 'x64' ? unknownCode.x64 : process.arch === 'arm64' ? unknownCode.arm64 : null;
  if (arch === null) {
    unavailable = `no machine code for ${process.arch} (winbg has x64 and arm64)`;
    return null;
  }
  const code = hexBytes(arch.code);
  const base = executableCopy(code);
  if (base === null) {
    unavailable = `no executable memory: ${executableFailure}`;
    return null;
  }
  const e = arch.entries as Readonly<Record<string, number>>;
  // x86-64 has two calling conventions: Win64's (the body) and System V's (entries that move
  // the arguments first). AArch64 has one.
  const entry = (name: string): Pointer => base + BigInt(process.arch === 'x64' && !isWindows ? e[`sysv_${name}`]! : e[name]!);
  const slots: [Pointer, Pointer, Pointer] = [entry('qi'), entry('addref'), entry('release')];
  const countProto = koffi.proto('__stdcall', null, 'uint32_t', ['void *']);
  const takeProto = koffi.proto('__stdcall', null, 'void *', ['void *']);
  const addRef = koffi.decode(slots[1], countProto) as (self: Pointer) => number;
  const release = koffi.decode(slots[2], countProto) as (self: Pointer) => number;
  const takeFn = koffi.decode(entry('take'), takeProto) as (head: Pointer) => Pointer | null;
  const queryProto = koffi.proto('__stdcall', null, 'int32_t', ['void *', 'void *', 'void *']);
  const through = {
    queryInterface: koffi.decode(entry('slot0'), queryProto),
    addRef: koffi.decode(entry('slot1'), countProto),
    release: koffi.decode(entry('slot2'), countProto),
    identity: koffi.decode(entry('identity'), koffi.proto('__stdcall', null, 'int64_t', ['void *'])),
  } as NativeUnknown['through'];
  return { slots, addRef, release, take: (head) => takeFn(head) || null, through };
}

function hexBytes(hex: string): Uint8Array {
  // Digit by digit: a slice and parseInt per byte cost a millisecond of every start.
  const digit = (code: number): number => (code <= 57 ? code - 48 : (code | 32) - 87);
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (digit(hex.charCodeAt(i * 2)) << 4) | digit(hex.charCodeAt(i * 2 + 1));
  return bytes;
}
