// winbg/com: the COM runtime. One concept per module; this file only re-exports.
export { Guid } from './guid.js';
export * from './hresult.js';
export { HString, createHString, readHString, takeHString, deleteHString, duplicateHString, hstringLength, HSTRING_HEADER_SIZE, type HSTRING } from './hstring.js';
export { ComInterface, defineInterface, type InterfaceDefinition, type MethodInfo, type LocalType } from './interface.js';
export { defineStruct, StructType, GUID_STRUCT } from './struct.js';
export { IUnknown, IInspectable, IAgileObject, IID_IMarshal, TrustLevel } from './unknown.js';
export { ComPtr, disposeComPtr, type Com } from './pointer.js';
export { createObject, type ComClass } from './implement.js';
export { prepareInterfaces, type ObjectOptions, type Implementation } from './object.js';
export { setErrorReporter, type ErrorReporter } from './boundary.js';
export { ClassFactory, IClassFactory, type ClassDefinition, type ClassFactoryMethods } from './class-factory.js';
export { getIids, getRuntimeClassName, getTrustLevel } from './inspectable.js';
export { toComPtr, type ComConvertible } from './pointer.js';
export * from './runtime.js';
export { isWindows, type Pointer } from '../ffi/koffi.js';
import '../tasks/index.js'; // the whole runtime of a served task, so that the bundle keeps it in one chunk (README, Start-up)
// liveComObjects, liveComPtrs, nativeMemoryInUse, registeredCallbacks, nativeUnknownUnavailable: winbg/diagnostics.
