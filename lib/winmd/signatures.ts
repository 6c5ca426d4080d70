// Signature blobs (ECMA-335 §II.23.2): MethodDefSig/MethodRefSig, FieldSig, PropertySig and
// TypeSpec, decoded into TypeSig values. Which TypeDef/TypeRef a TypeDefOrRefEncoded names is
// the caller's business (SignatureContext), so that this file stays about bytes.
import type { BlobReader } from './blob.js';
import { type CustomModifier, IS_CONST, type NamedTypeSig, type PrimitiveName, type TypeSig } from './type-sig.js';

/** ELEMENT_TYPE_* (§II.23.1.16). */
export const ElementType = {
  End: 0x00,
  Void: 0x01,
  Boolean: 0x02,
  Char: 0x03,
  I1: 0x04,
  U1: 0x05,
  I2: 0x06,
  U2: 0x07,
  I4: 0x08,
  U4: 0x09,
  I8: 0x0a,
  U8: 0x0b,
  R4: 0x0c,
  R8: 0x0d,
  String: 0x0e,
  Ptr: 0x0f,
  ByRef: 0x10,
  ValueType: 0x11,
  Class: 0x12,
  Var: 0x13,
  Array: 0x14,
  GenericInst: 0x15,
  TypedByRef: 0x16,
  I: 0x18,
  U: 0x19,
  FnPtr: 0x1b,
  Object: 0x1c,
  SzArray: 0x1d,
  MVar: 0x1e,
  CModReqd: 0x1f,
  CModOpt: 0x20,
  Sentinel: 0x41,
  Pinned: 0x45,
  /** Custom attributes only (§II.23.3): System.Type, a boxed value, a field, a property, an enum. */
  SystemType: 0x50,
  Boxed: 0x51,
  Field: 0x53,
  Property: 0x54,
  Enum: 0x55,
} as const;

/** Calling convention bits of the first signature byte (§II.23.2.1–§II.23.2.5). */
const HAS_THIS = 0x20;
const EXPLICIT_THIS = 0x40;
const GENERIC = 0x10;
const KIND_MASK = 0x0f;
const FIELD = 0x06;
const PROPERTY = 0x08;
const VARARG = 0x05;

/** Deeper nesting than this is taken as a corrupt (or cyclic, through TypeSpecs) signature. */
export const MAX_SIGNATURE_DEPTH = 64;

export const PRIMITIVES: Readonly<Record<number, PrimitiveName>> = {
  [ElementType.Void]: 'Void',
  [ElementType.Boolean]: 'Boolean',
  [ElementType.Char]: 'Char16',
  [ElementType.I1]: 'Int8',
  [ElementType.U1]: 'UInt8',
  [ElementType.I2]: 'Int16',
  [ElementType.U2]: 'UInt16',
  [ElementType.I4]: 'Int32',
  [ElementType.U4]: 'UInt32',
  [ElementType.I8]: 'Int64',
  [ElementType.U8]: 'UInt64',
  [ElementType.R4]: 'Single',
  [ElementType.R8]: 'Double',
  [ElementType.String]: 'String',
  [ElementType.I]: 'IntPtr',
  [ElementType.U]: 'UIntPtr',
  [ElementType.Object]: 'Object',
};
const PRIMITIVE_SIGS: Readonly<Record<number, TypeSig>> = Object.fromEntries(
  Object.entries(PRIMITIVES).map(([code, name]) => [code, Object.freeze({ kind: 'primitive', name })]),
);

export interface SignatureContext {
  /**
   * The type that a TypeDefOrRefEncoded value (§II.23.2.8) names; `depth` is passed on when a
   * TypeSpec's own blob has to be decoded.
   */
  typeDefOrRef(encoded: number, isValueType: boolean, depth: number, reader: BlobReader): TypeSig;
}

export interface MethodSig {
  readonly hasThis: boolean;
  readonly explicitThis: boolean;
  /** The low four bits: DEFAULT 0, VARARG 5, and the unmanaged conventions. */
  readonly callingConvention: number;
  readonly genericParamCount: number;
  /** null for void. */
  readonly returnType: TypeSig | null;
  readonly params: readonly TypeSig[];
  /** For a VARARG MethodRefSig, the number of parameters before the SENTINEL. */
  readonly sentinel?: number;
}

export interface PropertySig {
  readonly hasThis: boolean;
  readonly type: TypeSig;
  /** Indexer parameters (none in WinRT). */
  readonly params: readonly TypeSig[];
}

/** CustomMod* (§II.23.2.7). */
function readModifiers(r: BlobReader, context: SignatureContext, depth: number): CustomModifier[] | null {
  let modifiers: CustomModifier[] | null = null;
  // Each modifier takes at least two bytes, so the blob's length bounds this loop.
  while (r.remaining > 0) {
    const lead = r.peek();
    if (lead !== ElementType.CModReqd && lead !== ElementType.CModOpt) break;
    r.u8();
    const at = r.position;
    const type = context.typeDefOrRef(r.compressed(), false, depth + 1, r);
    if (type.kind !== 'named') r.fail('custom modifier names a type that is not a TypeDef or TypeRef', at);
    (modifiers ??= []).push({ required: lead === ElementType.CModReqd, type });
  }
  return modifiers;
}

function withModifiers(sig: TypeSig, modifiers: readonly CustomModifier[] | null): TypeSig {
  if (!modifiers) return sig;
  const all = sig.modifiers ? [...modifiers, ...sig.modifiers] : modifiers;
  return all.some((m) => m.type.fullName === IS_CONST) ? { ...sig, modifiers: all, isConst: true } : { ...sig, modifiers: all };
}

/** Type (§II.23.2.12), with the custom modifiers before it. */
export function readType(r: BlobReader, context: SignatureContext, depth = 0): TypeSig {
  if (depth > MAX_SIGNATURE_DEPTH) r.fail(`signature nests deeper than ${MAX_SIGNATURE_DEPTH} levels`);
  const modifiers = readModifiers(r, context, depth);
  const at = r.position;
  const code = r.u8();
  const primitive = PRIMITIVE_SIGS[code];
  if (primitive) return withModifiers(primitive, modifiers);
  let sig: TypeSig;
  switch (code) {
    case ElementType.Ptr:
      sig = { kind: 'pointer', type: readType(r, context, depth + 1) };
      break;
    case ElementType.ByRef:
      sig = { kind: 'byref', type: readType(r, context, depth + 1) };
      break;
    case ElementType.ValueType:
    case ElementType.Class:
      sig = context.typeDefOrRef(r.compressed(), code === ElementType.ValueType, depth + 1, r);
      break;
    case ElementType.Var:
      sig = { kind: 'var', index: r.compressed() };
      break;
    case ElementType.MVar:
      sig = { kind: 'mvar', index: r.compressed() };
      break;
    case ElementType.SzArray:
      sig = { kind: 'array', element: readType(r, context, depth + 1) };
      break;
    case ElementType.Array:
      sig = readArrayShape(r, readType(r, context, depth + 1));
      break;
    case ElementType.GenericInst: {
      const kind = r.u8();
      if (kind !== ElementType.Class && kind !== ElementType.ValueType) r.fail(`GENERICINST of 0x${kind.toString(16)}, not CLASS or VALUETYPE`, r.position - 1);
      const typeAt = r.position;
      const type = context.typeDefOrRef(r.compressed(), kind === ElementType.ValueType, depth + 1, r);
      if (type.kind !== 'named') r.fail('GENERICINST of a type that is not a TypeDef or TypeRef', typeAt);
      const count = r.count(r.compressed(), 1, 'generic argument');
      if (count === 0) r.fail('GENERICINST with no type arguments', typeAt);
      const args: TypeSig[] = [];
      for (let i = 0; i < count; i++) args.push(readType(r, context, depth + 1));
      sig = { kind: 'generic', type: type as NamedTypeSig, args };
      break;
    }
    default:
      return r.fail(`element type 0x${code.toString(16)} is not supported in a type signature`, at);
  }
  return withModifiers(sig, modifiers);
}

/** ArrayShape (§II.23.2.13). */
function readArrayShape(r: BlobReader, element: TypeSig): TypeSig {
  const rank = r.compressed();
  if (rank === 0) r.fail('ARRAY of rank 0');
  const sizeCount = r.count(r.compressed(), 1, 'array size');
  const sizes: number[] = [];
  for (let i = 0; i < sizeCount; i++) sizes.push(r.compressed());
  const boundCount = r.count(r.compressed(), 1, 'array lower bound');
  const lowerBounds: number[] = [];
  for (let i = 0; i < boundCount; i++) lowerBounds.push(r.compressedSigned());
  return { kind: 'array', element, rank, sizes, lowerBounds };
}

/** RetType or Param (§II.23.2.10, §II.23.2.11): void is allowed only as a return type. */
function readParamType(r: BlobReader, context: SignatureContext, isReturn: boolean): TypeSig | null {
  const at = r.position;
  const sig = readType(r, context);
  if (sig.kind === 'primitive' && sig.name === 'Void') {
    if (!isReturn) r.fail('a parameter of type void', at);
    return sig.modifiers ? sig : null;
  }
  return sig;
}

/** MethodDefSig (§II.23.2.1) or MethodRefSig (§II.23.2.2). */
export function readMethodSig(r: BlobReader, context: SignatureContext): MethodSig {
  const at = r.position;
  const lead = r.u8();
  const kind = lead & KIND_MASK;
  if (kind === FIELD || kind === PROPERTY || kind > VARARG) r.fail(`calling convention 0x${lead.toString(16)} is not a method's`, at);
  const genericParamCount = lead & GENERIC ? r.compressed() : 0;
  const count = r.count(r.compressed(), 1, 'parameter');
  const returnType = readParamType(r, context, true);
  const params: TypeSig[] = [];
  let sentinel: number | undefined;
  for (let i = 0; i < count; i++) {
    if (r.peek() === ElementType.Sentinel) {
      if (sentinel !== undefined) r.fail('a second SENTINEL');
      r.u8();
      sentinel = i;
    }
    params.push(readParamType(r, context, false)!);
  }
  const sig = { hasThis: (lead & HAS_THIS) !== 0, explicitThis: (lead & EXPLICIT_THIS) !== 0, callingConvention: kind, genericParamCount, returnType, params };
  return sentinel === undefined ? sig : { ...sig, sentinel };
}

/** FieldSig (§II.23.2.4). */
export function readFieldSig(r: BlobReader, context: SignatureContext): TypeSig {
  const lead = r.u8();
  if ((lead & KIND_MASK) !== FIELD) r.fail(`FieldSig starts with 0x${lead.toString(16)}, not FIELD (0x6)`, r.position - 1);
  return readType(r, context);
}

/** PropertySig (§II.23.2.5). */
export function readPropertySig(r: BlobReader, context: SignatureContext): PropertySig {
  const lead = r.u8();
  if ((lead & KIND_MASK) !== PROPERTY) r.fail(`PropertySig starts with 0x${lead.toString(16)}, not PROPERTY (0x8)`, r.position - 1);
  const count = r.count(r.compressed(), 1, 'parameter');
  const type = readType(r, context);
  const params: TypeSig[] = [];
  for (let i = 0; i < count; i++) params.push(readType(r, context));
  return { hasThis: (lead & HAS_THIS) !== 0, type, params };
}

/** A TypeSpec blob (§II.23.2.14). */
export function readTypeSpec(r: BlobReader, context: SignatureContext, depth = 0): TypeSig {
  return readType(r, context, depth);
}
