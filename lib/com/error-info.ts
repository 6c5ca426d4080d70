// Error information that travels with a failed HRESULT on Windows. A JS method that throws
// leaves its message for the caller (RoOriginateError, and the classic IErrorInfo where combase
// does not keep it, as in Wine); a failed call made through winbg reads it back
// (GetRestrictedErrorInfo, then GetErrorInfo), as C++/WinRT's hresult_error does.
// Interfaces from restrictederrorinfo.idl and oaidl.idl.
import { isWindows, type Pointer } from '../ffi/koffi.js';
import { readUtf16, wideString } from '../ffi/memory.js';
import { windows } from '../ffi/windows.js';
import { defineInterface } from './interface.js';
import { ComPtr } from './pointer.js';
import { HString } from './hstring.js';
import { IUnknown } from './unknown.js';

const IErrorInfo = defineInterface({
  name: 'IErrorInfo',
  iid: '1CF2B120-547D-101B-8E65-08002B2BD119',
  base: IUnknown,
  methods: {
    GetGUID: 'HRESULT (_Out_ GUID *guid)',
    GetSource: 'HRESULT (_Out_ void **source)',
    GetDescription: 'HRESULT (_Out_ void **description)',
    GetHelpFile: 'HRESULT (_Out_ void **helpFile)',
    GetHelpContext: 'HRESULT (_Out_ ULONG *helpContext)',
  },
});

const ICreateErrorInfo = defineInterface<{ SetDescription(text: Uint16Array): void }>({
  name: 'ICreateErrorInfo',
  iid: '22F03340-547D-101B-8E65-08002B2BD119',
  base: IUnknown,
  methods: {
    SetGUID: 'HRESULT (REFGUID guid)',
    SetSource: 'HRESULT (void *source)',
    SetDescription: 'HRESULT (void *description)',
    SetHelpFile: 'HRESULT (void *helpFile)',
    SetHelpContext: 'HRESULT (ULONG helpContext)',
  },
});

const IRestrictedErrorInfo = defineInterface({
  name: 'IRestrictedErrorInfo',
  iid: '82BA7092-4C88-427D-A7BC-16DD93FEB67E',
  base: IUnknown,
  methods: {
    GetErrorDetails: 'HRESULT (_Out_ void **description, _Out_ HRESULT *error, _Out_ void **restrictedDescription, _Out_ void **capabilitySid)',
    GetReference: 'HRESULT (_Out_ void **reference)',
  },
});

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
  using create = ComPtr.attach(out[0], ICreateErrorInfo);
  create.SetDescription(wideString(message));
  using info = create.as(IErrorInfo);
  windows().SetErrorInfo(0, info.pointer);
  pending = true; // last: the winbg calls above clear what is pending as they start
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
    using restricted = ComPtr.attach(out[0], IRestrictedErrorInfo) as ComPtr & { GetErrorDetails(): [Pointer | null, number, Pointer | null, Pointer | null] };
    const [description, error, restrictedDescription, sid] = restricted.GetErrorDetails();
    const text = takeBstr(restrictedDescription) || takeBstr(description);
    takeBstr(sid);
    if (error === hresult && text) return text;
  }
  if ((windows().GetErrorInfo(0, out) as number) === 0 && out[0] !== null) {
    using info = ComPtr.attach(out[0], IErrorInfo) as ComPtr & { GetDescription(): Pointer | null };
    return takeBstr(info.GetDescription()) || undefined;
  }
  return undefined;
}
