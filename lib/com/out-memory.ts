// Out-parameters in memory that JS reads directly. koffi's `_Out_` boxes ([value] arrays) cost a
// microsecond a call, ten times the call itself: koffi allocates, converts and copies back for each.
// A typed array passed for a `void *` parameter is handed to the callee as a pointer to its own
// bytes (koffi's "Output buffers"), and JS reads the result from it without another FFI call. So
// each out-parameter gets a small typed-array view over one ArrayBuffer per call shape: the callee
// writes through it, the caller reads it. An ArrayBuffer's backing store never moves (V8 keeps it
// off the JS heap), so the pointer stays valid while native code runs, also on a koffi worker
// thread for an asynchronous call, as long as the views are kept alive until it ends.
//
// This module only lays out and reads raw values: numbers as their JS type, pointers (HSTRINGs,
// interfaces) as bigint or null, GUIDs as their 16 bytes, structs as the record their reader
// makes (struct.ts, readRaw). What a raw value becomes (a string, a ComPtr) is the caller's
// business (pointer.ts).
import { koffi, type NativeType } from '../ffi/koffi.js';
import type { ValueSpec } from './signature.js';

type View = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;
type ViewConstructor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => View;

/** One out-parameter's memory: how much, and how its raw value is cleared and read. */
export interface OutCell {
  readonly size: number;
  /** Makes the view over `buffer` at `offset` (a multiple of 8) that the callee writes through. */
  view(buffer: ArrayBuffer, offset: number): View;
  /** Sets the memory to zero (null, 0, false) before a call, so what the callee leaves unset reads as such. */
  clear(view: View): void;
  /** The same as JS text, for a compiled caller whose view is the variable `name` (compile.ts). */
  clearCode(name: string): string;
  /** The raw value the callee wrote. */
  read(view: View): unknown;
}

const cells = new Map<unknown, OutCell>();

function scalarCell(Type: ViewConstructor, bytes: number, read: (view: View) => unknown): OutCell {
  const zero = Type === BigInt64Array || Type === BigUint64Array ? 0n : 0;
  return {
    size: bytes,
    view: (buffer, offset) => new Type(buffer, offset, 1),
    clear: (view) => void (view[0] = zero as never),
    clearCode: (name) => `${name}[0] = ${zero === 0n ? '0n' : '0'};`,
    read,
  };
}

const first = (view: View): unknown => view[0];
/** A pointer-sized value: null for a null pointer, as koffi gives it. */
const POINTER_CELL = scalarCell(BigUint64Array, 8, (view) => (view[0] === 0n ? null : view[0]));

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** koffi's primitive names (signature.ts's PRIMITIVES values) and their typed arrays. */
const SCALARS: Readonly<Record<string, OutCell>> = {
  int8_t: scalarCell(Int8Array, 1, first),
  uint8_t: scalarCell(Uint8Array, 1, first),
  int16_t: scalarCell(Int16Array, 2, first),
  uint16_t: scalarCell(Uint16Array, 2, first),
  int32_t: scalarCell(Int32Array, 4, first),
  uint32_t: scalarCell(Uint32Array, 4, first),
  // 64-bit integers are bigint in JS whatever their value, as signature.ts's isWide promises.
  int64_t: scalarCell(BigInt64Array, 8, first),
  uint64_t: scalarCell(BigUint64Array, 8, first),
  float: scalarCell(Float32Array, 4, first),
  double: scalarCell(Float64Array, 8, first),
  // C++'s bool is one byte on every ABI winbg runs on (and WinRT's Boolean is one byte).
  bool: scalarCell(Uint8Array, 1, (view) => view[0] !== 0),
  // size_t is a number in JS, as koffi gives it, unless it does not fit one.
  size_t: scalarCell(BigUint64Array, 8, (view) => (view[0]! <= MAX_SAFE ? Number(view[0]) : view[0])),
};

/**
 * True when the out-parameter's typed-array element is its JS value (bool: compared with 0), so
 * that a compiled caller reads `view[0]` itself.
 */
export function isDirectScalar(spec: ValueSpec): boolean {
  return spec.kind === 'value' && typeof spec.native === 'string' && spec.native in SCALARS && spec.native !== 'size_t';
}

/** Bytes of a GUID out-parameter, or of a value of a type only koffi can read. */
function bytesCell(size: number, read: (view: Uint8Array) => unknown): OutCell {
  return {
    size,
    view: (buffer, offset) => new Uint8Array(buffer, offset, size),
    // A loop is cheaper than fill() for a GUID's or a small struct's bytes (no builtin call).
    clear: size <= 32 ? (view) => { for (let i = 0; i < size; i++) view[i] = 0; } : (view) => void (view as Uint8Array).fill(0),
    clearCode: (name) => `for (let i = 0; i < ${size}; i++) ${name}[i] = 0;`,
    read: read as (view: View) => unknown,
  };
}

/**
 * The bytes of a GUID or a struct: a Uint8Array for koffi to pass (Deno's koffi refuses a DataView
 * for a pointer), carrying the DataView a struct's fields are read through, and a Float64Array
 * over its whole 8-byte words, which clears them a word a store (0.0 is all zero bits; the view
 * starts 8-aligned).
 */
class WordBytes extends Uint8Array {
  readonly data: DataView;
  readonly wide: Float64Array;
  constructor(buffer: ArrayBuffer, offset: number, size: number) {
    super(buffer, offset, size);
    this.data = new DataView(buffer, offset, size);
    this.wide = new Float64Array(buffer, offset, size >> 3);
  }
}

function wordCell(size: number, read: (view: WordBytes) => unknown): OutCell {
  const words = size >> 3;
  return {
    size,
    view: (buffer, offset) => new WordBytes(buffer, offset, size),
    clear: (view) => {
      const { wide, data } = view as WordBytes;
      for (let i = 0; i < words; i++) wide[i] = 0;
      for (let at = words * 8; at < size; at++) data.setUint8(at, 0);
    },
    // `${name}d` is also what a compiled struct reader reads through (pointer.ts).
    clearCode: (name) => {
      const stores: string[] = [`const ${name}d = ${name}.data, ${name}w = ${name}.wide;`];
      for (let i = 0; i < words; i++) stores.push(`${name}w[${i}] = 0;`);
      for (let at = words * 8; at < size; at++) stores.push(`${name}d.setUint8(${at}, 0);`);
      return stores.join(' ');
    },
    read: read as (view: View) => unknown,
  };
}

/** A GUID's 16 bytes, read as they are (Guid.fromBytes copies them). */
const GUID_CELL = wordCell(16, (view) => view);

function structCell(size: number, read: (view: DataView) => unknown): OutCell {
  return wordCell(size, (view) => read(view.data));
}

/** The cell of an out-parameter of this type (not an array: a ReceiveArray is two pointer cells). */
export function outCell(spec: ValueSpec): OutCell {
  switch (spec.kind) {
    case 'pointer':
    case 'hstring':
    case 'interface':
      return POINTER_CELL;
    case 'guid':
      return GUID_CELL;
    case 'struct': {
      let cell = cells.get(spec.struct);
      if (!cell) {
        const struct = spec.struct!;
        cells.set(struct, (cell = structCell(struct.size, (view) => struct.readRaw(view))));
      }
      return cell;
    }
    default: {
      const cell = typeof spec.native === 'string' ? SCALARS[spec.native] : undefined;
      if (cell) return cell;
      // A named type koffi knows but this table does not: let koffi read it.
      let decoded = cells.get(spec.native);
      if (!decoded) {
        const native = spec.native;
        cells.set(native, (decoded = bytesCell(koffi.sizeof(native), (view) => koffi.decode(view, native))));
      }
      return decoded;
    }
  }
}

/** The cells of a ReceiveArray: its length (UINT32) and its pointer. */
export const RECEIVE_CELLS: readonly OutCell[] = [SCALARS.uint32_t!, POINTER_CELL];

/** Where each cell of a call shape lies in its buffer. */
export class OutLayout {
  readonly cells: readonly OutCell[];
  readonly #offsets: readonly number[];
  readonly #size: number;

  constructor(cells: readonly OutCell[]) {
    this.cells = cells;
    let at = 0;
    this.#offsets = cells.map((cell) => {
      const offset = at;
      at += Math.ceil(cell.size / 8) * 8; // every view 8-aligned: any element type may start there
      return offset;
    });
    this.#size = at;
  }

  /** A new set of views, one per cell, over one new buffer. */
  allocate(): View[] {
    const buffer = new ArrayBuffer(Math.max(this.#size, 8));
    return this.cells.map((cell, i) => cell.view(buffer, this.#offsets[i]!));
  }
}

export type { View as OutView };
