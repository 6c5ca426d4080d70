// JS objects as COM objects. Every object is a small native block holding one vtable pointer per
// interface it implements; `this` for interface i is `block + i * 8`. Vtables are built once per
// interface and shared by all objects (koffi has 8192 registered callbacks per process), and the
// `this` pointer is mapped back to the JS object in a table. IUnknown follows the COM rules
// (https://learn.microsoft.com/windows/win32/com/rules-for-implementing-queryinterface):
// identity through IUnknown, symmetric/transitive QI, E_NOINTERFACE with *ppv = NULL.
import { isWindows, type Pointer } from '../ffi/koffi.js';
import { allocate, POINTER_SIZE, readPointer, release, writeInt32, writePointer, writeUint32 } from '../ffi/memory.js';
import { nativeFunction, registerStub } from '../ffi/prototype.js';
import { taskMemAlloc } from '../ffi/task-memory.js';
import { windows } from '../ffi/windows.js';
import { Guid } from './guid.js';
import { closed, enterCall, insideCall, leaveCall, methodStub, originate } from './boundary.js';
import { ComError, E_NOINTERFACE, E_NOTIMPL, E_POINTER, S_OK } from './hresult.js';
import { createHString } from './hstring.js';
import type { ComInterface, MethodInfo } from './interface.js';
import { IAgileObject, IID_IMarshal, IInspectable, IUnknown, TrustLevel } from './unknown.js';

/** What `createObject` accepts: any object whose methods implement the interfaces by name. */
export type Implementation = object;

export interface ObjectOptions {
  /** Returned by IInspectable::GetRuntimeClassName; defaults to the first WinRT interface's name. */
  readonly runtimeClassName?: string;
  /** Answer IAgileObject and aggregate the free-threaded marshaler (default true). */
  readonly agile?: boolean;
}

interface Layout {
  readonly interfaces: readonly ComInterface<any>[];
  /** IID key -> slot. */
  readonly qi: ReadonlyMap<string, number>;
  readonly vtables: readonly Pointer[];
  readonly inspectableIids: readonly Guid[];
  readonly agile: boolean;
}

/** The native side of one JS COM object. */
export interface Identity {
  readonly implementation: Implementation;
  readonly layout: Layout;
  readonly block: Pointer;
  readonly runtimeClassName: string;
  refs: number;
  /** The free-threaded marshaler aggregated on first QI for IMarshal (Windows). */
  marshaler: Pointer | null;
}

export interface Entry {
  readonly identity: Identity;
  readonly slot: number;
}

const entries = new Map<Pointer, Entry>();
/** Each live JS COM object's identity, so that passing the object again reuses it (one identity per object). */
const identities = new WeakMap<Implementation, Identity>();
const layouts = new Map<string, Layout>();
const vtables = new Map<ComInterface<any>, Pointer>();
const stubs = new Map<MethodInfo, Pointer>();
let liveObjects = 0;

/** @internal The object and interface slot behind a `this` pointer, for the stubs. */
export function entryOf(self: Pointer): Entry | undefined {
  return entries.get(self);
}

/** The JS COM object behind an interface pointer of this process, if it is one. */
export function identityOf(ptr: Pointer): Identity | undefined {
  return entries.get(ptr)?.identity;
}

/**
 * The identity pointer (IUnknown) of `implementation` when it is already a live COM object,
 * with a new reference the caller owns; null otherwise.
 */
export function existingIdentity(implementation: Implementation): Pointer | null {
  const identity = identities.get(implementation);
  if (!identity || identity.refs <= 0) return null;
  identity.refs++;
  return identity.block;
}

/** COM objects implemented in JS that are still referenced by someone. */
export function liveComObjects(): number {
  return liveObjects;
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
  const layout = layoutFor(interfaces, options.agile ?? true);
  const block = allocate(layout.interfaces.length * POINTER_SIZE);
  const identity: Identity = {
    implementation,
    layout,
    block,
    runtimeClassName: options.runtimeClassName ?? defaultClassName(layout),
    refs: 1,
    marshaler: null,
  };
  identities.set(implementation, identity);
  layout.vtables.forEach((vtable, slot) => {
    const self = block + BigInt(slot * POINTER_SIZE);
    writePointer(self, vtable);
    entries.set(self, { identity, slot });
  });
  liveObjects++;
  return block;
}

function defaultClassName(layout: Layout): string {
  return layout.interfaces.find((i) => i.extends(IInspectable))?.name ?? '';
}

function layoutFor(interfaces: readonly ComInterface<any>[], agile: boolean): Layout {
  const key = `${agile}:${interfaces.map((i) => {
    if (!i || typeof i.iid !== 'object' || typeof i.slotCount !== 'number') {
      throw new TypeError('createObject: every entry of interfaces must be an interface (from defineInterface or the generated projection)');
    }
    return i.iid.key;
  }).join(',')}`;
  let layout = layouts.get(key);
  if (layout) return layout;
  const qi = new Map<string, number>();
  interfaces.forEach((iface, slot) => {
    for (const i of iface.chain) if (!qi.has(i.iid.key)) qi.set(i.iid.key, slot);
  });
  if (agile) qi.set(IAgileObject.iid.key, 0);
  const inspectableIids = interfaces.filter((i) => i.extends(IInspectable) && i !== IInspectable).map((i) => i.iid);
  layout = { interfaces, qi, vtables: interfaces.map(vtableFor), inspectableIids, agile };
  layouts.set(key, layout);
  return layout;
}

/** The one vtable of an interface, shared by every JS object implementing it. */
function vtableFor(iface: ComInterface<any>): Pointer {
  let vtable = vtables.get(iface);
  if (vtable) return vtable;
  const methods = iface.allMethods; // parses (and validates) every signature first
  vtable = allocate(iface.slotCount * POINTER_SIZE);
  for (const method of methods) writePointer(vtable, stubFor(method), method.slot * POINTER_SIZE);
  vtables.set(iface, vtable);
  return vtable;
}

/**
 * Builds the vtables of `interfaces` now. Do it outside COM calls (at start-up, as ClassFactory
 * does) so that no callback has to be registered while a callback runs: see `settleStubs`.
 */
export function prepareInterfaces(interfaces: readonly ComInterface<any>[]): void {
  for (const iface of interfaces) vtableFor(iface);
}

// koffi (3.3) records the current extent of its call stack when a callback is registered. A
// callback registered while JS is running inside a synchronous koffi callback gets a truncated
// extent, and a later call reaching it from a shallower native frame of the JS thread fails
// ("Maximum call stack size exceeded"); calls from COM's own threads are unaffected. Stubs
// registered at such a depth are therefore registered again once the JS thread is back at depth
// 0, and the vtables repointed. The first trampolines stay registered (a call from another
// thread may be about to use them), so the number of callbacks stays bounded.
const unsettled = new Set<MethodInfo>();
/** Incremented each time settling repoints vtables; callers cache decoded functions per epoch. */
export let stubEpoch = 0;

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
    : methodStub(method);
}

/**
 * Re-registers stubs that were registered inside a callback (see above). Cheap when there are
 * none; called before winbg makes a synchronous native call, and on the next turn of the loop.
 */
/** Whether some stubs wait for {@link settleStubs}: one comparison on the hot path of every call. */
export function hasUnsettledStubs(): boolean {
  return unsettled.size > 0;
}

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
  stubEpoch++;
}

type HRESULT = number;

function unknownStub(name: string): (...args: any[]) => number {
  switch (name) {
    case 'QueryInterface':
      return (self: Pointer, riid: Pointer | null, ppv: Pointer | null): HRESULT => {
        enterCall();
        try {
          if (ppv === null) return E_POINTER;
          writePointer(ppv, null);
          const entry = entries.get(self);
          if (entry === undefined) return closed('IUnknown::QueryInterface');
          if (riid === null) return E_POINTER;
          return queryInterface(entry.identity, Guid.keyAt(riid), ppv);
        } catch (error) {
          return originate(error);
        } finally {
          leaveCall();
        }
      };
    case 'AddRef':
      return (self: Pointer): number => {
        const entry = entries.get(self);
        return entry === undefined ? 0 : ++entry.identity.refs;
      };
    default:
      return (self: Pointer): number => {
        const entry = entries.get(self);
        if (entry === undefined) return 0;
        const identity = entry.identity;
        if (--identity.refs === 0) destroy(identity);
        return identity.refs;
      };
  }
}

function queryInterface(identity: Identity, key: string, ppv: Pointer): HRESULT {
  const slot = identity.layout.qi.get(key);
  if (slot !== undefined) {
    identity.refs++;
    writePointer(ppv, identity.block + BigInt(slot * POINTER_SIZE));
    return S_OK;
  }
  if (key === IID_IMarshal.key && identity.layout.agile && isWindows) {
    // Aggregate the free-threaded marshaler (CoCreateFreeThreadedMarshaler): COM then hands our
    // pointer to other apartments as is, instead of making a proxy to this thread.
    if (identity.marshaler === null) {
      const out: [Pointer | null] = [null];
      ComError.check(windows().CoCreateFreeThreadedMarshaler(identity.block, out), 'CoCreateFreeThreadedMarshaler');
      identity.marshaler = out[0];
    }
    return unknownCall(identity.marshaler!, 0)(identity.marshaler, IID_IMarshal.bytes, ppv) as HRESULT;
  }
  return E_NOINTERFACE;
}

const unknownCalls = new Map<Pointer, ((...args: any[]) => any)[]>();
/** IUnknown slot `slot` (0 QI, 2 Release) of a native object, for the aggregated marshaler. */
function unknownCall(ptr: Pointer, slot: number): (...args: any[]) => any {
  const vtable = readPointer(ptr)!;
  let calls = unknownCalls.get(vtable);
  if (!calls) unknownCalls.set(vtable, (calls = []));
  const method = IUnknown.methods[slot]!;
  return (calls[slot] ??= nativeFunction(readPointer(vtable, slot * POINTER_SIZE)!, method.prototypes));
}

function destroy(identity: Identity): void {
  const { layout, block } = identity;
  if (identities.get(identity.implementation) === identity) identities.delete(identity.implementation);
  for (let slot = 0; slot < layout.interfaces.length; slot++) entries.delete(block + BigInt(slot * POINTER_SIZE));
  release(block, layout.interfaces.length * POINTER_SIZE);
  liveObjects--;
  const marshaler = identity.marshaler;
  identity.marshaler = null;
  if (marshaler !== null) unknownCall(marshaler, 2)(marshaler);
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
