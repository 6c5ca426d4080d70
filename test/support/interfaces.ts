// Interfaces the tests implement and call. IIDs are random, made for these tests.
import { defineInterface, IInspectable, IUnknown, type Com } from '../../lib/com/index.js';

export interface Calculator {
  Add(a: number, b: number): number;
  Divide(a: number, b: number): [number, number];
  Fail(code: number): void;
  Echo(text: string): string;
  Length(text: string): number;
}

export const ICalculator = defineInterface<Calculator>({
  name: 'ICalculator',
  iid: '{4B6A3A9E-5D0F-4C8E-9E59-7C9A3B3A1E01}',
  base: IUnknown,
  methods: {
    Add: 'HRESULT (int32_t a, int32_t b, _Out_ int32_t *sum)',
    Divide: 'HRESULT (int32_t a, int32_t b, _Out_ int32_t *quotient, _Out_ int32_t *remainder)',
    Fail: 'HRESULT (int32_t code)',
    Echo: 'HRESULT (HSTRING text, _Out_ HSTRING *result)',
    Length: 'HRESULT (HSTRING text, _Out_ uint32_t *length)',
  },
});

export interface Named {
  get_Name(): string;
  put_Name(name: string): void;
}

/** A WinRT-style interface (IInspectable base) with a property. */
export const INamed = defineInterface<Named>({
  name: 'INamed',
  iid: '4B6A3A9E-5D0F-4C8E-9E59-7C9A3B3A1E02',
  base: IInspectable,
  methods: {
    get_Name: 'HRESULT (_Out_ HSTRING *value)',
    put_Name: 'HRESULT (HSTRING value)',
  },
});

export interface Container {
  Put(item: Com<Named> | null): void;
  Get(): Com<Named> | null;
}

/** Interface pointers in and out. */
export const IContainer = defineInterface<Container>({
  name: 'IContainer',
  iid: '4b6a3a9e-5d0f-4c8e-9e59-7c9a3b3a1e03',
  base: IUnknown,
  methods: {
    Put: 'HRESULT (INamed *item)',
    Get: 'HRESULT (_Out_ INamed **item)',
  },
});

/** An interface nothing implements. */
export const IMissing = defineInterface({
  name: 'IMissing',
  iid: '4b6a3a9e-5d0f-4c8e-9e59-7c9a3b3a1eff',
  base: IUnknown,
  methods: {},
});

export interface SequentialStream {
  Read(buffer: bigint | Uint8Array, size: number): number;
  Write(buffer: bigint | Uint8Array, size: number): number;
}

/**
 * ISequentialStream (objidl.idl): a standard interface whose proxy/stub every COM implementation
 * ships, so that it can be called across processes without a proxy DLL of ours.
 */
export const ISequentialStream = defineInterface<SequentialStream>({
  name: 'ISequentialStream',
  iid: '0c733a30-2a1c-11ce-ade5-00aa0044773d',
  base: IUnknown,
  methods: {
    Read: 'HRESULT (void *buffer, ULONG size, _Out_opt_ ULONG *read)',
    Write: 'HRESULT (const void *buffer, ULONG size, _Out_opt_ ULONG *written)',
  },
});

export interface Persist {
  GetClassID(): import('../../lib/com/index.js').Guid;
}

/** IPersist (objidl.idl), also marshalled by COM itself. */
export const IPersist = defineInterface<Persist>({
  name: 'IPersist',
  iid: '0000010c-0000-0000-C000-000000000046',
  base: IUnknown,
  methods: {
    GetClassID: 'HRESULT (_Out_ CLSID *classId)',
  },
});

/** IStream (objidl.idl): ISequentialStream plus seeking and the rest; tests implement Read only. */
export const IStream = defineInterface<SequentialStream>({
  name: 'IStream',
  iid: '0000000c-0000-0000-C000-000000000046',
  base: ISequentialStream,
  methods: {
    Seek: 'HRESULT (int64_t move, DWORD origin, _Out_opt_ uint64_t *position)',
    SetSize: 'HRESULT (uint64_t size)',
    CopyTo: 'HRESULT (IStream *target, uint64_t size, _Out_opt_ uint64_t *read, _Out_opt_ uint64_t *written)',
    Commit: 'HRESULT (DWORD flags)',
    Revert: 'HRESULT ()',
    LockRegion: 'HRESULT (uint64_t offset, uint64_t size, DWORD type)',
    UnlockRegion: 'HRESULT (uint64_t offset, uint64_t size, DWORD type)',
    Stat: 'HRESULT (void *statstg, DWORD flags)',
    Clone: 'HRESULT (_Out_ IStream **clone)',
  },
});

export interface PersistStream extends Persist {
  IsDirty(): void;
  Load(stream: Com<SequentialStream>): void;
  Save(stream: Com<SequentialStream>, clearDirty: number): void;
  GetSizeMax(): bigint | number;
}

/** IPersistStream (objidl.idl): Load hands the object an IStream it calls back. */
export const IPersistStream = defineInterface<PersistStream>({
  name: 'IPersistStream',
  iid: '00000109-0000-0000-C000-000000000046',
  base: IPersist,
  methods: {
    IsDirty: 'HRESULT ()',
    Load: 'HRESULT (IStream *stream)',
    Save: 'HRESULT (IStream *stream, BOOL clearDirty)',
    GetSizeMax: 'HRESULT (_Out_ uint64_t *size)',
  },
});

/** A JS object implementing ICalculator (Add) and INamed ('both'): the tests' usual COM object. */
export class NamedCalculator {
  static interfaces = [ICalculator, INamed];
  name = 'both';
  Add(a: number, b: number): number {
    return a + b;
  }
  get_Name(): string {
    return this.name;
  }
}
