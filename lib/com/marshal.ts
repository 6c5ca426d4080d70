// Value conversions at the vtable boundary, in both directions, driven by the parsed signature:
// numbers pass through, HSTRINGs become JS strings, GUIDs become Guid, interface pointers become
// ComPtr wrappers, and out-parameters become return values.
import type { Pointer } from '../ffi/koffi.js';
import { readWideString, wideString, writePointer, writeValue } from '../ffi/memory.js';
import { clearErrorInfo, takeErrorInfo } from './error-info.js';
import { Guid } from './guid.js';
import { ComError, E_POINTER } from './hresult.js';
import { createHString, deleteHString, readHString, takeHString } from './hstring.js';
import type { ComInterface, MethodInfo } from './interface.js';
import { createNativeObject, existingIdentity, type Implementation } from './object.js';
import { ComPtr, disposeComPtr } from './pointer.js';
import { isWide, type ParamSpec, type ValueSpec } from './signature.js';
import { elementSize, readElements, writeElements } from './array.js';
import { allocate, release as freeNative } from '../ffi/memory.js';
import { taskMemAlloc, taskMemFree } from '../ffi/task-memory.js';
import { IUnknown } from './unknown.js';

function interfaceOf(param: ValueSpec, owner: ComInterface<any>): ComInterface<any> {
  const iface = param.interfaceName === null ? IUnknown : owner.resolve(param.interfaceName);
  if (!iface) throw new TypeError(`${owner.name}: unknown interface ${param.interfaceName}`);
  return iface;
}

/** An in-parameter as the JS implementation receives it. */
export function fromNative(param: ParamSpec, raw: unknown, owner: ComInterface<any>): unknown {
  switch (param.kind) {
    case 'hstring':
      return readHString(raw as Pointer | null);
    case 'guid':
      if (raw === null) throw new ComError(E_POINTER, `${owner.name}: GUID parameter ${param.name} is null`);
      return Guid.read(raw as Pointer);
    case 'interface':
      // A reference of the callee's own, released by `using`/dispose or by the GC.
      return raw === null ? null : ComPtr.borrow(raw as Pointer, interfaceOf(param, owner));
    case 'wstring':
      return raw === null ? null : readWideString(raw as Pointer);
    case 'struct':
      return param.struct!.toJS(raw);
    case 'value':
      return typeof raw === 'number' && isWide(param.native) ? BigInt(raw) : raw;
    default:
      return raw;
  }
}

/**
 * An array parameter as the JS implementation receives it, from its two native arguments
 * (length, pointer). A PassArray's elements are borrowed; a FillArray arrives as an array of
 * `length` holes for the implementation to fill (written back by {@link fillArrayOut}).
 */
export function arrayFromNative(param: ParamSpec, length: number, ptr: Pointer | null, owner: ComInterface<any>): unknown[] {
  if (param.array === 'fill') return new Array<unknown>(length);
  const element = param.element!;
  return readElements(ptr, length, element, element.kind === 'interface' ? interfaceOf(element, owner) : null, false);
}

/** Writes what the implementation put in a FillArray into the caller's buffer (the caller owns it). */
export function fillArrayOut(param: ParamSpec, ptr: Pointer | null, values: unknown[], length: number, owner: ComInterface<any>, where: string): void {
  if (ptr === null || length === 0) return;
  const element = param.element!;
  const filled = values.slice(0, length);
  // Elements left unset are zero (null HSTRING, null pointer, 0) as the buffer was.
  const present = filled.findIndex((v) => v === undefined);
  writeElements(ptr, present < 0 ? filled : filled.slice(0, present), element, `${where}: ${param.name}`, (v) => interfacePointer(v, interfaceOf(element, owner), where));
}

/** A ReceiveArray result: a CoTaskMem array of the values, owned (with its elements) by the caller. */
export function receiveArrayOut(param: ParamSpec, lengthPtr: Pointer, arrayPtr: Pointer, value: unknown, owner: ComInterface<any>, where: string): void {
  if (!Array.isArray(value)) throw new TypeError(`${where}: ${param.name} must be an array, got ${value === null ? 'null' : typeof value}`);
  const element = param.element!;
  const buffer = value.length === 0 ? null : taskMemAlloc(value.length * elementSize(element));
  try {
    if (buffer !== null) writeElements(buffer, value, element, `${where}: ${param.name}`, (v) => interfacePointer(v, interfaceOf(element, owner), where));
  } catch (error) {
    taskMemFree(buffer);
    throw error;
  }
  writeValue(lengthPtr, 'uint32_t', value.length);
  writePointer(arrayPtr, buffer);
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
    const ptr = existingIdentity(value as Implementation) ?? createNativeObject(value as Implementation, declaredInterfaces(value, iface));
    const unknown = ComPtr.attach(ptr, IUnknown);
    try {
      return unknown.as(iface).detach();
    } finally {
      unknown.dispose();
    }
  }
  throw new TypeError(`${where}: expected a ComPtr, a JS object implementing ${iface.name}, or null; got ${typeof value}`);
}

/** Writes a JS method's result into the caller's out-parameter. */
export function toNativeOut(param: ParamSpec, ptr: Pointer, value: unknown, owner: ComInterface<any>, where: string): void {
  switch (param.kind) {
    case 'hstring':
      if (typeof value !== 'string') throw new TypeError(`${where}: ${param.name} must be a string, got ${typeof value}`);
      writePointer(ptr, createHString(value));
      return;
    case 'guid':
      Guid.from(value as Guid | string).write(ptr);
      return;
    case 'interface':
      writePointer(ptr, value == null ? null : interfacePointer(value, interfaceOf(param, owner), where));
      return;
    case 'pointer':
      writePointer(ptr, (value as Pointer | null) ?? null);
      return;
    case 'struct':
      writeValue(ptr, param.native, param.struct!.toNative(value, `${where}: ${param.name}`));
      return;
    default:
      writeValue(ptr, param.native, value);
  }
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
      const filled = readElements(buffer, value.length, element, iface, true);
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
    return readElements(array[0], length[0], element, element.kind === 'interface' ? interfaceOf(element, method.owner) : null, true);
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
