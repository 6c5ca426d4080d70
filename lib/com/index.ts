// winbg/com: the COM runtime. One concept per module; this file only re-exports.
export { Guid } from './guid.js';
export * from './hresult.js';
export { HString, createHString, readHString, takeHString, deleteHString, duplicateHString, hstringLength, HSTRING_HEADER_SIZE, type HSTRING } from './hstring.js';
export { ComInterface, defineInterface, type InterfaceDefinition, type MethodInfo, type LocalType } from './interface.js';
export { defineStruct, StructType, GUID_STRUCT } from './struct.js';
export { IUnknown, IInspectable, IAgileObject, IID_IMarshal, TrustLevel } from './unknown.js';
export { ComPtr, disposeComPtr, liveComPtrs, type Com } from './pointer.js';
export { createObject, type ComClass } from './implement.js';
export { liveComObjects, prepareInterfaces, type ObjectOptions, type Implementation } from './object.js';
export { setErrorReporter, type ErrorReporter } from './boundary.js';
export { ClassFactory, IClassFactory, type ClassDefinition, type ClassFactoryMethods } from './class-factory.js';
export { getIids, getRuntimeClassName, getTrustLevel } from './inspectable.js';
export { toComPtr, type ComConvertible } from './pointer.js';
export * from './runtime.js';
export { isWindows, registeredCallbacks, type Pointer } from '../ffi/koffi.js';
export { nativeMemoryInUse } from '../ffi/memory.js';
export { nativeUnknownUnavailable } from '../ffi/native-unknown.js';
