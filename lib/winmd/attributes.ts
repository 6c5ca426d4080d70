// Custom attribute value blobs (ECMA-335 §II.23.3), decoded with the constructor's signature.
// Which enum has which underlying type, and what a serialized type name refers to, is asked of
// the caller (AttributeContext); what WinRT's attributes mean is in winrt-attributes.ts.
import type { BlobReader } from './blob.js';
import { ElementType, PRIMITIVES } from './signatures.js';
import type { NamedTypeSig, PrimitiveName, TypeSig } from './type-sig.js';

/** The type of an argument (the FieldOrPropType of §II.23.3, or the constructor's parameter). */
export type AttributeArgType =
  | { readonly kind: 'primitive'; readonly name: PrimitiveName }
  /** System.Type: the value is the type, serialized by name. */
  | { readonly kind: 'type' }
  | { readonly kind: 'enum'; readonly type: NamedTypeSig; readonly underlying: PrimitiveName }
  /** System.Object: the value carries its own type (a boxed value). */
  | { readonly kind: 'object' }
  | { readonly kind: 'array'; readonly element: AttributeArgType };

/**
 * A decoded value: booleans; numbers (8- to 32-bit integers, floats, enums); bigint (64-bit
 * integers); Char16 as a one-character string; strings and null strings; System.Type values as
 * a named TypeSig (or the serialized name when it is not a plain `Namespace.Name[, assembly]`);
 * arrays (null for a null array); a boxed value as the AttributeArg it carries.
 */
export type AttributeValue = boolean | number | bigint | string | null | TypeSig | AttributeArg | readonly AttributeValue[];

export interface AttributeArg {
  readonly type: AttributeArgType;
  readonly value: AttributeValue;
}

export interface NamedAttributeArg extends AttributeArg {
  readonly name: string;
  readonly target: 'field' | 'property';
}

export interface AttributeContext {
  /** An enum's underlying type; null when the enum cannot be found. */
  enumUnderlying(type: NamedTypeSig): PrimitiveName | null;
  /** The type a serialized type name names (§II.23.3: a plain or assembly-qualified name). */
  typeFromName(name: string): NamedTypeSig | null;
}

const PROLOG = 0x0001;
const MAX_DEPTH = 8;

/**
 * Splits a serialized type name, `Namespace.Name` or `Namespace.Name, Assembly, Version=…`, into
 * namespace and name; null for forms this reader keeps as text (generic instantiations, nested
 * types).
 */
export function parseTypeName(text: string): { namespace: string; name: string } | null {
  const comma = text.indexOf(',');
  const full = (comma >= 0 ? text.slice(0, comma) : text).trim();
  if (full === '' || /[[\]+*&]/.test(full)) return null;
  const dot = full.lastIndexOf('.');
  return { namespace: dot >= 0 ? full.slice(0, dot) : '', name: full.slice(dot + 1) };
}

const PRIMITIVE_ARGS = new Map<PrimitiveName, AttributeArgType>(
  Object.values(PRIMITIVES).map((name) => [name, Object.freeze({ kind: 'primitive', name })]),
);
const TYPE_ARG: AttributeArgType = Object.freeze({ kind: 'type' });
const OBJECT_ARG: AttributeArgType = Object.freeze({ kind: 'object' });

/** The argument type a constructor parameter gives its value (§II.23.3). */
function argTypeOf(r: BlobReader, param: TypeSig, context: AttributeContext, depth: number): AttributeArgType {
  switch (param.kind) {
    case 'primitive':
      if (param.name === 'Object') return OBJECT_ARG;
      if (param.name === 'Void' || param.name === 'IntPtr' || param.name === 'UIntPtr') break;
      return PRIMITIVE_ARGS.get(param.name)!;
    case 'named':
      if (param.fullName === 'System.Type') return TYPE_ARG;
      // Any other named type must be an enum. WinRT enums are Int32 (or UInt32 for flags); when
      // the enum is in no loaded file its underlying type cannot be known, and Int32 is assumed.
      return { kind: 'enum', type: param, underlying: context.enumUnderlying(param) ?? 'Int32' };
    case 'array':
      if (param.rank === undefined && depth === 0) return { kind: 'array', element: argTypeOf(r, param.element, context, depth + 1) };
      break;
  }
  return r.fail(`a constructor parameter of kind ${param.kind} cannot take a custom attribute argument`, r.start);
}

/** FieldOrPropType (§II.23.3), for named arguments and boxed values. */
function readArgType(r: BlobReader, context: AttributeContext, depth: number): AttributeArgType {
  if (depth > MAX_DEPTH) r.fail('custom attribute argument types nest too deeply');
  const at = r.position;
  const code = r.u8();
  if (code >= ElementType.Boolean && code <= ElementType.String) return PRIMITIVE_ARGS.get(PRIMITIVES[code]!)!;
  switch (code) {
    case ElementType.SzArray:
      return { kind: 'array', element: readArgType(r, context, depth + 1) };
    case ElementType.SystemType:
      return TYPE_ARG;
    case ElementType.Boxed:
      return OBJECT_ARG;
    case ElementType.Enum: {
      const name = readSerString(r);
      if (name === null) return r.fail('enum argument type with a null name', at);
      const type = context.typeFromName(name);
      if (!type) return r.fail(`enum argument type ${JSON.stringify(name)} is not a type name`, at);
      return { kind: 'enum', type, underlying: context.enumUnderlying(type) ?? 'Int32' };
    }
  }
  return r.fail(`0x${code.toString(16)} is not a custom attribute argument type`, at);
}

/** SerString (§II.23.3): 0xFF for null, else a compressed length and UTF-8. */
function readSerString(r: BlobReader): string | null {
  if (r.peek() === 0xff) {
    r.u8();
    return null;
  }
  const length = r.compressed();
  if (length > r.remaining) r.fail(`string of ${length} bytes runs past the end of the blob`);
  return r.utf8(length);
}

function readElement(r: BlobReader, type: AttributeArgType, context: AttributeContext, depth: number): AttributeValue {
  switch (type.kind) {
    case 'primitive':
      return readPrimitive(r, type.name);
    case 'enum':
      return readPrimitive(r, type.underlying);
    case 'type': {
      const name = readSerString(r);
      return name === null ? null : (context.typeFromName(name) ?? name);
    }
    case 'object': {
      if (depth > MAX_DEPTH) r.fail('boxed custom attribute values nest too deeply');
      const inner = readArgType(r, context, depth + 1);
      return { type: inner, value: readElement(r, inner, context, depth + 1) };
    }
    case 'array': {
      if (depth > MAX_DEPTH) r.fail('custom attribute arrays nest too deeply');
      const count = r.u32();
      if (count === 0xffffffff) return null;
      r.count(count, 1, 'array element');
      const items: AttributeValue[] = [];
      for (let i = 0; i < count; i++) items.push(readElement(r, type.element, context, depth + 1));
      return items;
    }
  }
}

function readPrimitive(r: BlobReader, name: PrimitiveName): AttributeValue {
  switch (name) {
    case 'Boolean':
      return r.u8() !== 0;
    case 'Char16':
      return String.fromCharCode(r.u16());
    case 'Int8':
      return r.i8();
    case 'UInt8':
      return r.u8();
    case 'Int16':
      return r.i16();
    case 'UInt16':
      return r.u16();
    case 'Int32':
      return r.i32();
    case 'UInt32':
      return r.u32();
    case 'Int64':
      return r.i64();
    case 'UInt64':
      return r.u64();
    case 'Single':
      return r.f32();
    case 'Double':
      return r.f64();
    case 'String':
      return readSerString(r);
    default:
      return r.fail(`${name} is not a custom attribute value type`);
  }
}

/**
 * Decodes a CustomAttribute value blob: the prolog, one FixedArg per constructor parameter, then
 * the NamedArgs (FIELD or PROPERTY).
 */
export function readAttributeValue(r: BlobReader, params: readonly TypeSig[], context: AttributeContext): { args: AttributeArg[]; named: NamedAttributeArg[] } {
  // An empty blob is how a writer says "no arguments" (§II.22.10 allows Value to be 0).
  if (r.remaining === 0 && params.length === 0) return { args: [], named: [] };
  const prolog = r.u16();
  if (prolog !== PROLOG) r.fail(`custom attribute prolog is 0x${prolog.toString(16)}, not 0x0001`, r.position - 2);
  const args: AttributeArg[] = [];
  for (const param of params) {
    const type = argTypeOf(r, param, context, 0);
    args.push({ type, value: readElement(r, type, context, 0) });
  }
  const named: NamedAttributeArg[] = [];
  const count = r.count(r.u16(), 4, 'named argument');
  for (let i = 0; i < count; i++) {
    const at = r.position;
    const kind = r.u8();
    if (kind !== ElementType.Field && kind !== ElementType.Property) r.fail(`named argument kind 0x${kind.toString(16)} is neither FIELD nor PROPERTY`, at);
    const type = readArgType(r, context, 0);
    const name = readSerString(r);
    if (name === null) r.fail('named argument with a null name', at);
    named.push({ name, target: kind === ElementType.Field ? 'field' : 'property', type, value: readElement(r, type, context, 0) });
  }
  return { args, named };
}
