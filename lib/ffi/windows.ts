// Bindings to the Windows system DLLs that the COM runtime uses, loaded on first use and only on
// Windows (natively or under Wine). Off Windows, `windows()` throws and `systemMessage` returns null.
import { isWindows, koffi } from './koffi.js';

/** A bound function; `.async(...args, callback)` runs it on a koffi worker thread. */
type Fn = ((...args: any[]) => any) & { async: (...args: any[]) => void };

export interface WindowsApi {
  // kernel32
  FormatMessageW: Fn;
  GetCurrentPackageFullName: Fn;
  GetCurrentPackagePath: Fn;
  // ole32
  CoInitializeEx: Fn;
  CoRegisterClassObject: Fn;
  CoRevokeClassObject: Fn;
  CoResumeClassObjects: Fn;
  CoCreateInstance: Fn;
  CoCreateFreeThreadedMarshaler: Fn;
  CoTaskMemAlloc: Fn;
  CoTaskMemFree: Fn;
  CoAddRefServerProcess: Fn;
  CoReleaseServerProcess: Fn;
  // combase (WinRT)
  RoGetActivationFactory: Fn;
  RoOriginateError: Fn;
  GetRestrictedErrorInfo: Fn;
  // oleaut32 (classic error info, BSTR)
  CreateErrorInfo: Fn;
  SetErrorInfo: Fn;
  GetErrorInfo: Fn;
  SysStringLen: Fn;
  SysFreeString: Fn;
  WindowsCreateString: Fn;
  WindowsCreateStringReference: Fn;
  WindowsDeleteString: Fn;
  WindowsDuplicateString: Fn;
  WindowsGetStringRawBuffer: Fn;
  WindowsGetStringLen: Fn;
}

let api: WindowsApi | undefined;

/** The bound Windows functions. Throws off Windows: callers check `isWindows` first. */
export function windows(): WindowsApi {
  if (!isWindows) throw new Error('winbg: this operation needs Windows (ole32/combase)');
  return (api ??= bind());
}

function bind(): WindowsApi {
  const kernel32 = koffi.load('kernel32.dll');
  const ole32 = koffi.load('ole32.dll');
  const combase = koffi.load('combase.dll');
  const oleaut32 = koffi.load('oleaut32.dll');
  // Prototypes as in the Windows SDK headers (objbase.h, combaseapi.h, winstring.h,
  // roerrorapi.h); __stdcall is what WINAPI means, and the only convention on x64 anyway. The
  // HSTRING functions' out-parameters are plain pointers: hstring.ts passes typed arrays, which
  // cost a tenth of koffi's _Out_ boxes (lib/com/out-memory.ts).
  return {
    FormatMessageW: kernel32.func(
      'uint32_t __stdcall FormatMessageW(uint32_t flags, void *source, uint32_t messageId, uint32_t languageId, _Out_ uint16_t *buffer, uint32_t size, void *args)',
    ),
    // appmodel.h: LONG error codes (ERROR_SUCCESS, APPMODEL_ERROR_NO_PACKAGE 15700, ERROR_INSUFFICIENT_BUFFER 122).
    GetCurrentPackageFullName: kernel32.func('int32_t __stdcall GetCurrentPackageFullName(_Inout_ uint32_t *length, uint16_t *name)'),
    GetCurrentPackagePath: kernel32.func('int32_t __stdcall GetCurrentPackagePath(_Inout_ uint32_t *length, uint16_t *path)'),
    CoInitializeEx: ole32.func('int32_t __stdcall CoInitializeEx(void *reserved, uint32_t coInit)'),
    CoRegisterClassObject: ole32.func(
      'int32_t __stdcall CoRegisterClassObject(void *rclsid, void *unk, uint32_t clsContext, uint32_t flags, _Out_ uint32_t *register)',
    ),
    CoRevokeClassObject: ole32.func('int32_t __stdcall CoRevokeClassObject(uint32_t register)'),
    CoResumeClassObjects: ole32.func('int32_t __stdcall CoResumeClassObjects()'),
    CoCreateInstance: ole32.func(
      'int32_t __stdcall CoCreateInstance(void *rclsid, void *outer, uint32_t clsContext, void *riid, _Out_ void **ppv)',
    ),
    CoCreateFreeThreadedMarshaler: ole32.func(
      'int32_t __stdcall CoCreateFreeThreadedMarshaler(void *outer, _Out_ void **marshal)',
    ),
    CoTaskMemAlloc: ole32.func('void * __stdcall CoTaskMemAlloc(size_t size)'),
    CoTaskMemFree: ole32.func('void __stdcall CoTaskMemFree(void *ptr)'),
    CoAddRefServerProcess: ole32.func('uint32_t __stdcall CoAddRefServerProcess()'),
    CoReleaseServerProcess: ole32.func('uint32_t __stdcall CoReleaseServerProcess()'),
    RoGetActivationFactory: combase.func('int32_t __stdcall RoGetActivationFactory(void *activatableClassId, void *iid, _Out_ void **factory)'),
    RoOriginateError: combase.func('int32_t __stdcall RoOriginateError(int32_t error, void *message)'),
    GetRestrictedErrorInfo: combase.func('int32_t __stdcall GetRestrictedErrorInfo(_Out_ void **info)'),
    CreateErrorInfo: oleaut32.func('int32_t __stdcall CreateErrorInfo(_Out_ void **info)'),
    SetErrorInfo: oleaut32.func('int32_t __stdcall SetErrorInfo(uint32_t reserved, void *info)'),
    GetErrorInfo: oleaut32.func('int32_t __stdcall GetErrorInfo(uint32_t reserved, _Out_ void **info)'),
    SysStringLen: oleaut32.func('uint32_t __stdcall SysStringLen(void *bstr)'),
    SysFreeString: oleaut32.func('void __stdcall SysFreeString(void *bstr)'),
    WindowsCreateString: combase.func(
      'int32_t __stdcall WindowsCreateString(void *source, uint32_t length, void *string)',
    ),
    WindowsCreateStringReference: combase.func(
      'int32_t __stdcall WindowsCreateStringReference(void *source, uint32_t length, void *header, void *string)',
    ),
    WindowsDeleteString: combase.func('int32_t __stdcall WindowsDeleteString(void *string)'),
    WindowsDuplicateString: combase.func(
      'int32_t __stdcall WindowsDuplicateString(void *string, void *newString)',
    ),
    WindowsGetStringRawBuffer: combase.func(
      'void * __stdcall WindowsGetStringRawBuffer(void *string, void *length)',
    ),
    WindowsGetStringLen: combase.func('uint32_t __stdcall WindowsGetStringLen(void *string)'),
  };
}

const FORMAT_MESSAGE_FROM_SYSTEM = 0x1000;
const FORMAT_MESSAGE_IGNORE_INSERTS = 0x200;
const messages = new Map<number, string | null>();

/** The system's text for an HRESULT (FormatMessage), or null when there is none or off Windows. */
export function systemMessage(hresult: number): string | null {
  if (!isWindows) return null;
  let text = messages.get(hresult);
  if (text === undefined) {
    const buffer = new Uint16Array(1024);
    const length = windows().FormatMessageW(
      FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, null, hresult >>> 0, 0, buffer, buffer.length, null,
    ) as number;
    text = length > 0 ? String.fromCharCode(...buffer.subarray(0, length)).trim() : null;
    messages.set(hresult, text);
  }
  return text;
}
