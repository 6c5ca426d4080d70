// The boundary guard of JS COM methods: every call from native code into a JS implementation
// passes through one of these stubs, which convert the arguments, call the method by name, write
// the out-parameters, and turn any exception into an HRESULT — never into a crash, and never into
// the 0 (S_OK) that koffi returns for a callback that throws. On Windows the message is left as
// error information for the caller (error-info.ts).
import type { NativeType, Pointer } from '../ffi/koffi.js';
import { readWideString, sizeOf, writeBytes, writePointer, writeValue } from '../ffi/memory.js';
import { taskMemAlloc, taskMemFree } from '../ffi/task-memory.js';
import { elementSize, readElements, writeElements } from './array.js';
import { originateErrorInfo } from './error-info.js';
import { Guid } from './guid.js';
import { ComError, E_NOTIMPL, E_POINTER, RO_E_CLOSED, S_OK } from './hresult.js';
import { createHString, readHString } from './hstring.js';
import type { ComInterface, MethodInfo } from './interface.js';
import { ComPtr, interfaceOf, interfacePointer, wrapElement } from './pointer.js';
import { isWide, type ParamSpec } from './signature.js';

/** What a stub needs to know of the `this` pointer it is called with (lib/com/object.ts). */
export interface StubTarget {
  readonly identity: { readonly implementation: object };
}

type HRESULT = number;

/** How many stubs are running on the JS thread right now (nested synchronous calls). */
let depth = 0;

export function enterCall(): void {
  depth++;
}

export function leaveCall(): void {
  depth--;
}

/** True while JS runs inside a native call into one of its COM objects. */
export function insideCall(): boolean {
  return depth > 0;
}

/** Called by a native caller on an object already destroyed: fail instead of crashing. */
export function closed(method: string): HRESULT {
  report(new ComError(RO_E_CLOSED, `${method} called on a released JS COM object`));
  return RO_E_CLOSED;
}

/**
 * The boundary guard for an interface method: converts arguments, calls the implementation by
 * name, writes out-parameters, and turns any exception into an HRESULT (never into a crash, and
 * never into the S_OK that koffi would return for a throwing callback). This is the hot path of
 * every incoming call, so what can be decided per method is decided here, once.
 */
export function methodStub(method: MethodInfo, entryOf: (self: Pointer) => StubTarget | undefined): (...args: any[]) => unknown {
  const { params, returns } = method.signature;
  const where = `${method.owner.name}.${method.name}`;
  const name = method.name;
  const ins = params.flatMap((p, i) => (p.direction === 'in' ? [i] : []));
  const outs = params.flatMap((p, i) => (p.direction === 'out' ? [i] : []));
  const isHresult = returns.kind === 'hresult';
  // The common shape: in-parameters that need no conversion, then the out-parameters. Their
  // values go to the implementation as they came, without a copy.
  const direct = ins.every((i, n) => i === n && ((params[i]!.kind === 'value' && !isWide(params[i]!.native)) || params[i]!.kind === 'pointer'));
  const single = outs.length === 1 ? params[outs[0]!]! : null;
  const singleValue = single !== null && single.kind === 'value' && typeof single.native === 'string' ? single.native : null;
  if (direct && isHresult && ins.length <= 4 && outs.length <= 1 && (outs.length === 0 || singleValue !== null)) {
    return valueStub(method, ins.length, singleValue, single?.optional ?? false, entryOf);
  }
  // Where each parameter's native arguments start: arrays take two (length, pointer).
  const at: number[] = [];
  params.reduce((next, p) => (at.push(next), next + (p.kind === 'array' ? 2 : 1)), 0);
  const fills = ins.filter((i) => params[i]!.array === 'fill');
  return function stub(self: Pointer, ...args: unknown[]): unknown {
    const entry = entryOf(self);
    if (entry === undefined) return isHresult ? closed(where) : 0;
    // Taken before `args` may be reused as the implementation's argument list.
    const outPtrs = outs.map((i) => args[at[i]!] as Pointer | null);
    const arrayPtrs = outs.map((i) => (params[i]!.kind === 'array' ? (args[at[i]! + 1] as Pointer | null) : null));
    enterCall();
    try {
      outs.forEach((i, k) => {
        const missing = outPtrs[k] === null || (params[i]!.kind === 'array' && arrayPtrs[k] === null);
        if (missing && !params[i]!.optional) throw new ComError(E_POINTER, `${where}: out-parameter ${params[i]!.name} is null`);
      });
      const impl = entry.identity.implementation as Record<string, unknown>;
      const fn = impl[name];
      if (typeof fn !== 'function') throw new ComError(E_NOTIMPL, `${where} is not implemented by the JS object`);
      let values = args;
      if (direct) {
        args.length = ins.length;
      } else {
        values = ins.map((i) => {
          const p = params[i]!;
          return p.kind === 'array'
            ? arrayFromNative(p, args[at[i]!] as number, args[at[i]! + 1] as Pointer | null, method.owner)
            : fromNative(p, args[at[i]!], method.owner);
        });
      }
      const result = (fn as (...a: unknown[]) => unknown).apply(impl, values);
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
        if (outs.length > 0 || fills.length > 0) throw new ComError(E_NOTIMPL, `${where} returned a Promise, but COM needs its results now`);
        (result as PromiseLike<unknown>).then(undefined, (error: unknown) => report(error, where));
      }
      if (!isHresult) return returns.kind === 'void' ? undefined : result;
      for (const i of fills) {
        const k = ins.indexOf(i);
        fillArrayOut(params[i]!, args[at[i]! + 1] as Pointer | null, values[k] as unknown[], args[at[i]!] as number, method.owner, where);
      }
      if (outs.length > 1 && (!Array.isArray(result) || result.length !== outs.length)) {
        throw new TypeError(`${where} must return an array of ${outs.length} values (its out-parameters), got ${typeof result}`);
      }
      outs.forEach((i, k) => {
        const p = params[i]!;
        const value = outs.length === 1 ? result : (result as unknown[])[k];
        // An optional (_Out_opt_) out-parameter the caller passed as NULL is simply not written.
        if (outPtrs[k] === null) return;
        if (p.kind === 'array') receiveArrayOut(p, outPtrs[k]!, arrayPtrs[k]!, value, method.owner, where);
        else toNativeOut(p, outPtrs[k]!, value, method.owner, where);
      });
      return S_OK;
    } catch (error) {
      // Out-parameters are NULL/zero when the call fails (COM's rule for [out] pointers), also
      // those a multi-out method wrote before it failed.
      outs.forEach((i, k) => {
        const p = params[i]!;
        if (outPtrs[k] === null) return;
        if (p.kind === 'array') {
          writeValue(outPtrs[k]!, 'uint32_t', 0);
          if (arrayPtrs[k] !== null) writePointer(arrayPtrs[k]!, null);
        } else {
          clearOut(outPtrs[k]!, p.native, p.kind);
        }
      });
      return isHresult ? originate(error, where) : (report(error, where), 0);
    } finally {
      leaveCall();
    }
  };
}

/**
 * The stub of the most common method shape, `HRESULT (up to 4 plain values, [one plain value
 * out])`, written without rest arguments or argument arrays: the per-call cost of the guard is
 * then a table lookup, the call, and the write of the result.
 */
function valueStub(method: MethodInfo, count: number, outType: string | null, optional: boolean, entryOf: (self: Pointer) => StubTarget | undefined): (...args: any[]) => unknown {
  const where = `${method.owner.name}.${method.name}`;
  const name = method.name;
  const invoke = (fn: Function, impl: object, a: unknown, b: unknown, c: unknown, d: unknown): unknown =>
    count === 0 ? fn.call(impl) : count === 1 ? fn.call(impl, a) : count === 2 ? fn.call(impl, a, b) : count === 3 ? fn.call(impl, a, b, c) : fn.call(impl, a, b, c, d);
  return function stub(self: Pointer, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown): HRESULT {
    const entry = entryOf(self);
    if (entry === undefined) return closed(where);
    const out = outType === null ? null : ((count === 0 ? a : count === 1 ? b : count === 2 ? c : count === 3 ? d : e) as Pointer | null);
    enterCall();
    try {
      if (out === null && outType !== null && !optional) throw new ComError(E_POINTER, `${where}: out-parameter ${method.signature.params[count]!.name} is null`);
      const impl = entry.identity.implementation as Record<string, unknown>;
      const fn = impl[name];
      if (typeof fn !== 'function') throw new ComError(E_NOTIMPL, `${where} is not implemented by the JS object`);
      const result = invoke(fn, impl, a, b, c, d);
      if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
        if (outType !== null) throw new ComError(E_NOTIMPL, `${where} returned a Promise, but COM needs its out-parameters now`);
        (result as PromiseLike<unknown>).then(undefined, (error: unknown) => report(error, where));
      }
      if (out !== null) writeValue(out, outType!, result);
      return S_OK;
    } catch (error) {
      if (out !== null) clearOut(out, outType!, 'value');
      return originate(error, where);
    } finally {
      leaveCall();
    }
  };
}

/** Out-parameters are NULL/zero unless the call succeeds (COM's rule for [out] pointers). */
function clearOut(ptr: Pointer, native: string | NativeType, kind: string): void {
  if (kind === 'guid') writeBytes(ptr, new Uint8Array(16));
  else if (typeof native !== 'string') writeBytes(ptr, new Uint8Array(sizeOf(native)));
  else if (native === 'void *') writePointer(ptr, null);
  else writeValue(ptr, native, native === 'int64_t' || native === 'uint64_t' ? 0n : native === 'bool' ? false : 0);
}

export type ErrorReporter = (error: unknown, where: string | undefined) => void;
let reporter: ErrorReporter | null = process.env.WINBG_DEBUG
  ? (error, where) => process.stderr.write(`winbg: ${where ?? 'COM call'} failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  : null;

/**
 * Receives every exception thrown by a JS COM method (after it became an HRESULT for the caller).
 * Returns the previous reporter. Off by default; `WINBG_DEBUG=1` logs them to stderr.
 */
export function setErrorReporter(next: ErrorReporter | null): ErrorReporter | null {
  const previous = reporter;
  reporter = next;
  return previous;
}

function report(error: unknown, where?: string): void {
  try {
    reporter?.(error, where);
  } catch {
    // a failing reporter must not turn a reported error into a crash
  }
}

/**
 * The HRESULT for an exception at the boundary. On Windows the message is attached to the
 * thread's error info (RoOriginateError) so that the caller's GetRestrictedErrorInfo reads it.
 */
export function originate(error: unknown, where?: string): HRESULT {
  const hresult = ComError.hresultOf(error);
  report(error, where);
  try {
    // A ComError's code already travels as the HRESULT; its detail is what the caller lacks.
    const message = error instanceof ComError ? error.detail ?? '' : error instanceof Error ? error.message : String(error);
    if (message) originateErrorInfo(hresult, message.slice(0, 1024));
  } catch {
    // error info is a courtesy: the HRESULT alone still reaches the caller
  }
  return hresult;
}

// ---------------------------------------------------------------------------------------------
// Values in and out, as the JS implementation sees them.

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
      return raw === null ? null : ComPtr.copyFrom(raw as Pointer, interfaceOf(param, owner));
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
  return readElements(ptr, length, element, element.kind === 'interface' ? interfaceOf(element, owner) : null, false, wrapElement);
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

