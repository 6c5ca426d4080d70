// Method signatures in the notation of the Windows SDK headers, e.g.
//   'HRESULT (int32_t a, _In_ HSTRING name, _Out_ IBackgroundTaskDeferral **deferral)'
// parsed into what the runtime needs to convert values at the vtable boundary. The parser is
// ours (not koffi's) so that a bad signature is a clear TypeError, never a crash, and so that COM
// types (HSTRING, REFIID, interface pointers) keep their meaning.

/** How a value crosses the boundary. */
export type ValueKind =
  | 'value' // a number, bigint or boolean primitive
  | 'pointer' // a raw address (bigint | null), passed through
  | 'hstring' // a JS string as an HSTRING
  | 'guid' // a Guid, passed as `const GUID *` or returned in a GUID out-parameter
  | 'interface' // a COM interface pointer
  | 'wstring'; // a JS string as a NUL-terminated `const WCHAR *`

export type Direction = 'in' | 'out' | 'inout';

export interface ParamSpec {
  readonly name: string;
  readonly direction: Direction;
  readonly kind: ValueKind;
  /** koffi's name for the value (for pointers and handles: 'void *'). */
  readonly native: string;
  /** For kind 'interface': the interface's name as written, or null for `void **`-like outs. */
  readonly interfaceName: string | null;
  readonly optional: boolean;
}

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
export function parseSignature(text: string, where: string, isInterface: (name: string) => boolean): ParsedSignature {
  if (typeof text !== 'string') throw new TypeError(`${where}: the signature must be a string, got ${typeof text}`);
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open || text.slice(close + 1).trim() !== '') {
    throw new TypeError(`${where}: signature ${JSON.stringify(text)} must look like 'HRESULT (int32_t a, _Out_ int32_t *b)'`);
  }
  const head = tokens(text.slice(0, open));
  let name: string | null = null;
  // 'HRESULT Name(…)', 'HRESULT (…)', 'Name(…)' (HRESULT implied) or '(…)'.
  if (head.length > 0 && IDENTIFIER.test(head[head.length - 1]!) && !(head.length === 1 && isTypeName(head[0]!, isInterface))) {
    name = head.pop()!;
  }
  const returns = parseReturn(head, where, isInterface);
  const body = text.slice(open + 1, close).trim();
  const params: ParamSpec[] = [];
  if (body !== '' && body !== 'void') {
    body.split(',').forEach((part, index) => params.push(parseParam(part, index, where, isInterface)));
  }
  return { name, returns, params };
}

/** A word that names a type, so that 'HSTRING ()' is a return type, not a method named HSTRING. */
function isTypeName(word: string, isInterface: (name: string) => boolean): boolean {
  return word in PRIMITIVES || word === 'void' || word === 'HSTRING' || GUID_NAMES.has(word) || GUID_REFS.has(word) ||
    WSTRINGS.has(word) || isInterface(word);
}

function tokens(text: string): string[] {
  return text.replace(/\*/g, ' * ').split(/\s+/).filter((t) => t !== '' && t !== '__stdcall' && t !== 'STDMETHODCALLTYPE');
}

function parseReturn(words: string[], where: string, isInterface: (name: string) => boolean): ReturnSpec {
  const stars = words.filter((w) => w === '*').length;
  const base = words.filter((w) => w !== '*' && w !== 'const');
  if (base.length === 0) return { kind: 'hresult', native: 'int32_t' };
  if (base.length !== 1) throw new TypeError(`${where}: cannot read the return type ${JSON.stringify(words.join(' '))}`);
  const type = base[0]!;
  if (stars > 0) {
    if (!isTypeName(type, isInterface)) throw new TypeError(`${where}: unknown return type ${JSON.stringify(type + ' *')}`);
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

function parseParam(part: string, index: number, where: string, isInterface: (name: string) => boolean): ParamSpec {
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
  let stars = filtered.filter((w) => w === '*').length;
  const names = filtered.filter((w) => w !== '*');
  if (names.length === 0 || names.length > 2 || !names.every((n) => IDENTIFIER.test(n))) {
    throw new TypeError(`${at}: cannot read ${JSON.stringify(part.trim())} as 'type name' or 'type *name'`);
  }
  const type = names[0]!;
  const name = names[1] ?? `arg${index}`;
  if (direction !== 'in' && stars === 0) {
    throw new TypeError(`${at} (${name}) is ${direction === 'out' ? '_Out_' : '_Inout_'} and must be a pointer`);
  }
  const spec = (kind: ValueKind, native: string, interfaceName: string | null = null): ParamSpec => ({
    name, direction, kind, native, interfaceName, optional,
  });
  // In/out values stay raw pointers: the callee reads and writes them itself.
  if (direction === 'inout') return { ...spec('pointer', 'void *'), direction: 'in' };
  if (direction === 'out') stars--; // the kinds below describe the value behind the out-pointer
  if (type === 'HSTRING' && stars === 0) return spec('hstring', 'void *');
  if (GUID_REFS.has(type) && stars === 0 && direction === 'in') return spec('guid', 'void *');
  if (GUID_NAMES.has(type) && stars === 1 && direction === 'in') return spec('guid', 'void *');
  if (GUID_NAMES.has(type) && stars === 0 && direction === 'out') return spec('guid', 'void *');
  if (WSTRINGS.has(type) && stars === 0 && direction === 'in') return spec('wstring', 'void *');
  if (type === 'void' && stars >= 1) return spec('pointer', 'void *');
  if (isInterface(type) && stars === 1) return spec('interface', 'void *', type);
  const native = PRIMITIVES[type];
  if (native && stars === 0) return spec('value', native);
  if (native || isInterface(type) || type === 'HSTRING' || GUID_NAMES.has(type)) return spec('pointer', 'void *');
  throw new TypeError(
    `${at} (${name}): unknown type ${JSON.stringify(type)}. Use a primitive (${Object.keys(PRIMITIVES).slice(0, 8).join(', ')}, …), ` +
      `HSTRING, REFIID/GUID *, LPCWSTR, void *, or an interface defined with defineInterface (written 'IName *')`,
  );
}
