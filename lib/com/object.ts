// JS objects as COM objects. Every object is one native block: a header, then one pair
// { vtable, header } per interface it implements, so that `this` for interface i is
// `block + HEADER_SIZE + i * 16` and native code finds the header at `this + 8`. Vtables are
// built once per interface and shared by all objects (koffi has 8192 registered callbacks per
// process). IUnknown's three slots are native machine code (lib/ffi/native-unknown.ts): the
// reference count and the table of (IID → interface pointer) live in native memory, and
// AddRef, Release and QueryInterface are answered on the calling thread, even while the JS
// thread is busy or blocked, as C++/WinRT's and C#/WinRT's free-threaded objects are. The last
// Release puts the header on a lock-free list that the JS thread takes and frees (at its next
// winbg call, or within 50 ms on a timer). IUnknown follows the COM rules
// (https://learn.microsoft.com/windows/win32/com/rules-for-implementing-queryinterface):
// identity through IUnknown, symmetric/transitive QI, E_NOINTERFACE with *ppv = NULL.
import { createRequire } from 'node:module';
import { isWindows, koffi, type Pointer } from '../ffi/koffi.js';
import { allocate, beforeAccounting, POINTER_SIZE, readPointer, release, writeInt32, writePointer, writeUint32 } from '../ffi/memory.js';
import { nativeUnknown } from '../ffi/native-unknown.js';
import { registerStub } from '../ffi/prototype.js';
import { queryInterface, releaseInterface } from '../ffi/vtable.js';
import { taskMemAlloc } from '../ffi/task-memory.js';
import { windows } from '../ffi/windows.js';
import { Guid } from './guid.js';
import { closed, insideCall, methodStub, originate } from './boundary.js';
import { E_NOINTERFACE, E_NOTIMPL, E_POINTER, RO_E_CLOSED, S_OK } from './hresult.js';
import { createHString } from './hstring.js';
import type { ComInterface, MethodInfo } from './interface.js';
import { nextStubEpoch, setObjectLayer } from './local.js';
import { IAgileObject, IID_IMarshal, IInspectable, IUnknown, TrustLevel } from './unknown.js';

/** What `createObject` accepts: any object whose methods implement the interfaces by name. */
export type Implementation = object;

export interface ObjectOptions {
  /** Returned by IInspectable::GetRuntimeClassName; defaults to the first WinRT interface's name. */
  readonly runtimeClassName?: string;
  /** Answer IAgileObject and aggregate the free-threaded marshaler (default true). */
  readonly agile?: boolean;
  /** Called on the JS thread once the object is gone (its last Release, by anyone). */
  readonly onDestroyed?: () => void;
}

// The header (lib/ffi/asm/unknown-x64.S describes it for the machine code).
const COUNT = 0;
const NEXT = 8;
const TABLE = 16;
const MARSHALER = 24; // the free-threaded marshaler's inner IUnknown (it owns the marshaler)
const MARSHAL = 32; // its IMarshal, handed out by QueryInterface(IID_IMarshal)
const HEADER_SIZE = 40;
const PAIR_SIZE = 16;
const ENTRY_SIZE = 24;
/** Where interface `slot`'s pointer (its { vtable, header } pair) is in the block. */
const slotOffset = (slot: number): number => HEADER_SIZE + slot * PAIR_SIZE;

interface Layout {
  readonly interfaces: readonly ComInterface<any>[];
  readonly vtables: readonly Pointer[];
  readonly inspectableIids: readonly Guid[];
  readonly agile: boolean;
  /** The native QueryInterface table: { &released list, count, entries }. Never freed. */
  readonly table: Pointer;
  readonly size: number;
}

/** The native side of one JS COM object. */
export interface Identity {
  readonly implementation: Implementation;
  readonly layout: Layout;
  /** The block; its header comes first. */
  readonly block: Pointer;
  /** The IUnknown pointer: the first interface's. */
  readonly pointer: Pointer;
  readonly runtimeClassName: string;
  readonly onDestroyed: (() => void) | undefined;
}

export interface Entry {
  readonly identity: Identity;
  readonly slot: number;
}

// node:timers' (not the global, a number without unref() in Deno), through require(): its ES module
// import evaluates its lazy export `promises`, loading timers/promises at the start of every process.
const { clearInterval, setInterval } = createRequire(import.meta.url)('node:timers') as typeof import('node:timers');

const entries = new Map<Pointer, Entry>();
/** Headers (blocks) of objects not yet freed. */
const blocks = new Map<Pointer, Identity>();
/** Each live JS COM object's identity, so that passing the object again reuses it (one identity per object). */
const identities = new WeakMap<Implementation, Identity>();
const layouts = new Map<string, Layout>();
const vtables = new Map<ComInterface<any>, Pointer>();
const stubs = new Map<MethodInfo, Pointer>();
let liveObjects = 0;

const native = nativeUnknown();
/** The head of the list of released objects: one pointer-sized cell that the machine code pushes onto. */
const releasedList = allocate(POINTER_SIZE);

/** @internal The object and interface slot behind a `this` pointer, for the stubs. */
export function entryOf(self: Pointer): Entry | undefined {
  return entries.get(self);
}

/** The JS COM object behind an interface pointer of this process, if it is one. */
export function identityOf(ptr: Pointer): Identity | undefined {
  return entries.get(ptr)?.identity;
}
setObjectLayer({
  implementation: (ptr) => entries.get(ptr)?.identity.implementation,
  pointer: (value, interfaces) => existingIdentity(value) ?? createNativeObject(value, interfaces),
  released: collectReleased,
  unsettled: () => unsettled.size > 0,
  settle: settleStubs,
});
beforeAccounting(collectReleased);

/**
 * The identity pointer (IUnknown) of `implementation` when it is already a live COM object,
 * with a new reference the caller owns; null otherwise.
 */
export function existingIdentity(implementation: Implementation): Pointer | null {
  const identity = identities.get(implementation);
  if (!identity) return null;
  return addRef(identity.pointer) === 0 ? null : identity.pointer;
}

/** COM objects implemented in JS that are still referenced by someone. */
export function liveComObjects(): number {
  collectReleased();
  return liveObjects;
}

/** The reference count of a JS COM object of this process (a diagnostic: it may change at once). */
export function referenceCount(ptr: Pointer): number {
  const identity = identityOf(ptr);
  if (!identity) throw new TypeError('referenceCount: not a JS COM object of this process');
  return Number(koffi.decode(identity.block, COUNT, 'int64_t'));
}

/**
 * Creates the native COM object for `implementation` and returns the pointer of its first
 * interface with one reference, which the caller owns.
 */
export function createNativeObject(
  implementation: Implementation,
  interfaces: readonly ComInterface<any>[],
  options: ObjectOptions = {},
): Pointer {
  if (implementation === null || typeof implementation !== 'object' && typeof implementation !== 'function') {
    throw new TypeError(`createObject: the implementation must be an object, got ${implementation === null ? 'null' : typeof implementation}`);
  }
  if (!Array.isArray(interfaces) || interfaces.length === 0) {
    throw new TypeError('createObject: interfaces must be a non-empty array of interfaces (from defineInterface or the generated projection)');
  }
  collectReleased();
  const layout = layoutFor(interfaces, options.agile ?? true);
  const block = allocate(layout.size);
  const identity: Identity = {
    implementation,
    layout,
    block,
    pointer: block + BigInt(slotOffset(0)),
    runtimeClassName: options.runtimeClassName ?? defaultClassName(layout),
    onDestroyed: options.onDestroyed,
  };
  koffi.encode(block, COUNT, 'int64_t', 1n);
  writePointer(block, layout.table, TABLE);
  layout.vtables.forEach((vtable, slot) => {
    const self = block + BigInt(slotOffset(slot));
    writePointer(self, vtable);
    writePointer(self, block, POINTER_SIZE);
    entries.set(self, { identity, slot });
  });
  identities.set(implementation, identity);
  blocks.set(block, identity);
  liveObjects++;
  if (layout.agile && isWindows) aggregateMarshaler(identity);
  watchReleased();
  return identity.pointer;
}

/**
 * Aggregates the free-threaded marshaler (CoCreateFreeThreadedMarshaler) now, so that the
 * native QueryInterface can hand out its IMarshal on any thread: COM then passes our pointer to
 * other apartments as is, instead of making a proxy to this thread. Its IMarshal delegates
 * AddRef and Release to us (aggregation), so the reference that getting it took is given back.
 */
function aggregateMarshaler(identity: Identity): void {
  const out: [Pointer | null] = [null];
  if (windows().CoCreateFreeThreadedMarshaler(identity.pointer, out) < 0 || out[0] === null) return;
  const inner = out[0];
  const marshal = queryInterface(inner, IID_IMarshal.bytes);
  if (typeof marshal === 'number') {
    releaseInterface(inner);
    return;
  }
  release_(identity.pointer);
  writePointer(identity.block, inner, MARSHALER);
  writePointer(identity.block, marshal, MARSHAL);
}

function defaultClassName(layout: Layout): string {
  return layout.interfaces.find((i) => i.extends(IInspectable))?.name ?? '';
}

/** Layouts of objects implementing one interface (most objects), without building their key. */
const singleLayouts = [new Map<ComInterface<any>, Layout>(), new Map<ComInterface<any>, Layout>()];

function layoutFor(interfaces: readonly ComInterface<any>[], agile: boolean): Layout {
  if (interfaces.length === 1) {
    const single = singleLayouts[agile ? 1 : 0]!;
    const cached = single.get(interfaces[0]!);
    if (cached) return cached;
    const layout = keyedLayout(interfaces, agile);
    single.set(interfaces[0]!, layout);
    return layout;
  }
  return keyedLayout(interfaces, agile);
}

function keyedLayout(interfaces: readonly ComInterface<any>[], agile: boolean): Layout {
  const key = `${agile}:${interfaces.map((i) => {
    if (!i || typeof i.iid !== 'object' || typeof i.slotCount !== 'number') {
      throw new TypeError('createObject: every entry of interfaces must be an interface (from defineInterface or the generated projection)');
    }
    return i.iid.key;
  }).join(',')}`;
  let layout = layouts.get(key);
  if (layout) return layout;
  const answered = new Set<string>();
  const rows: [Guid, bigint][] = [];
  const answer = (iid: Guid, slot: number): void => {
    if (answered.has(iid.key)) return;
    answered.add(iid.key);
    rows.push([iid, BigInt(slotOffset(slot))]);
  };
  interfaces.forEach((iface, slot) => {
    for (const i of iface.chain) answer(i.iid, slot);
  });
  if (agile) answer(IAgileObject.iid, 0);
  // The native table: every IID the object answers and where its pointer is (see the header's
  // description in lib/ffi/asm/unknown-x64.S); IMarshal reads the header's MARSHAL field.
  if (agile && isWindows) rows.push([IID_IMarshal, ~BigInt(MARSHAL)]);
  const table = allocate(16 + rows.length * ENTRY_SIZE);
  writePointer(table, releasedList);
  koffi.encode(table, 8, 'int64_t', BigInt(rows.length));
  rows.forEach(([iid, where], i) => {
    iid.write(table + BigInt(16 + i * ENTRY_SIZE));
    koffi.encode(table, 16 + i * ENTRY_SIZE + 16, 'int64_t', where);
  });
  const inspectableIids = interfaces.filter((i) => i.extends(IInspectable) && i !== IInspectable).map((i) => i.iid);
  layout = { interfaces, vtables: interfaces.map(vtableFor), inspectableIids, agile, table, size: slotOffset(interfaces.length) };
  layouts.set(key, layout);
  return layout;
}

/** AddRef of a JS COM object, as native code does it. */
function addRef(self: Pointer): number {
  return native ? native.addRef(self) : jsAddRef(self);
}

/** Release of a JS COM object, as native code does it. */
function release_(self: Pointer): number {
  return native ? native.release(self) : jsRelease(self);
}

let timer: ReturnType<typeof setInterval> | null = null;

/** While objects live, takes the released list every 50 ms (without keeping the process alive). */
function watchReleased(): void {
  if (timer !== null) return;
  timer = setInterval(() => {
    collectReleased();
    if (liveObjects === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  }, 50);
  timer.unref?.();
}

/**
 * Frees the objects whose last Release has happened, on whatever thread: their memory, the JS
 * object's entry, the aggregated marshaler; then tells their `onDestroyed`. Runs on the JS
 * thread; cheap when there are none (one native call).
 */
export function collectReleased(): void {
  if (liveObjects === 0) return;
  let header = native ? native.take(releasedList) : jsTake();
  while (header !== null) {
    const next = readPointer(header, NEXT);
    const identity = blocks.get(header);
    if (identity !== undefined) destroy(identity);
    header = next;
  }
}

function destroy(identity: Identity): void {
  const { layout, block } = identity;
  if (identities.get(identity.implementation) === identity) identities.delete(identity.implementation);
  for (let slot = 0; slot < layout.interfaces.length; slot++) entries.delete(block + BigInt(slotOffset(slot)));
  blocks.delete(block);
  // The marshaler first, while the header still exists (at count 0 a stray Release through its
  // IMarshal is ignored), then the block.
  const marshaler = readPointer(block, MARSHALER);
  if (marshaler !== null) {
    try {
      releaseInterface(marshaler);
    } catch {
      // the marshaler is the system's; nothing of ours is left to clean up
    }
  }
  release(block, layout.size);
  liveObjects--;
  if (identity.onDestroyed) {
    try {
      identity.onDestroyed();
    } catch {
      // a watcher's failure is not the release's
    }
  }
}

/** The one vtable of an interface, shared by every JS object implementing it. */
function vtableFor(iface: ComInterface<any>): Pointer {
  let vtable = vtables.get(iface);
  if (vtable) return vtable;
  const methods = iface.allMethods; // parses (and validates) every signature first
  vtable = allocate(iface.slotCount * POINTER_SIZE);
  for (const method of methods) {
    const slot = method.owner === IUnknown && native ? native.slots[method.slot]! : stubFor(method);
    writePointer(vtable, slot, method.slot * POINTER_SIZE);
  }
  vtables.set(iface, vtable);
  return vtable;
}

/**
 * Builds the vtables of `interfaces`, and the QueryInterface table of an object implementing
 * exactly that list, now. Do it outside COM calls (at start-up, as ClassFactory does) so that no
 * callback has to be registered while a callback runs: see `settleStubs`. Both live as long as
 * the process.
 */
export function prepareInterfaces(interfaces: readonly ComInterface<any>[], options: ObjectOptions = {}): void {
  layoutFor(interfaces, options.agile ?? true);
}

// koffi (3.3) records the current extent of its call stack when a callback is registered. A
// callback registered while JS is running inside a synchronous koffi callback gets a truncated
// extent, and a later call reaching it from a shallower native frame of the JS thread fails
// ("Maximum call stack size exceeded"); calls from COM's own threads are unaffected. Stubs
// registered at such a depth are therefore registered again once the JS thread is back at depth
// 0, and the vtables repointed. The first trampolines stay registered (a call from another
// thread may be about to use them), so the number of callbacks stays bounded.
const unsettled = new Set<MethodInfo>();

function stubFor(method: MethodInfo): Pointer {
  let stub = stubs.get(method);
  if (stub) return stub;
  stub = registerStub(stubFunction(method), method.prototypes);
  stubs.set(method, stub);
  if (insideCall()) {
    unsettled.add(method);
    setImmediate(settleStubs);
  }
  return stub;
}

function stubFunction(method: MethodInfo): (...args: any[]) => unknown {
  if (method.unavailable) return (): number => E_NOTIMPL;
  return method.owner === IUnknown ? unknownStub(method.name)
    : method.owner === IInspectable ? inspectableStub(method.name)
    : methodStub(method, entryOf);
}

/**
 * Re-registers stubs that were registered inside a callback (see above). Cheap when there are
 * none; called before winbg makes a synchronous native call, and on the next turn of the loop.
 */
export function settleStubs(): void {
  if (unsettled.size === 0 || insideCall()) return;
  for (const method of unsettled) {
    const stub = registerStub(stubFunction(method), method.prototypes);
    stubs.set(method, stub);
    for (const [iface, vtable] of vtables) {
      if (iface.slotCount > method.slot && iface.allMethods[method.slot] === method) writePointer(vtable, stub, method.slot * POINTER_SIZE);
    }
  }
  unsettled.clear();
  nextStubEpoch();
}

type HRESULT = number;

// IUnknown as koffi callbacks, where the native code cannot run (see nativeUnknown): the same
// header, table and released list, read and written from JS. A native caller on another thread
// then waits for the JS thread, as every koffi callback makes it.
function unknownStub(name: string): (...args: any[]) => number {
  switch (name) {
    case 'QueryInterface':
      return (self: Pointer, riid: Pointer | null, ppv: Pointer | null): HRESULT => {
        if (ppv === null) return E_POINTER;
        writePointer(ppv, null);
        if (riid === null) return E_POINTER;
        try {
          return jsQueryInterface(self, riid, ppv);
        } catch (error) {
          return originate(error); // never the S_OK koffi would return for a throwing callback
        }
      };
    case 'AddRef':
      return jsAddRef;
    default:
      return jsRelease;
  }
}

/** The native QueryInterface's walk of the table (lib/ffi/asm/unknown-x64.S), in JS. */
function jsQueryInterface(self: Pointer, riid: Pointer, ppv: Pointer): HRESULT {
  const header = readPointer(self, POINTER_SIZE)!;
  const table = readPointer(header, TABLE)!;
  const count = Number(koffi.decode(table, 8, 'int64_t'));
  const key = Guid.keyAt(riid);
  for (let i = 0; i < count; i++) {
    const row = table + BigInt(16 + i * ENTRY_SIZE);
    if (Guid.keyAt(row) !== key) continue;
    const where = BigInt(koffi.decode(row, 16, 'int64_t') as number | bigint);
    const ptr = where >= 0n ? header + where : readPointer(header, Number(~where));
    if (ptr === null) return E_NOINTERFACE;
    if (jsAddRef(self) === 0) return RO_E_CLOSED;
    writePointer(ppv, ptr);
    return S_OK;
  }
  return E_NOINTERFACE;
}

// koffi reads an int64_t as a number while it fits in one (always, for a reference count).
function jsAddRef(self: Pointer): number {
  const header = readPointer(self, POINTER_SIZE)!;
  const count = Number(koffi.decode(header, COUNT, 'int64_t'));
  if (count === 0) return 0;
  koffi.encode(header, COUNT, 'int64_t', count + 1);
  return count + 1;
}

function jsRelease(self: Pointer): number {
  const header = readPointer(self, POINTER_SIZE)!;
  const count = Number(koffi.decode(header, COUNT, 'int64_t'));
  if (count === 0) return 0;
  koffi.encode(header, COUNT, 'int64_t', count - 1);
  if (count === 1) {
    writePointer(header, readPointer(releasedList), NEXT);
    writePointer(releasedList, header);
  }
  return count - 1;
}

function jsTake(): Pointer | null {
  const head = readPointer(releasedList);
  writePointer(releasedList, null);
  return head;
}

function inspectableStub(name: string): (...args: any[]) => number {
  return (self: Pointer, out: Pointer | null, out2: Pointer | null): HRESULT => {
    try {
      if (out === null || (name === 'GetIids' && out2 === null)) return E_POINTER;
      const entry = entries.get(self);
      if (entry === undefined) return closed(`IInspectable::${name}`);
      const identity = entry.identity;
      switch (name) {
        case 'GetIids': {
          // The caller frees the array with CoTaskMemFree (inspectable.idl).
          const iids = identity.layout.inspectableIids;
          const array = taskMemAlloc(iids.length * 16);
          iids.forEach((iid, i) => iid.write(array + BigInt(i * 16)));
          writeUint32(out, iids.length);
          writePointer(out2!, array);
          return S_OK;
        }
        case 'GetRuntimeClassName':
          writePointer(out, createHString(identity.runtimeClassName));
          return S_OK;
        default:
          writeInt32(out, TrustLevel.BaseTrust);
          return S_OK;
      }
    } catch (error) {
      return originate(error);
    }
  };
}
