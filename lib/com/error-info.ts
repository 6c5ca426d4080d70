// Error information that travels with a failed HRESULT on Windows. A JS method that throws
// leaves its message for the caller (RoOriginateError, and the classic IErrorInfo where combase
// does not keep it, as in Wine); a failed call made through winbg reads it back
// (GetRestrictedErrorInfo, then GetErrorInfo), as C++/WinRT's hresult_error does.
// Interfaces from restrictederrorinfo.idl and oaidl.idl.
import { isWindows, koffi, type Pointer } from '../ffi/koffi.js';
import { readUtf16, wideString } from '../ffi/memory.js';
import { queryInterface, releaseInterface, slotFunction } from '../ffi/vtable.js';
import { windows } from '../ffi/windows.js';
import { HString } from './hstring.js';

// The slots used, called through the vtable (this module is below ComPtr): after IUnknown's
// three, ICreateErrorInfo is SetGUID, SetSource, SetDescription…; IErrorInfo GetGUID, GetSource,
// GetDescription…; IRestrictedErrorInfo GetErrorDetails, GetReference.
const IID_IErrorInfo = new Uint8Array([0x20, 0xb1, 0xf2, 0x1c, 0x7d, 0x54, 0x1b, 0x10, 0x8e, 0x65, 0x08, 0x00, 0x2b, 0x2b, 0xd1, 0x19]);
const SET_DESCRIPTION = 5;
const GET_DESCRIPTION = 5;
const GET_ERROR_DETAILS = 3;
const setDescription = koffi.proto('__stdcall', null, 'int32_t', ['void *', 'void *']);
const getDescription = koffi.proto('__stdcall', null, 'int32_t', ['void *', koffi.out(koffi.pointer('void *'))]);
const getErrorDetails = koffi.proto('__stdcall', null, 'int32_t', [
  'void *', koffi.out(koffi.pointer('void *')), koffi.out(koffi.pointer('int32_t')), koffi.out(koffi.pointer('void *')), koffi.out(koffi.pointer('void *')),
]);

/** Reads and frees a BSTR (its length is stored before the characters). */
function takeBstr(bstr: Pointer | null): string {
  if (bstr === null) return '';
  try {
    return readUtf16(bstr, windows().SysStringLen(bstr) as number);
  } finally {
    windows().SysFreeString(bstr);
  }
}

/**
 * Off Windows there is no COM error object: callee and caller are on the JS thread, so one slot
 * carries the message from the failing JS method to the ComError of the call that failed.
 */
let portableError: { hresult: number; message: string } | null = null;
/** Set when a JS method left error information that no winbg call has taken yet. */
let pending = false;

/**
 * Forgets error information a JS method left and nobody took (its caller was native code that
 * ignored it), so that a later failure never shows it: called as each winbg call starts. Costs
 * one comparison unless there is something to clear.
 */
export function clearErrorInfo(): void {
  if (!pending) return;
  pending = false;
  portableError = null;
  if (isWindows) {
    try {
      windows().SetErrorInfo(0, null);
    } catch {
      // nothing to clear
    }
  }
}

/** Leaves `message` as the calling thread's error information for `hresult` (best effort). */
export function originateErrorInfo(hresult: number, message: string): void {
  if (!isWindows) {
    portableError = { hresult, message };
    pending = true;
    return;
  }
  using text = new HString(message);
  const kept = windows().RoOriginateError(hresult, text.handle) as number;
  if (kept) {
    pending = true;
    return;
  }
  // combase did not keep it (RoOriginateError is a stub in Wine): classic IErrorInfo instead.
  const out: [Pointer | null] = [null];
  if ((windows().CreateErrorInfo(out) as number) < 0 || out[0] === null) return;
  const create = out[0];
  try {
    slotFunction(create, SET_DESCRIPTION, setDescription)(create, wideString(message));
    const info = queryInterface(create, IID_IErrorInfo);
    if (typeof info === 'number') return;
    windows().SetErrorInfo(0, info);
    releaseInterface(info);
  } finally {
    releaseInterface(create);
  }
  pending = true;
}

/**
 * Takes the calling thread's error information after a failed call, when it is about
 * `hresult`: the description a callee attached, or undefined.
 */
export function takeErrorInfo(hresult: number): string | undefined {
  pending = false;
  if (!isWindows) {
    const error = portableError;
    portableError = null;
    return error && error.hresult === hresult ? error.message : undefined;
  }
  const out: [Pointer | null] = [null];
  if ((windows().GetRestrictedErrorInfo(out) as number) === 0 && out[0] !== null) {
    const restricted = out[0];
    const description: [Pointer | null] = [null];
    const error: [number] = [0];
    const restrictedDescription: [Pointer | null] = [null];
    const sid: [Pointer | null] = [null];
    try {
      if ((slotFunction(restricted, GET_ERROR_DETAILS, getErrorDetails)(restricted, description, error, restrictedDescription, sid) as number) >= 0) {
        const text = takeBstr(restrictedDescription[0]) || takeBstr(description[0]);
        takeBstr(sid[0]);
        if (error[0] === hresult && text) return text;
      }
    } finally {
      releaseInterface(restricted);
    }
  }
  out[0] = null;
  if ((windows().GetErrorInfo(0, out) as number) === 0 && out[0] !== null) {
    const info = out[0];
    const description: [Pointer | null] = [null];
    try {
      if ((slotFunction(info, GET_DESCRIPTION, getDescription)(info, description) as number) < 0) return undefined;
      return takeBstr(description[0]) || undefined;
    } finally {
      releaseInterface(info);
    }
  }
  return undefined;
}
