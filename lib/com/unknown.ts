// The interfaces every COM object answers, as declared in unknwn.idl, inspectable.idl and
// objidl.idl of the Windows SDK. Their IIDs are public constants of the platform.
import { Guid } from './guid.js';
import { ComInterface, registerInterface } from './interface.js';

/** IUnknown {00000000-0000-0000-C000-000000000046}: QueryInterface, AddRef, Release. */
export const IUnknown: ComInterface = registerInterface(
  new ComInterface('IUnknown', Guid.parse('00000000-0000-0000-C000-000000000046'), null, {
    QueryInterface: 'HRESULT (REFIID riid, _Out_ void **object)',
    AddRef: 'ULONG ()',
    Release: 'ULONG ()',
  }),
);

/** IInspectable {AF86E2E0-B12D-4C6A-9C5A-D7AA65101E90}: the base of every Windows Runtime interface. */
export const IInspectable: ComInterface = registerInterface(
  new ComInterface('IInspectable', Guid.parse('AF86E2E0-B12D-4C6A-9C5A-D7AA65101E90'), IUnknown, {
    GetIids: 'HRESULT (_Out_ ULONG *count, _Out_ void **iids)',
    GetRuntimeClassName: 'HRESULT (_Out_ HSTRING *className)',
    GetTrustLevel: 'HRESULT (_Out_ int32_t *trustLevel)',
  }),
);

/**
 * IAgileObject {94EA2B94-E9CC-49E0-C0FF-EE64CA8F5B90}: a marker (no methods of its own) saying
 * the object may be called directly from any apartment.
 */
export const IAgileObject: ComInterface = registerInterface(
  new ComInterface('IAgileObject', Guid.parse('94EA2B94-E9CC-49E0-C0FF-EE64CA8F5B90'), IUnknown, {}),
);

/** IMarshal's IID; JS objects delegate it to the free-threaded marshaler on Windows. */
export const IID_IMarshal: Guid = Guid.parse('00000003-0000-0000-C000-000000000046');

/** TrustLevel (inspectable.h). */
export const TrustLevel = { BaseTrust: 0, PartialTrust: 1, FullTrust: 2 } as const;
