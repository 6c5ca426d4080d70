// Calling native COM interfaces from JS. A ComPtr owns one reference to an interface pointer and
// exposes the interface's methods, which call the vtable slots through koffi. Like C++/WinRT's
// com_ptr: `using` (Symbol.dispose) releases exactly once, and a FinalizationRegistry releases
// what the program forgot, also once.
import { isWindows, type Pointer } from '../ffi/koffi.js';
import { POINTER_SIZE, readPointer } from '../ffi/memory.js';
import { nativeFunction } from '../ffi/prototype.js';
import { Guid } from './guid.js';
import { ComError, E_INVALIDARG, E_NOINTERFACE, E_POINTER } from './hresult.js';
import type { ComInterface, MethodInfo } from './interface.js';
import { callMethodAsync, methodCaller } from './marshal.js';
import { hasUnsettledStubs, settleStubs, stubEpoch } from './object.js';
import { lastReleased, localImplementation } from './local.js';
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
  readonly release: NativeFn;
}

let liveWrappers = 0;

// A forgotten proxy is released on a koffi worker thread, as disposeComPtr does: its Release
// travels to another process, which may be waiting on this thread right now.
const forgotten = new FinalizationRegistry<Held>((held) => {
  const ptr = held.ptr;
  held.ptr = null;
  if (ptr !== null) {
    liveWrappers--;
    try {
      if (isWindows && localImplementation(ptr) === undefined) (held.release as NativeFn & { async(...args: unknown[]): void }).async(ptr, () => {});
      else if (held.release(ptr) === 0) lastReleased();
    } catch {
      // nothing to report to: the program dropped this reference long ago
    }
  }
});


/** ComPtr wrappers not yet disposed or finalized. */
export function liveComPtrs(): number {
  return liveWrappers;
}

export class ComPtr<M extends object = {}> {
  /** The interface this pointer is typed as. */
  readonly interface: ComInterface<M>;
  readonly #held: Held;
  readonly #functions: (CachedFunction | undefined)[];
  readonly #vtable: Pointer;

  /** @internal Use {@link ComPtr.attach} or {@link ComPtr.borrow}. */
  constructor(ptr: Pointer, iface: ComInterface<M>) {
    this.interface = iface;
    this.#vtable = readPointer(ptr)!;
    let functions = vtableFunctions.get(this.#vtable);
    if (!functions) vtableFunctions.set(this.#vtable, (functions = []));
    this.#functions = functions;
    this.#held = { ptr, release: this.#function(IUnknown.methods[2]!) };
    forgotten.register(this, this.#held, this);
    liveWrappers++;
  }

  /** Wraps `ptr`, taking over the reference the caller holds (an out-parameter's result). */
  static attach<M extends object>(ptr: Pointer, iface: ComInterface<M>): Com<M> {
    checkPointer(ptr, iface, 'ComPtr.attach');
    return new (classFor(iface))(ptr, iface) as Com<M>;
  }

  /** Wraps `ptr` with a reference of its own (AddRef): for pointers the caller only borrows. */
  static borrow<M extends object>(ptr: Pointer, iface: ComInterface<M>): Com<M> {
    checkPointer(ptr, iface, 'ComPtr.borrow');
    const wrapper = new (classFor(iface))(ptr, iface) as Com<M>;
    wrapper.#function(IUnknown.methods[1]!)(ptr);
    return wrapper;
  }

  /** The interface pointer. Throws once the ComPtr is disposed. */
  get pointer(): Pointer {
    const ptr = this.#held.ptr;
    if (ptr === null) throw new ComError(E_POINTER, `${this.interface.name}: this ComPtr was disposed`);
    return ptr;
  }

  get disposed(): boolean {
    return this.#held.ptr === null;
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
    const result = this.#queryRaw(iface.iid);
    return typeof result === 'number' ? result : ComPtr.attach(result, iface);
  }

  #queryRaw(iid: Guid): Pointer | number {
    const out: [Pointer | null] = [null];
    const hr = this.#function(IUnknown.methods[0]!)(this.pointer, iid.bytes, out) as number;
    if (hr < 0) return hr;
    return out[0] === null ? E_POINTER : out[0];
  }

  /**
   * QueryInterface by IID for a raw pointer the caller owns (one reference): for `iid_is`
   * out-parameters such as IClassFactory::CreateInstance's.
   * @throws ComError when the object does not implement the interface.
   */
  query(iid: Guid | string): Pointer {
    const guid = Guid.from(iid);
    const result = this.#queryRaw(guid);
    if (typeof result === 'number') throw new ComError(result, `QueryInterface from ${this.interface.name} for {${guid}}`);
    return result;
  }

  /**
   * Calls a method on a koffi worker thread and resolves with its result, leaving this JS thread
   * free meanwhile. Use it where the callee may call back into JS objects of this process (COM
   * queues those calls to this thread, so a synchronous call would wait on itself forever).
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
    return ComPtr.borrow(this.pointer, this.interface);
  }

  /** True when both point to the same COM object (compares the IUnknown identities). */
  equals(other: ComPtr<any>): boolean {
    using a = this.as(IUnknown);
    using b = other.as(IUnknown);
    return a.pointer === b.pointer;
  }

  /** Gives up this ComPtr's reference to the caller (e.g. to fill an out-parameter). */
  detach(): Pointer {
    const ptr = this.pointer;
    this.#held.ptr = null;
    forgotten.unregister(this);
    liveWrappers--;
    return ptr;
  }

  /** Releases the reference. A second call does nothing. */
  dispose(): void {
    const ptr = this.#held.ptr;
    if (ptr === null) return;
    this.#held.ptr = null;
    forgotten.unregister(this);
    liveWrappers--;
    if (this.#held.release(ptr) === 0) lastReleased();
  }

  /**
   * Releases the reference on a koffi worker thread, leaving this JS thread free. For a proxy to
   * an object of another process, released while that process may be waiting on this one (inside
   * a call it made): the release travels to it (IRemUnknown::RemRelease), and its releasing of the
   * object there may need the very thread that waits, so a release from this thread would block.
   */
  disposeAsync(): Promise<void> {
    const ptr = this.#held.ptr;
    if (ptr === null) return Promise.resolve();
    const release = this.#held.release as NativeFn & { async(...args: unknown[]): void };
    this.detach();
    return new Promise((resolve) => release.async(ptr, () => resolve()));
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `ComPtr<${this.interface.name}>(${this.disposed ? 'disposed' : '0x' + this.pointer.toString(16)})`;
  }

  /** @internal The native function in `method`'s slot of this object's vtable. */
  #function(method: MethodInfo): NativeFn {
    if (hasUnsettledStubs()) settleStubs();
    const cached = this.#functions[method.slot];
    // The epoch changes when settling repoints JS vtables: a function decoded before is stale.
    if (cached !== undefined && cached.proto === method.prototypes && cached.epoch === stubEpoch) return cached.fn;
    const address = readPointer(this.#vtable, method.slot * POINTER_SIZE);
    if (address === null) throw new ComError(E_POINTER, `${this.interface.name}: vtable slot ${method.slot} (${method.name}) is null`);
    const fn = nativeFunction(address, method.prototypes);
    this.#functions[method.slot] = { proto: method.prototypes, fn, epoch: stubEpoch };
    return fn;
  }

  /** @internal Used by the generated method wrappers. */
  static functionOf(ptr: ComPtr<any>, method: MethodInfo): NativeFn {
    return ptr.#function(method);
  }
}

function checkPointer(ptr: Pointer, iface: ComInterface<any>, where: string): void {
  if (typeof ptr !== 'bigint' || ptr === 0n) {
    throw new ComError(E_INVALIDARG, `${where}: expected a non-null interface pointer (bigint), got ${ptr === null ? 'null' : typeof ptr}`);
  }
  if (!iface || typeof iface.slotCount !== 'number') throw new TypeError(`${where}: expected an interface, got ${typeof iface}`);
}

const classes = new Map<ComInterface<any>, new (ptr: Pointer, iface: ComInterface<any>) => ComPtr<any>>();

/** A ComPtr subclass whose prototype has one method per vtable slot of `iface`. */
function classFor(iface: ComInterface<any>): new (ptr: Pointer, iface: ComInterface<any>) => ComPtr<any> {
  let cls = classes.get(iface);
  if (cls) return cls;
  cls = class extends ComPtr<any> {};
  Object.defineProperty(cls, 'name', { value: `ComPtr<${iface.name}>` });
  for (const method of iface.allMethods) {
    if (method.owner === IUnknown || method.owner === IInspectable) continue;
    if (method.name in ComPtr.prototype) {
      throw new TypeError(`${iface.name}.${method.name} clashes with a ComPtr member; rename it in the interface definition`);
    }
    Object.defineProperty(cls.prototype, method.name, {
      value: methodCaller(method),
      writable: true,
      configurable: true,
    });
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
  return isWindows && localImplementation(ptr.pointer) === undefined;
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
