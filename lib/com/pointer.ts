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
import { releaseInterface } from '../ffi/vtable.js';
import { Guid } from './guid.js';
import { ComError, E_INVALIDARG, E_NOINTERFACE, E_POINTER } from './hresult.js';
import type { ComInterface, MethodInfo } from './interface.js';
import { taskMemFree } from '../ffi/task-memory.js';
import { elementSize, readElements, writeElements } from './array.js';
import { clearErrorInfo, takeErrorInfo } from './error-info.js';
import { createHString, deleteHString, takeHString } from './hstring.js';
import { hasUnsettledStubs, lastReleased, localImplementation, localObjectPointer, settleStubs, stubEpoch } from './local.js';
import { isWide, type ParamSpec, type ValueSpec } from './signature.js';
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

/**
 * ComPtrs that another object owns and hands out for calls only (a WinRTObject's cached
 * interface pointers, see WinRTObject.comPtr): disposing one yourself would break its owner, so
 * dispose, detach and disposeAsync refuse, saying what to do; the owner releases it with
 * {@link releaseOwned}.
 */
const owners = new WeakMap<ComPtr<any>, string>();

/** @internal Marks `ptr` as owned by `owner` (a description for the error message). */
export function ownPointer(ptr: ComPtr<any>, owner: string): void {
  owners.set(ptr, owner);
}

/** @internal The owner's release of a pointer it owns: at once, or on a koffi worker thread for a foreign one. */
export function releaseOwned(ptr: ComPtr<any>, async: boolean): Promise<void> | void {
  owners.delete(ptr);
  return async ? ptr.disposeAsync() : ptr.dispose();
}

function checkNotOwned(ptr: ComPtr<any>, what: string): void {
  const owner = owners.get(ptr);
  if (owner !== undefined) {
    throw new TypeError(`${what}: this ComPtr belongs to ${owner}, which releases it; dispose that object instead, or take a pointer of your own with .as(${ptr.interface.name}) or .clone()`);
  }
}

// A forgotten proxy is released on a koffi worker thread, as disposeComPtr does: its Release
// travels to another process, which may be waiting on this thread right now.
const forgotten = new FinalizationRegistry<Held>((held) => {
  const ptr = held.ptr;
  held.ptr = null;
  if (ptr !== null) {
    liveWrappers--;
    try {
      if (isForeignPointer(ptr)) (held.release as NativeFn & { async(...args: unknown[]): void }).async(ptr, () => {});
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

  /** @internal Use {@link ComPtr.attach} or {@link ComPtr.copyFrom}. */
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

  /**
   * Wraps `ptr` with a reference of its own: AddRef, as C++/WinRT's `copy_from_abi` does. For a
   * pointer the caller only borrows (an in-parameter), whose reference stays the caller's.
   */
  static copyFrom<M extends object>(ptr: Pointer, iface: ComInterface<M>): Com<M> {
    checkPointer(ptr, iface, 'ComPtr.copyFrom');
    const wrapper = new (classFor(iface))(ptr, iface) as Com<M>;
    wrapper.#function(IUnknown.methods[1]!)(ptr);
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
    const result = this.#queryRaw(IUnknown.iid);
    if (typeof result === 'number') throw new ComError(result, `QueryInterface from ${this.interface.name} for IUnknown`);
    releaseInterface(result); // through its own vtable: an object's IUnknown may be another vtable's
    return result;
  }

  /** True when both point to the same COM object (compares the IUnknown identities). */
  equals(other: ComPtr<any>): boolean {
    return this.identity() === other.identity();
  }

  /** Gives up this ComPtr's reference to the caller (e.g. to fill an out-parameter). */
  detach(): Pointer {
    checkNotOwned(this, 'ComPtr.detach');
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
    checkNotOwned(this, 'ComPtr.dispose');
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
    checkNotOwned(this, 'ComPtr.disposeAsync');
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
    if (cached !== undefined && cached.proto === method.prototypes && cached.epoch === stubEpoch()) return cached.fn;
    const address = readPointer(this.#vtable, method.slot * POINTER_SIZE);
    if (address === null) throw new ComError(E_POINTER, `${this.interface.name}: vtable slot ${method.slot} (${method.name}) is null`);
    const fn = nativeFunction(address, method.prototypes);
    this.#functions[method.slot] = { proto: method.prototypes, fn, epoch: stubEpoch() };
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


interface PreparedCall {
  readonly fn: ((...args: unknown[]) => unknown) & { async?: (...args: unknown[]) => void };
  readonly native: unknown[];
  readonly cleanup: (() => void)[];
  readonly method: MethodInfo;
  /** Keeps the ComPtr (and so its reference) alive until an asynchronous call has ended. */
  readonly target: ComPtr<any>;
}

/** The box koffi fills for an out-parameter of this type. */
function outBox(param: ValueSpec): unknown {
  if (param.kind === 'guid') return new Uint8Array(16);
  if (param.kind === 'struct') return [{}];
  return [param.native === 'void *' ? null : typeof param.native === 'string' && param.native.endsWith('64_t') ? 0n : 0];
}

/** Converts the arguments of a call: in-parameters to native values, out-parameters to boxes. */
function prepareCall(target: ComPtr<any>, method: MethodInfo, args: unknown[]): PreparedCall {
  if (method.unavailable !== undefined) throw new TypeError(method.unavailable);
  const params = method.signature.params;
  const call: PreparedCall = { fn: ComPtr.functionOf(target, method), native: [target.pointer], cleanup: [], method, target };
  let next = 0;
  try {
    for (const param of params) {
      if (param.kind === 'array') {
        if (param.array === 'receive') call.native.push([0], [null]);
        else call.native.push(...arrayIn(param, args[next++], method, next, call.cleanup));
        continue;
      }
      if (param.direction === 'out') {
        call.native.push(outBox(param));
        continue;
      }
      const value = args[next++];
      call.native.push(toNativeIn(param, value, method, next, call.cleanup));
    }
    if (next < args.length) {
      throw new TypeError(`${method.owner.name}.${method.name} takes ${next} argument${next === 1 ? '' : 's'}, got ${args.length}`);
    }
    return call;
  } catch (error) {
    endCall(call);
    throw error;
  }
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
  const iface = element.kind === 'interface' ? interfaceOf(element, method.owner) : null;
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
function finishCall(call: PreparedCall, result: unknown, errorDetail: (hresult: number) => string | undefined): unknown {
  const { params, returns } = call.method.signature;
  const where = `${call.method.owner.name}.${call.method.name}`;
  if (returns.kind === 'hresult' && (result as number) < 0) {
    releaseOuts(params, call.native);
    const detail = errorDetail(result as number);
    throw new ComError(result as number, `calling ${where}${detail ? `: ${detail}` : ''}`);
  }
  const outs: unknown[] = [];
  let at = 1;
  for (const param of params) {
    if (param.kind === 'array') {
      if (param.array === 'receive') outs.push(receivedArray(param, call.native[at] as [number], call.native[at + 1] as [Pointer | null], call.method));
      at += 2;
      continue;
    }
    if (param.direction === 'out') outs.push(fromNativeOut(param, call.native[at], call.method));
    at++;
  }
  if (returns.kind !== 'hresult' && returns.kind !== 'void') outs.unshift(result);
  return outs.length === 0 ? undefined : outs.length === 1 ? outs[0] : outs;
}

/** A ReceiveArray's elements, taken over from the callee's CoTaskMem array, which is freed. */
function receivedArray(param: ParamSpec, length: [number], array: [Pointer | null], method: MethodInfo): unknown[] {
  const element = param.element!;
  try {
    return readElements(array[0], length[0], element, element.kind === 'interface' ? interfaceOf(element, method.owner) : null, true, wrapElement);
  } finally {
    taskMemFree(array[0]);
  }
}

function endCall(call: PreparedCall): void {
  for (const done of call.cleanup) done();
}

/**
 * The function a ComPtr exposes for `method`. Methods whose parameters are all plain values with
 * an HRESULT result (most COM methods) get a path that skips the general conversions; the rest
 * go through {@link callMethod}.
 */
export function methodCaller(method: MethodInfo): (this: ComPtr<any>, ...args: unknown[]) => unknown {
  const unavailable = method.unavailable;
  if (unavailable !== undefined) {
    return (): never => {
      throw new TypeError(unavailable);
    };
  }
  const { params, returns } = method.signature;
  if (returns.kind !== 'hresult' || !params.every((p) => p.kind === 'value')) {
    return function (this: ComPtr<any>, ...args: unknown[]): unknown {
      return callMethod(this, method, args);
    };
  }
  const isOut = params.map((p) => p.direction === 'out');
  const zero = params.map((p) => (typeof p.native === 'string' && p.native.endsWith('64_t') ? 0n : 0));
  const inCount = isOut.filter((out) => !out).length;
  const outSlots = params.flatMap((p, i) => (isOut[i] ? [i + 1] : []));
  const firstOut = outSlots[0] ?? 0;
  const firstOutWide = outSlots.length > 0 && isWide(params[firstOut - 1]!.native);
  return function (this: ComPtr<any>, ...args: unknown[]): unknown {
    const fn = ComPtr.functionOf(this, method);
    if (args.length > inCount) throw new TypeError(`${method.owner.name}.${method.name} takes ${inCount} argument${inCount === 1 ? '' : 's'}, got ${args.length}`);
    const native = new Array<unknown>(params.length + 1);
    native[0] = this.pointer;
    for (let i = 0, next = 0; i < params.length; i++) {
      if (isOut[i]) {
        native[i + 1] = [zero[i]];
        continue;
      }
      const value = args[next++];
      const type = typeof value;
      if (type !== 'number' && type !== 'bigint' && type !== 'boolean') {
        throw new TypeError(`${method.owner.name}.${method.name}: argument ${next} (${params[i]!.name}) must be a number, got ${value === null ? 'null' : type}`);
      }
      native[i + 1] = value;
    }
    clearErrorInfo();
    const hr = fn.apply(null, native) as number;
    if (hr < 0) {
      const detail = takeErrorInfo(hr);
      throw new ComError(hr, `calling ${method.owner.name}.${method.name}${detail ? `: ${detail}` : ''}`);
    }
    if (outSlots.length === 0) return undefined;
    if (outSlots.length === 1) {
      const value = (native[firstOut] as unknown[])[0];
      return firstOutWide && typeof value === 'number' ? BigInt(value) : value;
    }
    return outSlots.map((slot) => {
      const value = (native[slot] as unknown[])[0];
      return typeof value === 'number' && isWide(params[slot - 1]!.native) ? BigInt(value) : value;
    });
  };
}

/** Calls `method` on a native interface pointer: converts arguments, checks the HRESULT, returns the outs. */
export function callMethod(target: ComPtr<any>, method: MethodInfo, args: unknown[]): unknown {
  const call = prepareCall(target, method, args);
  try {
    clearErrorInfo();
    return finishCall(call, call.fn(...call.native), takeErrorInfo);
  } finally {
    endCall(call);
  }
}

/**
 * The same call on a koffi worker thread, so that this JS thread stays free while it runs: for
 * calls whose callee calls back into JS objects of this process (a cross-process call whose
 * server calls our objects, or a class served by this very thread). Error information stays on
 * the worker thread, so a failure carries the HRESULT and its meaning only.
 */
export function callMethodAsync(target: ComPtr<any>, method: MethodInfo, args: unknown[]): Promise<unknown> {
  let call: PreparedCall;
  try {
    call = prepareCall(target, method, args);
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    call.fn.async!(...call.native, (error: unknown, result: unknown) => {
      try {
        if (error) throw error;
        resolve(finishCall(call, result, () => undefined));
      } catch (failure) {
        reject(failure);
      } finally {
        endCall(call);
      }
    });
  });
}

function toNativeIn(param: ParamSpec, value: unknown, method: MethodInfo, position: number, cleanup: (() => void)[]): unknown {
  const where = `${method.owner.name}.${method.name}: argument ${position} (${param.name})`;
  switch (param.kind) {
    case 'value':
      if (typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'boolean') {
        throw new TypeError(`${where} must be a number, got ${value === null ? 'null' : typeof value}`);
      }
      return value;
    case 'pointer':
      // A bigint address, null, or a buffer that native code reads or fills in place.
      if (value !== null && typeof value !== 'bigint' && !ArrayBuffer.isView(value)) {
        throw new TypeError(`${where} must be a pointer (bigint), a buffer or null, got ${typeof value}`);
      }
      return value;
    case 'hstring': {
      if (typeof value !== 'string') throw new TypeError(`${where} must be a string, got ${value === null ? 'null' : typeof value}`);
      const handle = createHString(value);
      cleanup.push(() => deleteHString(handle));
      return handle;
    }
    case 'guid':
      if (!(value instanceof Guid) && typeof value !== 'string') throw new TypeError(`${where} must be a Guid or GUID string, got ${typeof value}`);
      return Guid.from(value).bytes;
    case 'struct':
      return param.struct!.toNative(value, where, cleanup);
    case 'wstring':
      if (value === null && param.optional) return null;
      if (typeof value !== 'string') throw new TypeError(`${where} must be a string, got ${typeof value}`);
      return wideString(value);
    case 'interface': {
      if (value == null) return null;
      const iface = interfaceOf(param, method.owner);
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
      const ptr = interfacePointer(value, iface, where);
      cleanup.push(() => ComPtr.attach(ptr, iface).dispose());
      return ptr;
    }
  }
}

function fromNativeOut(param: ParamSpec, box: unknown, method: MethodInfo): unknown {
  if (param.kind === 'guid') return Guid.fromBytes(box as Uint8Array);
  const value = (box as unknown[])[0];
  switch (param.kind) {
    case 'hstring':
      return takeHString(value as Pointer | null);
    case 'interface':
      return value === null ? null : ComPtr.attach(value as Pointer, interfaceOf(param, method.owner));
    case 'struct':
      return param.struct!.toJS(value, true);
    case 'value':
      return typeof value === 'number' && isWide(param.native) ? BigInt(value) : value;
    default:
      return value;
  }
}

/** A failed call's out-parameters should be null; release any the callee set anyway. */
function releaseOuts(params: readonly ParamSpec[], native: unknown[]): void {
  let at = 1;
  for (const param of params) {
    const box = native[at] as unknown[];
    at += param.kind === 'array' ? 2 : 1;
    if (param.direction !== 'out' || param.kind === 'guid' || param.kind === 'array') continue;
    const value = box[0];
    if (value === null || value === 0n || value === undefined) continue;
    try {
      if (param.kind === 'hstring') deleteHString(value as Pointer);
      if (param.kind === 'interface') ComPtr.attach(value as Pointer, IUnknown).dispose();
    } catch {
      // the call already failed; its HRESULT is what the caller needs to see
    }
  }
}

