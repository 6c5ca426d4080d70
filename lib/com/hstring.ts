// HSTRING, the Windows Runtime's immutable UTF-16 string handle (winstring.h). On Windows every
// operation goes to combase; elsewhere an in-process implementation with the same semantics
// backs the portable host: null is the empty string, lengths count UTF-16 code units, embedded
// NULs and unpaired surrogates survive, a reference string borrows its caller's buffer.
import { isWindows, type Pointer } from '../ffi/koffi.js';
import { allocate, readPointer, readUint32, readUtf16, release, toUtf16, writeBytes, writePointer, writeUint32, writeUtf16 } from '../ffi/memory.js';
import { windows } from '../ffi/windows.js';
import { ComError, E_INVALIDARG, E_OUTOFMEMORY } from './hresult.js';

/** An HSTRING handle; `null` is the empty string. */
export type HSTRING = Pointer | null;

/** Size of HSTRING_HEADER on 64-bit Windows (winstring.h: a 24-byte reserved union). */
export const HSTRING_HEADER_SIZE = 24;
const MAX_LENGTH = 0x7fffffff;

interface Backend {
  create(text: string): HSTRING;
  reference(buffer: Pointer, length: number, header: Pointer): HSTRING;
  read(handle: HSTRING): string;
  length(handle: HSTRING): number;
  duplicate(handle: HSTRING): HSTRING;
  delete(handle: HSTRING): void;
  /** The buffer behind a reference string is about to be freed. */
  unreference(handle: HSTRING): void;
}

// Out-parameters of combase's functions in reusable typed-array memory (see out-memory.ts): none
// of these functions calls back into JS, so one set serves every call of this thread.
const handleOut = new BigUint64Array(new ArrayBuffer(8));
const lengthOut = new Uint32Array(new ArrayBuffer(8));

/** The HSTRING a combase function returns in `handleOut` (the call given that memory, cleared). */
function handleFrom(call: (out: BigUint64Array) => number, name: string): HSTRING {
  handleOut[0] = 0n;
  ComError.check(call(handleOut), name);
  return handleOut[0] || null;
}

const combaseBackend: Backend = {
  create(text) {
    return handleFrom((out) => windows().WindowsCreateString(toUtf16(text), text.length, out), 'WindowsCreateString');
  },
  reference(buffer, length, header) {
    return handleFrom((out) => windows().WindowsCreateStringReference(buffer, length, header, out), 'WindowsCreateStringReference');
  },
  read(handle) {
    lengthOut[0] = 0;
    const raw = windows().WindowsGetStringRawBuffer(handle, lengthOut) as Pointer | null;
    return raw ? readUtf16(raw, lengthOut[0]!) : '';
  },
  length(handle) {
    return windows().WindowsGetStringLen(handle) as number;
  },
  duplicate(handle) {
    return handleFrom((out) => windows().WindowsDuplicateString(handle, out), 'WindowsDuplicateString');
  },
  delete(handle) {
    ComError.check(windows().WindowsDeleteString(handle), 'WindowsDeleteString');
  },
  unreference() {},
};

// In-process layout of a handle: { uint32 flags; uint32 length; uint32 refs; uint32 pad;
// char16_t *buffer } followed, for heap strings, by the characters and a NUL. Native code sees
// this layout (winbgtest's values object duplicates a heap string by incrementing refs), so the
// count lives there; the text of a heap string, immutable as every HSTRING's, is also kept here
// in JS, so reading one needs no FFI call.
const FLAG_REFERENCE = 1;
const HEADER = 24;
const live = new Map<Pointer, { readonly size: number; readonly text: string }>(); // heap handles
const references = new Set<Pointer>(); // reference handles whose buffers are still alive

// Windows would crash on a bad handle; here the handle is checked before memory is touched.
function checkLive(handle: Pointer, operation: string): void {
  if (!live.has(handle) && !references.has(handle)) {
    throw new ComError(E_INVALIDARG, `${operation}: ${handle} is not a live HSTRING`);
  }
}

const portableBackend: Backend = {
  create(text) {
    // The whole block made in JS and written at once: one allocation, one copy.
    const size = HEADER + (text.length + 1) * 2;
    const handle = allocate(size, false);
    const block = new DataView(new ArrayBuffer(size));
    block.setUint32(4, text.length, true);
    block.setUint32(8, 1, true);
    block.setBigUint64(16, handle + BigInt(HEADER), true);
    for (let i = 0; i < text.length; i++) block.setUint16(HEADER + i * 2, text.charCodeAt(i), true);
    writeBytes(handle, new Uint8Array(block.buffer));
    live.set(handle, { size, text });
    return handle;
  },
  reference(buffer, length, header) {
    writeUint32(header, FLAG_REFERENCE, 0);
    writeUint32(header, length, 4);
    writeUint32(header, 0, 8);
    writePointer(header, buffer, 16);
    references.add(header);
    return header;
  },
  read(handle) {
    if (handle === null) return '';
    const heap = live.get(handle);
    if (heap !== undefined) return heap.text;
    checkLive(handle, 'WindowsGetStringRawBuffer');
    return readUtf16(readPointer(handle, 16)!, readUint32(handle, 4));
  },
  length(handle) {
    if (handle === null) return 0;
    const heap = live.get(handle);
    if (heap !== undefined) return heap.text.length;
    checkLive(handle, 'WindowsGetStringLen');
    return readUint32(handle, 4);
  },
  duplicate(handle) {
    if (handle === null) return null;
    checkLive(handle, 'WindowsDuplicateString');
    // As on Windows, duplicating a reference string makes a heap copy; a heap string is shared.
    if (!live.has(handle)) return portableBackend.create(portableBackend.read(handle));
    writeUint32(handle, readUint32(handle, 8) + 1, 8);
    return handle;
  },
  delete(handle) {
    if (handle === null) return;
    checkLive(handle, 'WindowsDeleteString');
    const heap = live.get(handle);
    if (heap === undefined) return; // reference strings are not owned by the handle
    const refs = readUint32(handle, 8) - 1;
    if (refs > 0) {
      writeUint32(handle, refs, 8);
      return;
    }
    release(handle, heap.size);
    live.delete(handle);
  },
  unreference(handle) {
    if (handle !== null) references.delete(handle);
  },
};

const backend: Backend = isWindows ? combaseBackend : portableBackend;

function checkText(text: string, argument: string): void {
  if (typeof text !== 'string') throw new TypeError(`${argument} must be a string, got ${typeof text}`);
  if (text.length > MAX_LENGTH) throw new ComError(E_OUTOFMEMORY, `${argument} is too long for an HSTRING`);
}

/** Creates an HSTRING the caller owns (free it with {@link deleteHString}); '' gives null. */
export function createHString(text: string): HSTRING {
  checkText(text, 'text');
  return text.length === 0 ? null : backend.create(text);
}

/** The string an HSTRING holds, without taking ownership. */
export function readHString(handle: HSTRING): string {
  return handle === null ? '' : backend.read(handle);
}

/** Reads and then deletes an HSTRING the caller owns (an out-parameter's result). */
export function takeHString(handle: HSTRING): string {
  if (handle === null) return '';
  try {
    return backend.read(handle);
  } finally {
    backend.delete(handle);
  }
}

export function hstringLength(handle: HSTRING): number {
  return handle === null ? 0 : backend.length(handle);
}

export function duplicateHString(handle: HSTRING): HSTRING {
  return handle === null ? null : backend.duplicate(handle);
}

export function deleteHString(handle: HSTRING): void {
  if (handle !== null) backend.delete(handle);
}

/**
 * An owned HSTRING. `using` deletes it at the end of the scope; `HString.reference` makes a
 * fast-pass string over a buffer this object owns (no copy by combase, valid until disposed).
 *
 * @example
 * using name = new HString('Windows.ApplicationModel.Background.TimeTrigger');
 * RoGetActivationFactory(name.handle, iid, out);
 */
export class HString {
  #handle: HSTRING;
  #buffer: { ptr: Pointer; size: number } | null = null;
  #disposed = false;

  /** Creates a heap HSTRING holding `text`, owned by this object. */
  constructor(text: string) {
    this.#handle = createHString(text);
  }

  /**
   * A reference ("fast-pass") string: the characters live in a buffer owned by this object and
   * combase only points at them. Valid until disposed; whoever needs it longer duplicates it.
   */
  static reference(text: string): HString {
    checkText(text, 'text');
    const string = new HString('');
    if (text.length === 0) return string;
    const size = HSTRING_HEADER_SIZE + (text.length + 1) * 2; // WindowsCreateStringReference wants a NUL
    const ptr = allocate(size);
    writeUtf16(ptr, text, HSTRING_HEADER_SIZE);
    try {
      string.#handle = backend.reference(ptr + BigInt(HSTRING_HEADER_SIZE), text.length, ptr);
    } catch (error) {
      release(ptr, size);
      throw error;
    }
    string.#buffer = { ptr, size };
    return string;
  }

  /** The raw handle, to pass as an `HSTRING` argument. */
  get handle(): HSTRING {
    if (this.#disposed) throw new ComError(E_INVALIDARG, 'HString used after dispose');
    return this.#handle;
  }

  get length(): number {
    return hstringLength(this.handle);
  }

  toString(): string {
    return readHString(this.handle);
  }

  /**
   * Gives up ownership: the caller now deletes the returned handle (e.g. to fill an
   * out-parameter). A reference string is duplicated first, since its buffer dies with this object.
   */
  detach(): HSTRING {
    const handle = this.handle;
    if (this.#buffer) {
      const copy = duplicateHString(handle);
      this.dispose();
      return copy;
    }
    this.#handle = null;
    this.#disposed = true;
    return handle;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#buffer) {
      backend.unreference(this.#handle);
      release(this.#buffer.ptr, this.#buffer.size);
      this.#buffer = null;
    } else {
      deleteHString(this.#handle);
    }
    this.#handle = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
