// Method signatures in the notation of the Windows SDK headers, e.g.
//   'HRESULT (int32_t a, _In_ HSTRING name, _Out_ IBackgroundTaskDeferral **deferral)'
// parsed into what the runtime needs to convert values at the vtable boundary. The parser is
// ours (not koffi's) so that a bad signature is a clear TypeError, never a crash, and so that COM
// types (HSTRING, REFIID, interface pointers) keep their meaning.

import type { NativeType } from '../ffi/koffi.js';
import { GUID_STRUCT, type StructType } from './struct.js';

/** How a value crosses the boundary. */
export type ValueKind =
  | 'value' // a number, bigint or boolean primitive
  | 'pointer' // a raw address (bigint | null), passed through
  | 'hstring' // a JS string as an HSTRING
  | 'guid' // a Guid, passed as `const GUID *` or returned in a GUID out-parameter
  | 'struct' // a struct by value (GUID by value is the struct GUID, whose JS value is a Guid)
  | 'interface' // a COM interface pointer
  | 'wstring' // a JS string as a NUL-terminated `const WCHAR *`
  | 'array'; // a WinRT array: a UINT32 length and a pointer, see ArrayKind

export type Direction = 'in' | 'out' | 'inout';

/**
 * The three WinRT array patterns (WinRT type system, "Arrays"): PassArray `T[] a` (the caller's
 * elements, read by the callee), FillArray `_Out_ T[] a` (the caller's buffer, written by the
 * callee), ReceiveArray `_Out_ T[] *a` (a CoTaskMem array the callee allocates and the caller frees).
 */
export type ArrayKind = 'pass' | 'fill' | 'receive';

/** One value's type: a parameter's, or an array's element's. */
export interface ValueSpec {
  readonly kind: ValueKind;
  /** koffi's type for the value (for pointers and handles: 'void *'). */
  readonly native: string | NativeType;
  /** For kind 'interface': the interface's name as written, or null for `void **`-like outs. */
  readonly interfaceName: string | null;
  /** For kind 'struct'. */
  readonly struct?: StructType<any>;
}

export interface ParamSpec extends ValueSpec {
  readonly name: string;
  readonly direction: Direction;
  readonly optional: boolean;
  /** For kind 'array': the pattern and the element type. Arrays take two native parameters. */
  readonly array?: ArrayKind;
  readonly element?: ValueSpec;
}

/**
 * True for 64-bit integers, which JS receives as bigint: koffi gives a number when the value
 * fits in one, so the runtime converts, and a JS side sees one type whatever the value.
 */
export function isWide(native: unknown): boolean {
  return native === 'int64_t' || native === 'uint64_t';
}

/** What a type name used in a signature stands for, besides the built-in names. */
export type NamedType = { readonly kind: 'interface' } | { readonly kind: 'struct'; readonly struct: StructType<any> } | { readonly kind: 'value'; readonly native: string };
export type TypeLookup = (name: string) => NamedType | undefined;

export interface ReturnSpec {
  readonly kind: 'hresult' | 'value' | 'void' | 'pointer';
  readonly native: string;
}

export interface ParsedSignature {
  readonly name: string | null;
  readonly returns: ReturnSpec;
  readonly params: readonly ParamSpec[];
}

/** Primitive names the signatures may use, with koffi's spelling. */
const PRIMITIVES: Readonly<Record<string, string>> = {
  int8_t: 'int8_t', uint8_t: 'uint8_t', int16_t: 'int16_t', uint16_t: 'uint16_t',
  int32_t: 'int32_t', uint32_t: 'uint32_t', int64_t: 'int64_t', uint64_t: 'uint64_t',
  int: 'int32_t', float: 'float', double: 'double', bool: 'bool', char16_t: 'uint16_t', size_t: 'size_t',
  BOOL: 'int32_t', BOOLEAN: 'uint8_t', BYTE: 'uint8_t', INT8: 'int8_t', UINT8: 'uint8_t',
  INT16: 'int16_t', UINT16: 'uint16_t', SHORT: 'int16_t', USHORT: 'uint16_t', WORD: 'uint16_t',
  INT32: 'int32_t', UINT32: 'uint32_t', INT: 'int32_t', UINT: 'uint32_t', LONG: 'int32_t',
  ULONG: 'uint32_t', DWORD: 'uint32_t', INT64: 'int64_t', UINT64: 'uint64_t', LONGLONG: 'int64_t',
  ULONGLONG: 'uint64_t', FLOAT: 'float', DOUBLE: 'double', WCHAR: 'uint16_t', HRESULT: 'int32_t',
};
const GUID_NAMES = new Set(['GUID', 'IID', 'CLSID']);
const GUID_REFS = new Set(['REFIID', 'REFGUID', 'REFCLSID']);
const WSTRINGS = new Set(['LPCWSTR', 'PCWSTR']);
const ANNOTATIONS: Readonly<Record<string, { direction: Direction; optional: boolean }>> = {
  _In_: { direction: 'in', optional: false },
  _In_opt_: { direction: 'in', optional: true },
  _Out_: { direction: 'out', optional: false },
  _Out_opt_: { direction: 'out', optional: true },
  _Outptr_: { direction: 'out', optional: false },
  _COM_Outptr_: { direction: 'out', optional: false },
  _Outptr_result_maybenull_: { direction: 'out', optional: false },
  _Inout_: { direction: 'inout', optional: false },
};
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/**
 * Parses one signature. `isInterface(name)` says whether a name is a COM interface known to the
 * caller. `where` names the method in error messages.
 * @throws TypeError saying what is wrong, where, and what is accepted.
 */
export function parseSignature(text: string, where: string, lookup: TypeLookup): ParsedSignature {
  if (typeof text !== 'string') throw new TypeError(`${where}: the signature must be a string, got ${typeof text}`);
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open || text.slice(close + 1).trim() !== '') {
    throw new TypeError(`${where}: signature ${JSON.stringify(text)} must look like 'HRESULT (int32_t a, _Out_ int32_t *b)'`);
  }
  const head = tokens(text.slice(0, open));
  let name: string | null = null;
  // 'HRESULT Name(…)', 'HRESULT (…)', 'Name(…)' (HRESULT implied) or '(…)'.
  if (head.length > 0 && IDENTIFIER.test(head[head.length - 1]!) && !(head.length === 1 && isTypeName(head[0]!, lookup))) {
    name = head.pop()!;
  }
  const returns = parseReturn(head, where, lookup);
  const body = text.slice(open + 1, close).trim();
  const params: ParamSpec[] = [];
  if (body !== '' && body !== 'void') {
    body.split(',').forEach((part, index) => params.push(parseParam(part, index, where, lookup)));
  }
  return { name, returns, params };
}

/** A word that names a type, so that 'HSTRING ()' is a return type, not a method named HSTRING. */
function isTypeName(word: string, lookup: TypeLookup): boolean {
  return word in PRIMITIVES || word === 'void' || word === 'HSTRING' || GUID_NAMES.has(word) || GUID_REFS.has(word) ||
    WSTRINGS.has(word) || lookup(word) !== undefined;
}

function tokens(text: string): string[] {
  return text.replace(/\*/g, ' * ').replace(/\[\s*\]/g, ' [] ').split(/\s+/).filter((t) => t !== '' && t !== '__stdcall' && t !== 'STDMETHODCALLTYPE');
}

function parseReturn(words: string[], where: string, lookup: TypeLookup): ReturnSpec {
  const stars = words.filter((w) => w === '*').length;
  const base = words.filter((w) => w !== '*' && w !== 'const');
  if (base.length === 0) return { kind: 'hresult', native: 'int32_t' };
  if (base.length !== 1) throw new TypeError(`${where}: cannot read the return type ${JSON.stringify(words.join(' '))}`);
  const type = base[0]!;
  if (stars > 0) {
    if (!isTypeName(type, lookup)) throw new TypeError(`${where}: unknown return type ${JSON.stringify(type + ' *')}`);
    return { kind: 'pointer', native: 'void *' };
  }
  if (type !== 'HRESULT' && type !== 'void' && !(type in PRIMITIVES)) {
    throw new TypeError(`${where}: return type ${JSON.stringify(type)} is not supported: return HRESULT and use an _Out_ parameter`);
  }
  if (type === 'HRESULT') return { kind: 'hresult', native: 'int32_t' };
  if (type === 'void') return { kind: 'void', native: 'void' };
  const native = PRIMITIVES[type];
  if (!native) throw new TypeError(`${where}: unknown return type ${JSON.stringify(type)}`);
  return { kind: 'value', native };
}

function parseParam(part: string, index: number, where: string, lookup: TypeLookup): ParamSpec {
  const at = `${where}, parameter ${index + 1}`;
  const words = tokens(part);
  let direction: Direction = 'in';
  let optional = false;
  while (words.length > 0 && words[0]!.startsWith('_')) {
    const annotation = ANNOTATIONS[words[0]!];
    if (!annotation) throw new TypeError(`${at}: unknown annotation ${words[0]} (use ${Object.keys(ANNOTATIONS).join(', ')})`);
    ({ direction, optional } = annotation);
    words.shift();
  }
  const filtered = words.filter((w) => w !== 'const');
  const isArray = filtered.includes('[]');
  let stars = filtered.filter((w) => w === '*').length;
  const names = filtered.filter((w) => w !== '*' && w !== '[]');
  if (names.length === 0 || names.length > 2 || !names.every((n) => IDENTIFIER.test(n)) || filtered.filter((w) => w === '[]').length > 1) {
    throw new TypeError(`${at}: cannot read ${JSON.stringify(part.trim())} as 'type name', 'type *name' or 'type[] name'`);
  }
  const type = names[0]!;
  const name = names[1] ?? `arg${index}`;
  if (isArray) return parseArray(type, name, direction, stars, optional, at, lookup);
  if (direction !== 'in' && stars === 0) {
    throw new TypeError(`${at} (${name}) is ${direction === 'out' ? '_Out_' : '_Inout_'} and must be a pointer`);
  }
  // In/out values stay raw pointers: the callee reads and writes them itself.
  if (direction === 'inout') return { name, direction: 'in', optional, kind: 'pointer', native: 'void *', interfaceName: null };
  if (direction === 'out') stars--; // the kinds below describe the value behind the out-pointer
  const value = describeValue(type, stars, direction, lookup);
  if (value) return { name, direction, optional, ...value };
  throw new TypeError(
    `${at} (${name}): unknown type ${JSON.stringify(type)}. Use a primitive (${Object.keys(PRIMITIVES).slice(0, 8).join(', ')}, …), ` +
      `HSTRING, REFIID/GUID *, LPCWSTR, void *, a struct from defineStruct, or an interface defined with defineInterface (written 'IName *')`,
  );
}

/** The value of `type` with `stars` levels of pointer, or undefined when the name is unknown. */
function describeValue(type: string, stars: number, direction: Direction, lookup: TypeLookup): ValueSpec | undefined {
  const spec = (kind: ValueKind, native: string | NativeType, interfaceName: string | null = null, struct?: StructType<any>): ValueSpec =>
    struct ? { kind, native, interfaceName, struct } : { kind, native, interfaceName };
  const named = PRIMITIVES[type] || type === 'void' || type === 'HSTRING' || GUID_NAMES.has(type) || GUID_REFS.has(type) || WSTRINGS.has(type) ? undefined : lookup(type);
  if (type === 'HSTRING' && stars === 0) return spec('hstring', 'void *');
  if (GUID_REFS.has(type) && stars === 0 && direction === 'in') return spec('guid', 'void *');
  if (GUID_NAMES.has(type) && stars === 1 && direction === 'in') return spec('guid', 'void *');
  if (GUID_NAMES.has(type) && stars === 0 && direction === 'out') return spec('guid', 'void *');
  if (GUID_NAMES.has(type) && stars === 0) return spec('struct', GUID_STRUCT.native, null, GUID_STRUCT);
  if (WSTRINGS.has(type) && stars === 0 && direction === 'in') return spec('wstring', 'void *');
  if (type === 'void' && stars >= 1) return spec('pointer', 'void *');
  if (named?.kind === 'interface' && stars === 1) return spec('interface', 'void *', type);
  if (named?.kind === 'struct' && stars === 0) return spec('struct', named.struct.native, null, named.struct);
  if (named?.kind === 'value' && stars === 0) return spec('value', named.native);
  const native = PRIMITIVES[type];
  if (native && stars === 0) return spec('value', native);
  if (native || named || type === 'HSTRING' || GUID_NAMES.has(type)) return spec('pointer', 'void *');
  return undefined;
}

/** `T[] a` (pass), `_Out_ T[] a` (fill), `_Out_ T[] *a` (receive); interface elements are written `IFoo[]`. */
function parseArray(type: string, name: string, direction: Direction, stars: number, optional: boolean, at: string, lookup: TypeLookup): ParamSpec {
  const kind: ArrayKind | null = direction === 'in' && stars === 0 ? 'pass' : direction === 'out' && stars === 0 ? 'fill' : direction === 'out' && stars === 1 ? 'receive' : null;
  if (kind === null) throw new TypeError(`${at} (${name}): arrays are 'T[] a' (pass), '_Out_ T[] a' (fill) or '_Out_ T[] *a' (receive)`);
  const isInterface = lookup(type)?.kind === 'interface';
  const element = describeValue(type, isInterface ? 1 : 0, 'in', lookup);
  if (!element || element.kind === 'pointer' || element.kind === 'wstring' || element.kind === 'guid') {
    throw new TypeError(`${at} (${name}): arrays of ${JSON.stringify(type)} are not supported (use values, HSTRING, GUID, structs or interfaces)`);
  }
  return { name, direction: kind === 'receive' ? 'out' : 'in', optional, kind: 'array', native: 'void *', interfaceName: null, array: kind, element };
}
