// Structs passed by value (WinRT structs such as Windows.Foundation.Point, and GUID): a koffi
// layout for the native side and conversions for fields whose JS form differs from koffi's
// (GUID fields become Guid, nested structs convert recursively).
import { koffi, type NativeType } from '../ffi/koffi.js';
import { compile } from './compile.js';
import { fixedArray, structLayout } from '../ffi/layout.js';
import { sizeOf } from '../ffi/memory.js';
import type { Pointer } from '../ffi/koffi.js';
import { Guid } from './guid.js';
import { createHString, deleteHString, readHString, takeHString } from './hstring.js';

type FieldType = string | StructType<any>;

export class StructType<T extends object = Record<string, unknown>> {
  readonly name: string;
  readonly native: NativeType;
  readonly size: number;
  readonly #fields: readonly (readonly [string, FieldType])[];
  readonly #plain: boolean;

  /** @internal Use {@link defineStruct}. */
  constructor(name: string, fields: readonly (readonly [string, FieldType])[], native?: NativeType) {
    this.name = name;
    this.#fields = fields;
    this.native = native ?? structLayout(Object.fromEntries(fields.map(([field, type]) => [field, type instanceof StructType ? type.native : type === 'HSTRING' ? 'void *' : type])));
    this.size = sizeOf(this.native);
    this.#plain = fields.every(([, type]) => typeof type === 'string' && type !== 'int64_t' && type !== 'uint64_t' && type !== 'HSTRING');
  }

  /**
   * The struct's fields read from its bytes (an out-parameter's memory), in the form koffi's
   * decode gives them (nested structs as records, HSTRINGs as handles, GUIDs as their Data1-4),
   * for {@link toJS}. Several times cheaper than koffi.decode on a buffer, which builds the record
   * through its type machinery: a reader compiled for this struct (compile.ts) reads each field
   * at its offset, koffi's own (koffi.offsetof), so the layout is the one koffi passes by value.
   */
  readRaw(bytes: DataView | Uint8Array): unknown {
    const view = bytes instanceof DataView ? bytes : new DataView(bytes.buffer, bytes.byteOffset, this.size);
    return this.#readerOf()(view);
  }

  #reader: ((view: DataView) => unknown) | undefined;

  /** The compiled reader, made on first use, or the loop where code is not compiled. */
  #readerOf(): (view: DataView) => unknown {
    return (this.#reader ??= compile<(view: DataView) => unknown>([], `'use strict'; return function read_struct(v) { return ${this.#expression(0)}; };`, []) ?? ((v) => this.#read(v, 0)));
  }

  /**
   * @internal The JS value of an out-parameter's struct from its bytes: {@link readRaw}, then
   * {@link toJS} taking the HSTRINGs it holds (for a struct of plain fields, the record itself).
   */
  outReader(): (view: DataView) => T {
    const read = this.#readerOf();
    // The record is the value itself only for a struct of plain fields whose toJS is StructType's (not GUID's).
    const asIs = this.#plain && this.#fields.length > 0 && this.toJS === StructType.prototype.toJS;
    return asIs ? (read as (view: DataView) => T) : (view) => this.toJS(read(view), true);
  }

  /** JS text of the raw record at byte `at` of the DataView `v`: field names as JSON strings. */
  #expression(at: number): string {
    if (this.#fields.length === 0) {
      // GUID: Data1-4, not a field list.
      const data4 = Array.from({ length: 8 }, (_, i) => `v.getUint8(${at + 8 + i})`).join(', ');
      return `{ Data1: v.getUint32(${at}, true), Data2: v.getUint16(${at + 4}, true), Data3: v.getUint16(${at + 6}, true), Data4: [${data4}] }`;
    }
    const fields = this.#fields.map(([field, type]) => {
      const offset = at + koffi.offsetof(this.native, field);
      // A computed key: `"__proto__": x` in a literal would set the prototype, `["__proto__"]: x` makes the field.
      return `[${JSON.stringify(field)}]: ${type instanceof StructType ? type.#expression(offset) : fieldCode(type, offset)}`;
    });
    return `{ ${fields.join(', ')} }`;
  }

  /** The same record, read by a loop (where code is not compiled). */
  #read(view: DataView, at: number): unknown {
    if (this.#fields.length === 0) {
      return { Data1: view.getUint32(at, true), Data2: view.getUint16(at + 4, true), Data3: view.getUint16(at + 6, true), Data4: Array.from(new Uint8Array(view.buffer, view.byteOffset + at + 8, 8)) };
    }
    const record: Record<string, unknown> = {};
    for (const [field, type] of this.#fields) {
      const offset = at + koffi.offsetof(this.native, field);
      const value = type instanceof StructType ? type.#read(view, offset) : readField(type, view, offset);
      Object.defineProperty(record, field, { value, writable: true, enumerable: true, configurable: true });
    }
    return record;
  }

  /**
   * The JS value of a struct koffi decoded. With `take`, the caller owns the HSTRINGs it holds
   * (an out-parameter's struct) and they are deleted once read; otherwise they are borrowed.
   */
  toJS(raw: unknown, take = false): T {
    if (this.#plain) return raw as T;
    const record = raw as Record<string, unknown>;
    const value: Record<string, unknown> = {};
    for (const [field, type] of this.#fields) {
      const raw = record[field];
      if (type instanceof StructType) value[field] = type.toJS(raw, take);
      else if (type === 'HSTRING') value[field] = take ? takeHString(raw as Pointer | null) : readHString(raw as Pointer | null);
      // 64-bit fields are bigint in JS whatever their value (koffi gives a number when it fits).
      else value[field] = typeof raw === 'number' && (type === 'int64_t' || type === 'uint64_t') ? BigInt(raw) : raw;
    }
    return value as T;
  }

  /**
   * The object koffi encodes for a JS value; names the struct and field when one is missing.
   * HSTRING fields are created here: `cleanup` receives their deletion when the caller keeps
   * ownership (an in-parameter); without it they belong to whoever receives the struct.
   */
  toNative(value: unknown, where: string, cleanup?: (() => void)[]): unknown {
    if (value === null || typeof value !== 'object') throw new TypeError(`${where} must be a ${this.name} object, got ${value === null ? 'null' : typeof value}`);
    const record = value as Record<string, unknown>;
    const raw: Record<string, unknown> = {};
    for (const [field, type] of this.#fields) {
      if (!(field in record)) throw new TypeError(`${where}: ${this.name} needs field ${field}`);
      if (type instanceof StructType) {
        raw[field] = type.toNative(record[field], `${where}.${field}`, cleanup);
      } else if (type === 'HSTRING') {
        const text = record[field];
        if (typeof text !== 'string') throw new TypeError(`${where}.${field} must be a string, got ${typeof text}`);
        const handle = createHString(text);
        cleanup?.push(() => deleteHString(handle));
        raw[field] = handle;
      } else {
        raw[field] = record[field];
      }
    }
    return raw;
  }
}

/** GUID (guiddef.h) as a struct by value; its JS value is a Guid. */
class GuidStruct extends StructType<Guid> {
  constructor() {
    super('GUID', [], structLayout({ Data1: 'uint32_t', Data2: 'uint16_t', Data3: 'uint16_t', Data4: fixedArray('uint8_t', 8) }));
  }
  override toJS(raw: unknown): Guid {
    const { Data1, Data2, Data3, Data4 } = raw as { Data1: number; Data2: number; Data3: number; Data4: number[] };
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, Data1, true);
    view.setUint16(4, Data2, true);
    view.setUint16(6, Data3, true);
    bytes.set(Data4, 8);
    return Guid.fromBytes(bytes);
  }
  override toNative(value: unknown, where: string): unknown {
    if (!(value instanceof Guid) && typeof value !== 'string') throw new TypeError(`${where} must be a Guid or GUID string, got ${typeof value}`);
    const bytes = Guid.from(value).bytes;
    const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
    return { Data1: view.getUint32(0, true), Data2: view.getUint16(4, true), Data3: view.getUint16(6, true), Data4: [...bytes.subarray(8)] };
  }
}

export const GUID_STRUCT: StructType<Guid> = new GuidStruct();

/**
 * How a field of each type is read from a DataView, as koffi decodes it (64-bit integers as
 * bigint, bool as a boolean, an HSTRING as its handle or null): the DataView method, and what is
 * done to its result. One table for both readers: the compiled one's text and the loop's calls.
 */
const FIELD_GETTERS: Readonly<Record<string, readonly [getter: 'getInt8' | 'getUint8' | 'getInt16' | 'getUint16' | 'getInt32' | 'getUint32' | 'getBigInt64' | 'getBigUint64' | 'getFloat32' | 'getFloat64', then: 'bool' | 'handle' | null]>> = {
  int8_t: ['getInt8', null], uint8_t: ['getUint8', null], int16_t: ['getInt16', null], uint16_t: ['getUint16', null],
  int32_t: ['getInt32', null], uint32_t: ['getUint32', null], int64_t: ['getBigInt64', null], uint64_t: ['getBigUint64', null],
  float: ['getFloat32', null], double: ['getFloat64', null], bool: ['getUint8', 'bool'], HSTRING: ['getBigUint64', 'handle'],
};

/** JS text reading a field of `type` at byte `at` of the DataView `v`. */
function fieldCode(type: string, at: number): string {
  const entry = FIELD_GETTERS[type];
  if (entry === undefined) throw new TypeError(`no reader for a struct field of type ${type}`);
  const [getter, then] = entry;
  const read = `v.${getter}(${at}, true)`; // little-endian (the second argument is ignored for one byte)
  return then === 'bool' ? `${read} !== 0` : then === 'handle' ? `(${read} || null)` : read;
}

/** The same read, made by a call. */
function readField(type: string, view: DataView, at: number): unknown {
  const entry = FIELD_GETTERS[type];
  if (entry === undefined) throw new TypeError(`no reader for a struct field of type ${type}`);
  const [getter, then] = entry;
  const value: number | bigint = view[getter](at, true);
  return then === 'bool' ? value !== 0 : then === 'handle' ? value || null : value;
}

const byName = new Map<string, StructType<any>>([['GUID', GUID_STRUCT]]);
const FIELD_TYPES = new Set(['int8_t', 'uint8_t', 'int16_t', 'uint16_t', 'int32_t', 'uint32_t', 'int64_t', 'uint64_t', 'float', 'double', 'bool', 'HSTRING']);

/** The struct registered under `name`, for signatures that name it. */
export function structNamed(name: string): StructType<any> | undefined {
  return byName.get(name);
}

/**
 * Declares a struct passed by value. Field types are koffi primitive names ('int32_t', 'float',
 * 'bool', 'int64_t'…), 'HSTRING', 'GUID', or other structs.
 *
 * @example
 * const Point = defineStruct<{ X: number; Y: number }>('Windows.Foundation.Point', { X: 'float', Y: 'float' });
 */
export function defineStruct<T extends object = Record<string, unknown>>(name: string, fields: Readonly<Record<string, FieldType>>): StructType<T> {
  if (typeof name !== 'string' || name === '') throw new TypeError('defineStruct: name must be a non-empty string');
  const list = Object.entries(fields).map(([field, type]) => [field, type === 'GUID' ? GUID_STRUCT : type] as const);
  for (const [field, type] of list) {
    if (typeof type === 'string') {
      // A fixed list, not whatever koffi accepts: koffi aborts the process on some malformed names.
      if (!FIELD_TYPES.has(type)) {
        throw new TypeError(`defineStruct(${name}): field ${field} has unknown type ${JSON.stringify(type)} (use ${[...FIELD_TYPES].join(', ')}, 'GUID' or a struct)`);
      }
    } else if (!(type instanceof StructType)) {
      throw new TypeError(`defineStruct(${name}): field ${field} must be a type name or a struct`);
    }
  }
  const struct = new StructType<T>(name, list);
  byName.set(name, struct);
  return struct;
}
