// Calling native COM interfaces from JS. A ComPtr owns one reference to an interface pointer and
// exposes the interface's methods, which call the vtable slots through koffi. Like C++/WinRT's
// com_ptr: `using` (Symbol.dispose) releases exactly once, and a FinalizationRegistry releases
// what the program forgot, also once. The second half of this file is the calls: arguments
// converted by the parsed signature (numbers pass through, HSTRINGs from JS strings, GUIDs from
// Guid, interfaces from ComPtrs or JS objects), out-parameters returned.
//
// The layers of lib/com: values (guid, hresult, hstring, struct, signature, array, error-info),
// then this ComPtr layer, then JS objects (object, boundary, class-factory), each importing only
// the ones below; what this layer needs of the one above (a JS object made a COM object, stubs
// to settle) it reaches through local.ts, which the object layer fills in.
import { isWindows, type Pointer } from '../ffi/koffi.js';
import { allocate, POINTER_SIZE, readPointer, release as freeNative, wideString } from '../ffi/memory.js';
import { nativeFunction } from '../ffi/prototype.js';
import { identityAddress, queryInterface, releaseInterface, unknownThroughVtable } from '../ffi/vtable.js';
import { Guid } from './guid.js';
import { ComError, E_INVALIDARG, E_NOINTERFACE, E_POINTER } from './hresult.js';
import type { ComInterface, MethodInfo } from './interface.js';
import { taskMemFree } from '../ffi/task-memory.js';
import { elementSize, readElements, writeElements } from './array.js';
import { clearErrorInfo, takeErrorInfo } from './error-info.js';
import { createHString, deleteHString, takeHString } from './hstring.js';
import { hasUnsettledStubs, lastReleased, localImplementation, localObjectPointer, settleStubs, stubEpoch } from './local.js';
import { compile, compileClass } from './compile.js';
import { youngBatch } from './young.js';
import { isDirectScalar, OutLayout, outCell, RECEIVE_CELLS, type OutCell, type OutView } from './out-memory.js';
import type { ParamSpec, ValueSpec } from './signature.js';
import { IInspectable, IUnknown } from './unknown.js';

type NativeFn = (...args: any[]) => any;

/** A ComPtr with the methods of its interface: what every typed API of winbg returns. */
export type Com<M extends object = {}> = ComPtr<M> & M;

/** Decoded vtable functions, shared by every ComPtr whose object has the same vtable. */
interface CachedFunction {
  readonly proto: MethodInfo['prototypes'];
  readonly fn: NativeFn;
  readonly epoch: number;
}
const vtableFunctions = new Map<Pointer, (CachedFunction | undefined)[]>();

interface Held {
  ptr: Pointer | null;
  /** The object's Release, where no machine code calls through the vtable (see `young`). */
  release: (NativeFn & { async(...args: unknown[]): void }) | null;
}

let liveWrappers = 0;

/**
 * @internal A ComPtr's state, one object of one shape, under the symbol {@link PTR_STATE}.
 *
 * Each interface has its own ComPtr subclass (its methods on its prototype), so ComPtrs of
 * different interfaces have different hidden classes, and any code shared by all of them (a
 * method of ComPtr.prototype, a helper taking a ComPtr) reads their fields through V8's
 * megamorphic path: about 15 ns a read against 3, and a store that adds a field went from 0.13 to
 * 0.6 µs a wrapper (measured with 12 subclasses). A real program uses many interfaces, and a hot
 * call made a dozen such reads. So on the hot paths the state is read where the receiver's class
 * is known: the code classFor compiles for one interface (its constructor, `pointer`, `dispose`)
 * and the callers compiled for one method read `this[PTR_STATE]` at sites that see one hidden
 * class, and hand the state, whose shape is always this one, to the shared code below (members
 * that are not hot, such as `as` or `toString`, read it where they are). A symbol, not a private
 * field, because that code is compiled from text, which a private name cannot reach; the symbol
 * is not exported from the package.
 */
export interface PtrState {
  readonly iface: ComInterface<any>;
  /** The interface pointer, null once disposed or detached. */
  ptr: Pointer | null;
  /** What the finalizer releases, once the wrapper is registered (see `young`). */
  held: Held | null;
  /** The vtable's decoded functions, once a method is called (the vtable is read then). */
  functions: (CachedFunction | undefined)[] | undefined;
  /** Who releases this pointer, when another object owns it (see {@link ownPointer}). */
  owner: string | undefined;
  /** The wrapper, for its registration with `forgotten` (what is registered must not be reachable from the held value; the state is not that). */
  readonly self: ComPtr<any>;
  /** Made since the last settling of the young batch (see `young`), which has not seen it yet. */
  young: boolean;
  /**
   * An object that took this pointer over while it was young (a projected object): the batch
   * settles it with the pointer, through {@link setHolderSettling}, so that it needs no batch of
   * its own. Null once settled.
   */
  holder: object | null;
}

/**
 * @internal The key Node's util.inspect (console.log), Bun's and Deno's consoles look a custom
 * view up by: ComPtrs and projected objects show their toString(), not their state.
 */
export const INSPECT: unique symbol = Symbol.for('nodejs.util.inspect.custom');

/** @internal The key of a ComPtr's {@link PtrState}. */
export const PTR_STATE: unique symbol = Symbol('winbg.ComPtr.state');

/**
 * @internal Marks `ptr` as owned by `owner` (a description for the error message). ComPtrs that
 * another object owns and hands out for calls only (a WinRTObject's cached interface pointers,
 * see WinRTObject.comPtr): disposing one yourself would break its owner, so dispose, detach and
 * disposeAsync refuse, saying what to do; the owner releases it with {@link releaseOwned}.
 */
export function ownPointer(ptr: ComPtr<any>, owner: string): void {
  ptr[PTR_STATE].owner = owner;
}

/** @internal The owner's release of a pointer it owns: at once, or on a koffi worker thread for a foreign one. */
export function releaseOwned(ptr: ComPtr<any>, async: boolean): Promise<void> | void {
  return releaseOwnedState(ptr[PTR_STATE], async);
}

/** @internal {@link releaseOwned} by the pointer's state. */
export function releaseOwnedState(state: PtrState, async: boolean): Promise<void> | void {
  state.owner = undefined;
  return async ? state.self.disposeAsync() : disposeState(state);
}

function ownedError(ptr: ComPtr<any>, what: string, owner: string): TypeError {
  return new TypeError(`${what}: this ComPtr belongs to ${owner}, which releases it; dispose that object instead, or take a pointer of your own with .as(${ptr.interface.name}) or .clone()`);
}

// A forgotten proxy is released on a koffi worker thread, as disposeComPtr does: its Release
// travels to another process, which may be waiting on this thread right now.
const forgotten = new FinalizationRegistry<Held>((held) => {
  const ptr = held.ptr;
  held.ptr = null;
  if (ptr !== null) {
    liveWrappers--;
    try {
      const release = held.release ?? unknownThroughVtable()!.release;
      if (isForeignPointer(ptr)) release.async(ptr, () => {});
      else if (release(ptr) === 0) lastReleased();
    } catch {
      // nothing to report to: the program dropped this reference long ago
    }
  }
});

/**
 * Wrappers made since the last microtask are registered with `forgotten` then, if still held
 * (young.ts): FinalizationRegistry.register with an unregister token costs about 0.6 µs in V8,
 * more than the rest of a wrapper, and most wrappers are disposed at once. A disposed wrapper is
 * never registered, and a registered one is not unregistered (its finalizer finds nothing).
 */
const young = youngBatch<PtrState>((batch) => {
  for (const state of batch) {
    state.young = false;
    const ptr = state.ptr;
    if (ptr === null) continue; // released: so is any holder, which releases it with its last receipt
    try {
      const release = unknownThroughVtable() === null ? (functionOfState(state, IUnknown.methods[2]!, ptr) as Held['release']) : null;
      const held: Held = { ptr, release };
      state.held = held;
      forgotten.register(state.self, held);
    } catch {
      // a vtable without Release: nothing could release it later either
    }
    const holder = state.holder;
    if (holder !== null) {
      state.holder = null;
      settleHolder!(holder);
    }
  }
});

let settleHolder: ((holder: object) => void) | null = null;

/**
 * @internal How the layer above settles the holders of young pointers (see PtrState.holder):
 * one batch for a projected object and its pointer, where two cost it 20 ns more (bench.mjs,
 * projectedCall, First().dispose()).
 */
export function setHolderSettling(settle: (holder: object) => void): void {
  settleHolder = settle;
}

/**
 * @internal Makes `holder` settle with `state`'s pointer, if the pointer is young and has no holder
 * yet; false otherwise (the caller settles it itself).
 */
export function holdWithPointer(state: PtrState, holder: object): boolean {
  if (!state.young || state.holder !== null || settleHolder === null) return false;
  state.holder = holder;
  return true;
}

/** ComPtr wrappers not yet disposed or finalized. */
export function liveComPtrs(): number {
  return liveWrappers;
}

/**
 * @internal A state made by a constructor, not an object literal (as projection.ts's ObjectRecord
 * is, for the same reason). V8 tracks where each literal's objects die
 * (allocation-site pretenuring): once a program kept many of them alive (100 000 objects held, as
 * the benchmark's budget does), every later one was allocated in the old generation, where only
 * a full collection frees it and every young object stored into it pays the write barrier:
 * First().dispose() in a loop cost 575 ns after the budget, against 335 without V8's pretenuring
 * (--no-allocation-site-pretenuring) and 337-340 with this constructor (bench.mjs,
 * --only budget,projectedCall). A `new` of a class has no such site.
 */
class StateRecord implements PtrState {
  // Declared only: the constructor's stores make the fields, in this order (a class field would be
  // defined first, then stored again).
  declare readonly iface: ComInterface<any>;
  declare ptr: Pointer | null;
  declare held: Held | null;
  declare functions: (CachedFunction | undefined)[] | undefined;
  declare owner: string | undefined;
  declare readonly self: ComPtr<any>;
  declare young: boolean;
  declare holder: object | null;
  constructor(iface: ComInterface<any>, ptr: Pointer, self: ComPtr<any>) {
    this.iface = iface;
    this.ptr = ptr;
    this.held = null;
    this.functions = undefined;
    this.owner = undefined;
    this.self = self;
    this.young = true;
    this.holder = null;
  }
}

/** The state of a new wrapper `self` of `ptr` (which it owns a reference to). */
function newState(ptr: Pointer, iface: ComInterface<any>, self: ComPtr<any>): PtrState {
  const state: PtrState = new StateRecord(iface, ptr, self);
  liveWrappers++;
  young(state);
  return state;
}

function disposedError(state: PtrState): never {
  throw new ComError(E_POINTER, `${state.iface.name}: this ComPtr was disposed`);
}

/** This wrapper holds no reference any more, and its finalizer (if registered) finds none. */
function forgetState(state: PtrState): void {
  state.ptr = null;
  if (state.held !== null) state.held.ptr = null;
  liveWrappers--;
}

/** Release of the object: through the machine code, or its vtable's own function. */
function releaseOf(state: PtrState, ptr: Pointer): NativeFn & { async(...args: unknown[]): void } {
  return (state.held?.release ?? unknownThroughVtable()?.release ?? functionOfState(state, IUnknown.methods[2]!, ptr)) as NativeFn & { async(...args: unknown[]): void };
}

/** ComPtr.dispose, by the state. */
function disposeState(state: PtrState): void {
  const ptr = state.ptr;
  if (ptr === null) return;
  if (state.owner !== undefined) throw ownedError(state.self, 'ComPtr.dispose', state.owner);
  forgetState(state);
  if (releaseOf(state, ptr)(ptr) === 0) lastReleased();
}

/** The native function in `method`'s slot of the object's vtable. */
function functionOfState(state: PtrState, method: MethodInfo, ptr: Pointer = state.ptr ?? disposedError(state)): NativeFn {
  if (hasUnsettledStubs()) settleStubs();
  const functions = state.functions ?? vtableFunctionsOf(state, ptr);
  const cached = functions[method.slot];
  // The epoch changes when settling repoints JS vtables: a function decoded before is stale.
  if (cached !== undefined && cached.proto === method.prototypes && cached.epoch === stubEpoch()) return cached.fn;
  const address = readPointer(readPointer(ptr)!, method.slot * POINTER_SIZE);
  if (address === null) throw new ComError(E_POINTER, `${state.iface.name}: vtable slot ${method.slot} (${method.name}) is null`);
  const fn = nativeFunction(address, method.prototypes);
  functions[method.slot] = { proto: method.prototypes, fn, epoch: stubEpoch() };
  return fn;
}

/** The decoded functions of the object's vtable, shared with every object of that vtable. */
function vtableFunctionsOf(state: PtrState, ptr: Pointer): (CachedFunction | undefined)[] {
  const vtable = readPointer(ptr);
  if (vtable === null) throw new ComError(E_POINTER, `${state.iface.name}: the object's vtable pointer is null`);
  let functions = vtableFunctions.get(vtable);
  if (!functions) vtableFunctions.set(vtable, (functions = []));
  return (state.functions = functions);
}

/**
 * @internal The COM identity of `ptr`'s object as a number (vtable.ts, identityAddress): the key
 * by which the WinRT projection keeps one wrapper per object. {@link ComPtr.identity} gives it as
 * a Pointer.
 * @throws ComError when the object's QueryInterface for IUnknown fails.
 */
export function identityKey(state: PtrState): number | bigint {
  const result = identityAddress(queryablePointer(state), IUnknown.iid.bytes);
  if (result < 0) throw new ComError(Number(result), `QueryInterface from ${state.iface.name} for IUnknown`);
  return result;
}

/** QueryInterface for `iid`: the interface pointer (one reference), or the failed HRESULT. */
function queryRaw(state: PtrState, iid: Guid): Pointer | number {
  return queryInterface(queryablePointer(state), iid.bytes);
}

/**
 * The pointer, for a QueryInterface on it, with JS vtables settled first, as before any
 * synchronous native call (see functionOfState): without the machine code, a JS object's
 * QueryInterface is a koffi callback.
 */
function queryablePointer(state: PtrState): Pointer {
  if (hasUnsettledStubs()) settleStubs();
  return state.ptr ?? disposedError(state);
}

export class ComPtr<M extends object = {}> {
  /** @internal The wrapper's state, set by its class's constructor (see {@link PtrState}). */
  declare readonly [PTR_STATE]: PtrState;

  /** @internal Use {@link ComPtr.attach} or {@link ComPtr.copyFrom}; the classes of classFor set the state. */
  constructor() {
    if (new.target === ComPtr) throw new TypeError('ComPtr: use ComPtr.attach(pointer, iface) or ComPtr.copyFrom(pointer, iface)');
  }

  /** The interface this pointer is typed as. */
  get interface(): ComInterface<M> {
    return this[PTR_STATE].iface;
  }

  /** Wraps `ptr`, taking over the reference the caller holds (an out-parameter's result). */
  static attach<M extends object>(ptr: Pointer, iface: ComInterface<M>): Com<M> {
    checkPointer(ptr, iface, 'ComPtr.attach');
    return new (classFor(iface))(ptr, iface) as Com<M>;
  }

  /**
   * Wraps `ptr` with a reference of its own: AddRef, as C++/WinRT's `copy_from_abi` does. For a
   * pointer the caller only borrows (an in-parameter), whose reference stays the caller's.
   */
  static copyFrom<M extends object>(ptr: Pointer, iface: ComInterface<M>): Com<M> {
    checkPointer(ptr, iface, 'ComPtr.copyFrom');
    const wrapper = new (classFor(iface))(ptr, iface) as Com<M>;
    const state = wrapper[PTR_STATE];
    try {
      (unknownThroughVtable()?.addRef ?? functionOfState(state, IUnknown.methods[1]!))(ptr);
    } catch (error) {
      forgetState(state); // it holds no reference: its finalizer must release none
      throw error;
    }
    return wrapper;
  }

  /**
   * The former name of {@link ComPtr.copyFrom}: it adds a reference, which "borrow" did not say.
   * @deprecated Use {@link ComPtr.copyFrom}; `borrow` goes in the next release.
   */
  static borrow<M extends object>(ptr: Pointer, iface: ComInterface<M>): Com<M> {
    return ComPtr.copyFrom(ptr, iface);
  }

  /** The interface pointer. Throws once the ComPtr is disposed. */
  get pointer(): Pointer {
    const state = this[PTR_STATE];
    return state.ptr ?? disposedError(state);
  }

  get disposed(): boolean {
    return this[PTR_STATE].ptr === null;
  }

  /** The JS object behind this pointer when it is a JS COM object of this process. */
  get implementation(): object | undefined {
    return localImplementation(this.pointer);
  }

  /**
   * QueryInterface: a new ComPtr for `iface` (dispose it separately).
   * @throws ComError E_NOINTERFACE naming both interfaces when the object does not implement it.
   */
  as<N extends object>(iface: ComInterface<N>): Com<N> {
    const result = this.#query(iface);
    if (typeof result === 'number') {
      throw new ComError(result, `QueryInterface from ${this.interface.name} for ${iface.name} {${iface.iid}}${result === E_NOINTERFACE ? ': the object does not implement it' : ''}`);
    }
    return result;
  }

  /** QueryInterface that returns null where the object does not implement `iface`. */
  tryAs<N extends object>(iface: ComInterface<N>): Com<N> | null {
    const result = this.#query(iface);
    if (result === E_NOINTERFACE) return null;
    if (typeof result === 'number') throw new ComError(result, `QueryInterface from ${this.interface.name} for ${iface.name}`);
    return result;
  }

  #query<N extends object>(iface: ComInterface<N>): Com<N> | number {
    if (!iface || typeof iface.slotCount !== 'number') throw new TypeError(`${this.interface.name}.as: expected an interface, got ${typeof iface}`);
    const result = queryRaw(this[PTR_STATE], iface.iid);
    return typeof result === 'number' ? result : ComPtr.attach(result, iface);
  }

  /**
   * QueryInterface by IID for a raw pointer the caller owns (one reference): for `iid_is`
   * out-parameters such as IClassFactory::CreateInstance's.
   * @throws ComError when the object does not implement the interface.
   */
  query(iid: Guid | string): Pointer {
    const guid = Guid.from(iid);
    const result = queryRaw(this[PTR_STATE], guid);
    if (typeof result === 'number') throw new ComError(result, `QueryInterface from ${this.interface.name} for {${guid}}`);
    return result;
  }

  /**
   * Calls a method on a koffi worker thread and resolves with its result, leaving this JS thread
   * free meanwhile. Use it where the callee may call back into JS objects of this process (COM
   * queues those calls to this thread, so a synchronous call would wait on itself forever).
   *
   * The arguments are converted on this thread first: an interface argument given as a ComPtr of
   * another interface is QueryInterfaced here, which for a proxy is a call to its process. Pass
   * the declared interface to keep the whole call off this thread.
   *
   * @example
   * await task.callAsync('Run', instance); // Run calls instance.GetDeferral() back in this process
   */
  callAsync<K extends keyof M & string>(
    name: K,
    ...args: M[K] extends (...a: infer A) => unknown ? A : never
  ): Promise<M[K] extends (...a: never[]) => infer R ? R : never> {
    const method = this.interface.allMethods.find((m) => m.name === name && m.owner !== IUnknown && m.owner !== IInspectable);
    if (!method) return Promise.reject(new TypeError(`${this.interface.name} has no method ${String(name)}`));
    return callMethodAsync(this, method, args) as Promise<M[K] extends (...a: never[]) => infer R ? R : never>;
  }

  /** A second ComPtr to the same object, with its own reference. */
  clone(): Com<M> {
    return ComPtr.copyFrom(this.pointer, this.interface);
  }

  /**
   * The object's COM identity: the address of its IUnknown, which is the same for every
   * interface pointer to one object (the rule of IUnknown::QueryInterface, in the COM spec's
   * "object identity"). Valid as long as some reference to the object is held.
   */
  identity(): Pointer {
    const key = identityKey(this[PTR_STATE]);
    return typeof key === 'bigint' ? key : BigInt(key);
  }

  /** True when both point to the same COM object (compares the IUnknown identities). */
  equals(other: ComPtr<any>): boolean {
    return this.identity() === other.identity();
  }

  /** Gives up this ComPtr's reference to the caller (e.g. to fill an out-parameter). */
  detach(): Pointer {
    const state = this[PTR_STATE];
    if (state.owner !== undefined) throw ownedError(this, 'ComPtr.detach', state.owner);
    const ptr = state.ptr ?? disposedError(state);
    forgetState(state);
    return ptr;
  }

  /** Releases the reference. A second call does nothing. */
  dispose(): void {
    disposeState(this[PTR_STATE]);
  }

  /**
   * Releases the reference on a koffi worker thread, leaving this JS thread free. For a proxy to
   * an object of another process, released while that process may be waiting on this one (inside
   * a call it made): the release travels to it (IRemUnknown::RemRelease), and its releasing of the
   * object there may need the very thread that waits, so a release from this thread would block.
   */
  disposeAsync(): Promise<void> {
    const state = this[PTR_STATE];
    const ptr = state.ptr;
    if (ptr === null) return Promise.resolve();
    if (state.owner !== undefined) throw ownedError(this, 'ComPtr.disposeAsync', state.owner);
    const release = releaseOf(state, ptr);
    forgetState(state);
    return new Promise((resolve) => release.async(ptr, () => resolve()));
  }

  [Symbol.dispose](): void {
    disposeState(this[PTR_STATE]);
  }

  toString(): string {
    return `ComPtr<${this.interface.name}>(${this.disposed ? 'disposed' : '0x' + this.pointer.toString(16)})`;
  }

  /** What console.log shows: {@link toString}. */
  [INSPECT](): string {
    return this.toString();
  }

  /** @internal Used by the generated method wrappers. */
  static functionOf(ptr: ComPtr<any>, method: MethodInfo): NativeFn {
    return functionOfState(ptr[PTR_STATE], method);
  }
}

function checkPointer(ptr: Pointer, iface: ComInterface<any>, where: string): void {
  if (typeof ptr !== 'bigint' || ptr === 0n) {
    throw new ComError(E_INVALIDARG, `${where}: expected a non-null interface pointer (bigint), got ${ptr === null ? 'null' : typeof ptr}`);
  }
  if (!iface || typeof iface.slotCount !== 'number') throw new TypeError(`${where}: expected an interface, got ${typeof iface}`);
}

type ComPtrClass = new (ptr: Pointer, iface: ComInterface<any>) => ComPtr<any>;
const classes = new Map<ComInterface<any>, ComPtrClass>();

/** What the classes compiled by {@link classFor} reach. */
const classHelpers = { newState, disposedError, disposeState };

/**
 * A ComPtr subclass for `iface`: a method per vtable slot on its prototype, and its own
 * constructor, `pointer`, `disposed` and `dispose`, compiled for it (compile.ts) so that their
 * reads and stores of the state see this class alone (see {@link PtrState}). Where code is not
 * compiled, the same constructor shared by every class, and ComPtr's own members.
 */
function classFor(iface: ComInterface<any>): ComPtrClass {
  let cls = classes.get(iface);
  if (cls) return cls;
  // Named where it is made (compile.ts, compileClass, says why).
  const name = `ComPtr<${iface.name}>`;
  cls = compileClass<ComPtrClass>(name, ['Base', 'S', 'h'], `class extends Base {
      constructor(ptr, iface) { super(); this[S] = h.newState(ptr, iface, this); }
      get pointer() { const s = this[S]; return s.ptr !== null ? s.ptr : h.disposedError(s); }
      get disposed() { return this[S].ptr === null; }
      dispose() { h.disposeState(this[S]); }
      [Symbol.dispose]() { h.disposeState(this[S]); }
    }`, [ComPtr, PTR_STATE, classHelpers]) ?? { [name]: class extends ComPtr<any> {
    constructor(ptr: Pointer, iface: ComInterface<any>) {
      super();
      (this as { [PTR_STATE]: PtrState })[PTR_STATE] = newState(ptr, iface, this);
    }
  } }[name]!;
  for (const method of iface.allMethods) {
    if (method.owner === IUnknown || method.owner === IInspectable) continue;
    if (method.name in ComPtr.prototype) {
      throw new TypeError(`${iface.name}.${method.name} clashes with a ComPtr member; rename it in the interface definition`);
    }
    const prototype = cls.prototype;
    const install = (value: unknown): void => void Object.defineProperty(prototype, method.name, { value, writable: true, configurable: true });
    install(methodCaller(method, install));
  }
  classes.set(iface, cls);
  return cls;
}

/**
 * True on Windows for an object that is not a JS COM object of this process: it may be a proxy to
 * another process, whose code may call back into this one while a call or release from this JS
 * thread waits, so calls and releases go to a koffi worker thread.
 */
export function isForeign(ptr: ComPtr<any>): boolean {
  return isForeignPointer(ptr.pointer);
}

function isForeignPointer(ptr: Pointer): boolean {
  return isWindows && localImplementation(ptr) === undefined;
}

/**
 * Disposes `ptr`: at once for an object of this process, on a koffi worker thread (disposeAsync)
 * for a foreign one, so that a release made while that process calls this one cannot block this
 * JS thread.
 */
export function disposeComPtr(ptr: ComPtr<any>): void {
  if (ptr.disposed) return;
  if (isForeign(ptr)) void ptr.disposeAsync();
  else ptr.dispose();
}

/** An interface element of an array as a ComPtr (owning its reference, or with one of its own). */
export function wrapElement(ptr: Pointer, iface: ComInterface<any>, take: boolean): ComPtr<any> {
  return take ? ComPtr.attach(ptr, iface) : ComPtr.copyFrom(ptr, iface);
}

// ---------------------------------------------------------------------------------------------
// Calls: arguments in, results out.

/** The interface a parameter of `owner`'s methods declares (IUnknown for `void*`-like ones). */
export function interfaceOf(param: ValueSpec, owner: ComInterface<any>): ComInterface<any> {
  const iface = param.interfaceName === null ? IUnknown : owner.resolve(param.interfaceName);
  if (!iface) throw new TypeError(`${owner.name}: unknown interface ${param.interfaceName}`);
  return iface;
}


/**
 * Implemented by JS objects that stand for a COM object they already hold (such as projected
 * WinRT objects): passing one where an interface is expected passes that object, not a new one.
 */
export const toComPtr: unique symbol = Symbol('winbg.toComPtr');
export interface ComConvertible {
  [toComPtr](iface: ComInterface<any>): ComPtr<any>;
}

/**
 * Turns JS values into COM objects for interfaces a layer above knows (the WinRT projection:
 * functions as delegates, arrays and Maps as collections, values as IReference<T>). Returns null
 * for values it leaves alone.
 */
export type InterfaceAdapter = (value: unknown, iface: ComInterface<any>, where: string) => ComPtr<any> | null;
let adapter: InterfaceAdapter | null = null;

/** Installs the adapter consulted for every JS value passed or returned as an interface pointer. */
export function setInterfaceAdapter(next: InterfaceAdapter | null): void {
  adapter = next;
}

/** Interfaces a JS object says it implements (`static interfaces` on its class, or its own). */
function declaredInterfaces(value: object, fallback: ComInterface<any>): readonly ComInterface<any>[] {
  const own = (value as { interfaces?: unknown }).interfaces;
  const ctor = (value as { constructor?: { interfaces?: unknown } }).constructor?.interfaces;
  const list = Array.isArray(own) ? own : Array.isArray(ctor) ? ctor : null;
  return list && list.length > 0 ? (list as ComInterface<any>[]) : [fallback];
}

/**
 * An AddRef'd pointer of interface `iface` for `value`: a ComPtr (QueryInterface) or a JS
 * object (made a COM object first). The caller owns the returned reference.
 */
export function interfacePointer(value: unknown, iface: ComInterface<any>, where: string): Pointer {
  if (value !== null && typeof value === 'object' && typeof (value as Partial<ComConvertible>)[toComPtr] === 'function') {
    value = (value as ComConvertible)[toComPtr](iface);
  } else if (!(value instanceof ComPtr) && adapter !== null) {
    const adapted = adapter(value, iface, where);
    if (adapted !== null) {
      // The adapter made a new COM object (or one wrapper of it): hand over its reference.
      try {
        return adapted.as(iface).detach();
      } finally {
        adapted.dispose();
      }
    }
  }
  if (value instanceof ComPtr) {
    const ptr = value.as(iface);
    return ptr.detach();
  }
  if (value !== null && (typeof value === 'object' || typeof value === 'function')) {
    // A JS object that is already a COM object keeps its identity (as C#/WinRT's CCWs do).
    const ptr = localObjectPointer(value, declaredInterfaces(value, iface), where);
    const unknown = ComPtr.attach(ptr, IUnknown);
    try {
      return unknown.as(iface).detach();
    } finally {
      unknown.dispose();
    }
  }
  throw new TypeError(`${where}: expected a ComPtr, a JS object implementing ${iface.name}, or null; got ${typeof value}`);
}


// ---------------------------------------------------------------------------------------------
// A method's calls, planned once: where each argument goes, which out-memory it gets, and a set
// of out-memory that the calls of this thread reuse (out-memory.ts says why it is a typed array).

/** How one parameter is passed. */
const VALUE = 0; // a number, bigint or boolean, passed through
const CONVERT = 1; // an in-parameter converted by toNativeIn (HSTRING, GUID, struct, interface…)
const ARRAY = 2; // a PassArray or FillArray: (length, pointer) from arrayIn
const OUT = 3; // an out-parameter: one cell of out-memory
const RECEIVE = 4; // a ReceiveArray: two cells, its length and its pointer

interface CallPlan {
  readonly method: MethodInfo;
  readonly where: string;
  readonly params: readonly ParamSpec[];
  readonly modes: readonly number[];
  /** For each parameter, the index of its (first) cell in the layout; -1 for in-parameters. */
  readonly cellOf: readonly number[];
  /** Native arguments, `this` included. */
  readonly nativeCount: number;
  /** Arguments the JS caller passes. */
  readonly inCount: number;
  readonly layout: OutLayout;
  /** Parameters that yield a result, in order. */
  readonly outs: readonly number[];
  /** Whether an in-parameter may leave work for after the call (an HSTRING to delete…). */
  readonly cleans: boolean;
  /** The native result is an HRESULT to check. */
  readonly hresult: boolean;
  /** The native result is a value the caller receives (before the out-parameters). */
  readonly returned: boolean;
  /**
   * The out-memory the next call takes, or null while a call holds it: a call made meanwhile
   * (native code calling JS that calls the same method, on this thread) makes a set of its own,
   * so the outer call's results are never overwritten.
   */
  scratch: OutView[] | null;
}

const plans = new WeakMap<MethodInfo, CallPlan>();

function planOf(method: MethodInfo): CallPlan {
  let plan = plans.get(method);
  if (plan === undefined) plans.set(method, (plan = makePlan(method)));
  return plan;
}

function makePlan(method: MethodInfo): CallPlan {
  const params = method.signature.params;
  const modes: number[] = [];
  const cellOf: number[] = [];
  const cells: OutCell[] = [];
  const outs: number[] = [];
  let nativeCount = 1;
  params.forEach((param, i) => {
    let mode: number;
    if (param.kind === 'array') mode = param.array === 'receive' ? RECEIVE : ARRAY;
    else if (param.direction === 'out') mode = OUT;
    else mode = param.kind === 'value' || param.kind === 'pointer' ? VALUE : CONVERT;
    modes.push(mode);
    cellOf.push(mode === OUT || mode === RECEIVE ? cells.length : -1);
    if (mode === OUT) cells.push(outCell(param));
    if (mode === RECEIVE) cells.push(...RECEIVE_CELLS);
    if (mode === OUT || mode === RECEIVE) outs.push(i);
    nativeCount += param.kind === 'array' ? 2 : 1;
  });
  return {
    method,
    where: `${method.owner.name}.${method.name}`,
    params,
    modes,
    cellOf,
    nativeCount,
    inCount: modes.filter((mode) => mode === VALUE || mode === CONVERT || mode === ARRAY).length,
    layout: new OutLayout(cells),
    outs,
    cleans: modes.some((mode) => mode === CONVERT || mode === ARRAY),
    hresult: method.signature.returns.kind === 'hresult',
    returned: method.signature.returns.kind !== 'hresult' && method.signature.returns.kind !== 'void',
    scratch: null,
  };
}

/**
 * The native arguments of a call: `this`, the in-parameters converted, the out-parameters' views
 * (cleared). What a conversion leaves to undo after the call goes to `cleanup`.
 */
function nativeArguments(target: ComPtr<any>, plan: CallPlan, args: unknown[], views: OutView[], cleanup: (() => void)[] | null): unknown[] {
  if (args.length > plan.inCount) throw new TypeError(`${plan.where} takes ${plan.inCount} argument${plan.inCount === 1 ? '' : 's'}, got ${args.length}`);
  const { params, modes, cellOf, method } = plan;
  const cells = plan.layout.cells;
  const native = new Array<unknown>(plan.nativeCount);
  native[0] = target.pointer;
  for (let i = 0, at = 1, next = 0; i < params.length; i++) {
    switch (modes[i]) {
      case VALUE: {
        const value = args[next++];
        const type = typeof value;
        if (type !== 'number' && type !== 'bigint' && type !== 'boolean') native[at++] = toNativeIn(params[i]!, value, method, next, cleanup!);
        else native[at++] = value;
        break;
      }
      case CONVERT:
        native[at++] = toNativeIn(params[i]!, args[next++], method, next, cleanup!);
        break;
      case ARRAY: {
        const [length, pointer] = arrayIn(params[i]!, args[next++], method, next, cleanup!);
        native[at++] = length;
        native[at++] = pointer;
        break;
      }
      case OUT: {
        const cell = cellOf[i]!;
        const view = views[cell]!;
        cells[cell]!.clear(view);
        native[at++] = view;
        break;
      }
      default: {
        const cell = cellOf[i]!;
        cells[cell]!.clear(views[cell]!);
        cells[cell + 1]!.clear(views[cell + 1]!);
        native[at++] = views[cell];
        native[at++] = views[cell + 1];
      }
    }
  }
  return native;
}

/**
 * The (length, pointer) pair of a PassArray or FillArray argument. A PassArray's elements are
 * the caller's for the call only; a FillArray's buffer is read back into the JS array after it.
 */
function arrayIn(param: ParamSpec, value: unknown, method: MethodInfo, position: number, cleanup: (() => void)[]): [number, Pointer | null] {
  const where = `${method.owner.name}.${method.name}: argument ${position} (${param.name})`;
  if (!Array.isArray(value)) throw new TypeError(`${where} must be an array, got ${value === null ? 'null' : typeof value}`);
  const element = param.element!;
  if (value.length === 0) return [0, null];
  const size = value.length * elementSize(element);
  const buffer = allocate(size);
  cleanup.push(() => freeNative(buffer, size));
  const iface = element.kind === 'interface' ? declaredInterface(element, method.owner) : null;
  if (param.array === 'pass') {
    cleanup.unshift(writeElements(buffer, value, element, where, (v) => (v instanceof ComPtr ? v.as(iface!).detach() : interfacePointer(v, iface!, where))));
  } else {
    // Read back before the buffer is freed (cleanup runs in order, so put this first).
    cleanup.unshift(() => {
      const filled = readElements(buffer, value.length, element, iface, true, wrapElement);
      filled.forEach((v, i) => (value[i] = v));
    });
  }
  return [value.length, buffer];
}

/** The call's result: its out-parameters (one value, or an array), or a ComError for a failure. */
function results(plan: CallPlan, views: OutView[], result: unknown, errorDetail: (hresult: number) => string | undefined): unknown {
  if (plan.hresult && (result as number) < 0) {
    releaseOuts(plan, views);
    const detail = errorDetail(result as number);
    throw new ComError(result as number, `calling ${plan.where}${detail ? `: ${detail}` : ''}`);
  }
  const outs = plan.outs;
  if (outs.length === 0) return plan.returned ? result : undefined;
  if (outs.length === 1 && !plan.returned) return outValue(plan, views, outs[0]!);
  const values: unknown[] = plan.returned ? [result] : [];
  for (const i of outs) values.push(outValue(plan, views, i));
  return values;
}

/** The JS value of out-parameter `i`, which the caller now owns. */
function outValue(plan: CallPlan, views: OutView[], i: number): unknown {
  const cell = plan.cellOf[i]!;
  const param = plan.params[i]!;
  const cells = plan.layout.cells;
  if (param.kind !== 'array') return fromNativeOut(param, cells[cell]!.read(views[cell]!), plan.method);
  return receivedArray(param, cells[cell]!.read(views[cell]!) as number, cells[cell + 1]!.read(views[cell + 1]!) as Pointer | null, plan.method);
}

/** `fn(...native)` without Function.prototype.apply for the common argument counts (apply costs as much as the call). */
function invoke(fn: NativeFn, native: unknown[]): unknown {
  switch (native.length) {
    case 1: return fn(native[0]);
    case 2: return fn(native[0], native[1]);
    case 3: return fn(native[0], native[1], native[2]);
    case 4: return fn(native[0], native[1], native[2], native[3]);
    case 5: return fn(native[0], native[1], native[2], native[3], native[4]);
    default: return fn.apply(null, native);
  }
}

/** A ReceiveArray's elements, taken over from the callee's CoTaskMem array, which is freed. */
function receivedArray(param: ParamSpec, length: number, array: Pointer | null, method: MethodInfo): unknown[] {
  const element = param.element!;
  try {
    return readElements(array, length, element, element.kind === 'interface' ? declaredInterface(element, method.owner) : null, true, wrapElement);
  } finally {
    taskMemFree(array);
  }
}

/** Calls `method` on `target` on this thread. */
function call(target: ComPtr<any>, plan: CallPlan, args: unknown[]): unknown {
  if (plan.method.unavailable !== undefined) throw new TypeError(plan.method.unavailable);
  const fn = ComPtr.functionOf(target, plan.method);
  // Take the reusable out-memory (a call made while this one runs finds none and makes its own);
  // whichever call ends puts its memory back for the next.
  const views = plan.scratch ?? plan.layout.allocate();
  plan.scratch = null;
  const cleanup: (() => void)[] | null = plan.cleans ? [] : null;
  try {
    const native = nativeArguments(target, plan, args, views, cleanup);
    clearErrorInfo();
    return results(plan, views, invoke(fn, native), takeErrorInfo);
  } finally {
    if (cleanup !== null) for (const done of cleanup) done();
    plan.scratch = views;
  }
}

/**
 * The function a ComPtr exposes for `method`: the arguments converted by the signature, the
 * HRESULT checked, the out-parameters returned (one value, or an array of them). It is compiled
 * for the method's shape on its first call (see {@link compileCaller}), and is the general
 * {@link call} where the runtime forbids compiling code.
 */
export function methodCaller(method: MethodInfo, install?: (compiled: (this: ComPtr<any>, ...args: unknown[]) => unknown) => void): (this: ComPtr<any>, ...args: unknown[]) => unknown {
  const unavailable = method.unavailable;
  if (unavailable !== undefined) {
    return (): never => {
      throw new TypeError(unavailable);
    };
  }
  let compiled: ((this: ComPtr<any>, ...args: unknown[]) => unknown) | null | undefined;
  let plan: CallPlan | undefined;
  return function (this: ComPtr<any>, ...args: unknown[]): unknown {
    if (compiled === undefined) {
      try {
        compiled = compileCaller((plan = planOf(method)));
      } catch {
        compiled = null; // a shape the compiler cannot write (a struct field it has no reader for…): the general path
      }
      // From now on the prototype holds the compiled caller itself, with no wrapper in between.
      if (compiled !== null) install?.(compiled);
    }
    return compiled !== null ? compiled.apply(this, args) : call(this, (plan ??= planOf(method)), args);
  };
}

/** What compiled callers reach: the general path's pieces, named for the code below. */
const helpers = {
  functionOfState, disposedError,
  classFor,
  toNativeIn, arrayIn, fromNativeOut, receivedArray, results, clearErrorInfo, takeErrorInfo, takeHString, declaredInterface, Guid,
};

/**
 * A caller compiled for one method: straight-line JS with the method's own argument count, each
 * parameter's conversion and its out-memory's view in local variables, so that V8 optimizes it
 * for this shape alone and the call costs little more than koffi's (scripts/bench.mjs, "outgoing
 * call", against a raw koffi call with the same typed-array out-memory). The generated text holds
 * only names made here (a0, v0, …) and the method's name reduced to identifier characters after
 * `call_` (compile.ts).
 * Returns null where the runtime does not allow compiling: the caller then takes the general
 * path, which does the same work with loops.
 */
function compileCaller(plan: CallPlan): ((this: ComPtr<any>, ...args: unknown[]) => unknown) | null {
  const { params, modes, cellOf } = plan;
  const cells = plan.layout.cells;
  const ins: string[] = [];
  const convert: string[] = [];
  const native: string[] = ['self'];
  const clear: string[] = [];
  const read: string[] = [];
  const value: string[] = [];
  const readers: ((view: DataView) => unknown)[] = []; // struct outs' compiled readers, by parameter
  params.forEach((param, i) => {
    const mode = modes[i]!;
    if (mode === VALUE || mode === CONVERT || mode === ARRAY) {
      const a = `a${ins.length}`;
      const position = ins.length + 1;
      ins.push(a);
      if (mode === VALUE) {
        convert.push(`if (typeof ${a} !== 'number' && typeof ${a} !== 'bigint' && typeof ${a} !== 'boolean') ${a} = h.toNativeIn(params[${i}], ${a}, method, ${position}, cleanup);`);
        native.push(a);
      } else if (mode === CONVERT) {
        convert.push(`const n${i} = h.toNativeIn(params[${i}], ${a}, method, ${position}, cleanup);`);
        native.push(`n${i}`);
      } else {
        convert.push(`const n${i} = h.arrayIn(params[${i}], ${a}, method, ${position}, cleanup);`);
        native.push(`n${i}[0]`, `n${i}[1]`);
      }
      return;
    }
    const c = cellOf[i]!;
    const cellsOfParam = mode === RECEIVE ? [c, c + 1] : [c];
    for (const k of cellsOfParam) {
      clear.push(`const v${k} = views[${k}]; ${cells[k]!.clearCode(`v${k}`)}`);
      native.push(`v${k}`);
    }
    if (mode === RECEIVE) {
      read.push(`r${i} = h.receivedArray(params[${i}], v${c}[0], v${c + 1}[0] === 0n ? null : v${c + 1}[0], method);`);
      value.push(`r${i}`);
      return;
    }
    // Read (and for HSTRINGs, interfaces, GUIDs and structs, converted) while the memory is this call's.
    const direct = isDirectScalar(param);
    const raw = direct ? `v${c}[0]${param.native === 'bool' ? ' !== 0' : ''}` : `cells[${c}].read(v${c})`;
    let converted: string;
    if (param.kind === 'value' || param.kind === 'pointer') converted = raw;
    else if (param.kind === 'guid') converted = `h.Guid.fromBytes(${raw})`;
    else if (param.kind === 'hstring') converted = `h.takeHString(v${c}[0] === 0n ? null : v${c}[0])`;
    else if (param.kind === 'interface') {
      // The wrapper's class looked up once per caller, not per result (classFor's map).
      converted = `(v${c}[0] === 0n ? null : new (classes[${i}] ??= h.classFor(interfaces[${i}] ??= h.declaredInterface(params[${i}], method.owner)))(v${c}[0], interfaces[${i}]))`;
    }
    else if (param.kind === 'struct') {
      readers[i] = param.struct!.outReader();
      converted = `readers[${i}](v${c}d)`;
    }
    else converted = `h.fromNativeOut(params[${i}], ${raw}, method)`;
    read.push(`r${i} = ${converted};`);
    value.push(`r${i}`);
  });
  const returned = plan.returned;
  const results = returned ? ['result', ...value] : value;
  const body = `
    'use strict';
    const { params, method, plan, cells, readers } = context;
    const interfaces = [], classes = [];
    return function call_${plan.method.name.replace(/[^A-Za-z0-9_$]/g, '_')}(${ins.join(', ')}) {
      if (arguments.length > ${ins.length}) throw new TypeError(plan.where + ' takes ${ins.length} argument${ins.length === 1 ? '' : 's'}, got ' + arguments.length);
      const s = this[S];
      const self = s.ptr !== null ? s.ptr : h.disposedError(s);
      const fn = h.functionOfState(s, method, self);
      const cleanup = ${plan.cleans ? '[]' : 'null'};
      let views = null, result${params.map((_, i) => (modes[i] === OUT || modes[i] === RECEIVE ? `, r${i}` : '')).join('')};
      try {
        ${convert.join('\n        ')}
        views = plan.scratch ?? plan.layout.allocate();
        plan.scratch = null;
        ${clear.join('\n        ')}
        h.clearErrorInfo();
        result = fn(${native.join(', ')});
        ${plan.hresult ? 'if (result < 0) return h.results(plan, views, result, h.takeErrorInfo);' : ''}
        ${read.join('\n        ')}
      } finally {
        if (views !== null) plan.scratch = views;
        ${plan.cleans ? 'for (const done of cleanup) done();' : ''}
      }
      return ${results.length === 0 ? 'undefined' : results.length === 1 ? results[0] : `[${results.join(', ')}]`};
    };`;
  return compile(['h', 'S', 'context'], body, [helpers, PTR_STATE, { params, method: plan.method, plan, cells, readers }]);
}


/** Calls `method` on a native interface pointer: converts arguments, checks the HRESULT, returns the outs. */
export function callMethod(target: ComPtr<any>, method: MethodInfo, args: unknown[]): unknown {
  return call(target, planOf(method), args);
}

/**
 * The same call on a koffi worker thread, so that this JS thread stays free while it runs: for
 * calls whose callee calls back into JS objects of this process (a cross-process call whose
 * server calls our objects, or a class served by this very thread). Its out-memory is its own,
 * held until the call ends. Error information stays on the worker thread, so a failure carries
 * the HRESULT and its meaning only.
 */
export function callMethodAsync(target: ComPtr<any>, method: MethodInfo, args: unknown[]): Promise<unknown> {
  if (method.unavailable !== undefined) return Promise.reject(new TypeError(method.unavailable));
  const plan = planOf(method);
  const views = plan.layout.allocate();
  const cleanup: (() => void)[] = [];
  let started: { fn: NativeFn & { async(...args: unknown[]): void }; native: unknown[] };
  try {
    started = { fn: ComPtr.functionOf(target, method) as NativeFn & { async(...args: unknown[]): void }, native: nativeArguments(target, plan, args, views, cleanup) };
  } catch (error) {
    for (const done of cleanup) done();
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    const ended = (error: unknown, result: unknown): void => {
      try {
        if (error) throw error;
        // `target` and the native arguments (buffers the worker thread reads) are used here, so
        // that they live until the call has ended.
        void started.native;
        resolve(results(plan, views, result, () => (target.disposed ? 'the ComPtr was disposed during the call' : undefined)));
      } catch (failure) {
        reject(failure);
      } finally {
        for (const done of cleanup) done();
      }
    };
    try {
      started.fn.async(...started.native, ended);
    } catch (error) {
      ended(error, undefined); // koffi refused the arguments: the conversions' work is undone all the same
    }
  });
}

function toNativeIn(param: ParamSpec, value: unknown, method: MethodInfo, position: number, cleanup: (() => void)[]): unknown {
  // Named only when something is wrong: building the text costs more than most conversions.
  const where = (): string => `${method.owner.name}.${method.name}: argument ${position} (${param.name})`;
  switch (param.kind) {
    case 'value':
      if (typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'boolean') {
        throw new TypeError(`${where()} must be a number, got ${value === null ? 'null' : typeof value}`);
      }
      return value;
    case 'pointer':
      // A bigint address, null, or a buffer that native code reads or fills in place.
      if (value !== null && typeof value !== 'bigint' && !ArrayBuffer.isView(value)) {
        throw new TypeError(`${where()} must be a pointer (bigint), a buffer or null, got ${typeof value}`);
      }
      return value;
    case 'hstring': {
      if (typeof value !== 'string') throw new TypeError(`${where()} must be a string, got ${value === null ? 'null' : typeof value}`);
      const handle = createHString(value);
      cleanup.push(() => deleteHString(handle));
      return handle;
    }
    case 'guid':
      if (!(value instanceof Guid) && typeof value !== 'string') throw new TypeError(`${where()} must be a Guid or GUID string, got ${typeof value}`);
      return Guid.from(value).bytes;
    case 'struct':
      return param.struct!.toNative(value, where(), cleanup);
    case 'wstring':
      if (value === null && param.optional) return null;
      if (typeof value !== 'string') throw new TypeError(`${where()} must be a string, got ${typeof value}`);
      return wideString(value);
    case 'interface': {
      if (value == null) return null;
      const iface = declaredInterface(param, method.owner);
      if (typeof value === 'object' && !(value instanceof ComPtr) && typeof (value as Partial<ComConvertible>)[toComPtr] === 'function') {
        value = (value as ComConvertible)[toComPtr](iface);
      }
      if (value instanceof ComPtr) {
        // Borrowed for the call's duration when it already is the interface (or derives from
        // it); otherwise the callee would call the wrong slots: QueryInterface for the declared
        // one, and release that after the call.
        if (value.interface.extends(iface)) return value.pointer;
        const queried = value.as(iface);
        cleanup.push(() => disposeComPtr(queried));
        return queried.pointer;
      }
      const ptr = interfacePointer(value, iface, where());
      cleanup.push(() => ComPtr.attach(ptr, iface).dispose());
      return ptr;
    }
  }
}

/** Interfaces that parameters declare, resolved once (a parameter belongs to one method of one interface). */
const declared = new WeakMap<ValueSpec, ComInterface<any>>();

function declaredInterface(param: ValueSpec, owner: ComInterface<any>): ComInterface<any> {
  let iface = declared.get(param);
  if (iface === undefined) declared.set(param, (iface = interfaceOf(param, owner)));
  return iface;
}

function fromNativeOut(param: ParamSpec, raw: unknown, method: MethodInfo): unknown {
  switch (param.kind) {
    case 'guid':
      return Guid.fromBytes(raw as Uint8Array); // a copy: the out-memory is reused
    case 'hstring':
      return takeHString(raw as Pointer | null);
    case 'interface':
      return raw === null ? null : ComPtr.attach(raw as Pointer, declaredInterface(param, method.owner));
    case 'struct':
      return param.struct!.toJS(raw, true);
    default:
      return raw;
  }
}

/** A failed call's out-parameters should be null; release any the callee set anyway. */
function releaseOuts(plan: CallPlan, views: OutView[]): void {
  plan.params.forEach((param, i) => {
    if (plan.modes[i] !== OUT || (param.kind !== 'hstring' && param.kind !== 'interface')) return;
    const cell = plan.cellOf[i]!;
    const value = plan.layout.cells[cell]!.read(views[cell]!) as Pointer | null;
    if (value === null) return;
    try {
      if (param.kind === 'hstring') deleteHString(value);
      else ComPtr.attach(value, IUnknown).dispose();
    } catch {
      // the call already failed; its HRESULT is what the caller needs to see
    }
  });
}
