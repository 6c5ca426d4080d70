// Types as signatures spell them (ECMA-335 §II.23.2.12), in the Windows Runtime's vocabulary.

/** Primitive types by their WinRT names (ELEMENT_TYPE_CHAR is Char16, I1 is Int8, U1 is UInt8 …). */
export type PrimitiveName =
  | 'Boolean'
  | 'Char16'
  | 'Int8'
  | 'UInt8'
  | 'Int16'
  | 'UInt16'
  | 'Int32'
  | 'UInt32'
  | 'Int64'
  | 'UInt64'
  | 'Single'
  | 'Double'
  | 'String'
  | 'Object'
  | 'Void'
  | 'IntPtr'
  | 'UIntPtr';

/**
 * A custom modifier (§II.23.2.7) on the type it precedes. WinRT marks a `const` parameter with
 * System.Runtime.CompilerServices.IsConst; Windows' own metadata writes it as a modopt (CMOD_OPT,
 * `required: false`) before BYREF, e.g. `GuidHelper.Equals(const ref Guid, const ref Guid)`.
 */
export interface CustomModifier {
  readonly required: boolean;
  readonly type: NamedTypeSig;
}

interface Modified {
  /** Custom modifiers that preceded this type in the signature, when there were any. */
  readonly modifiers?: readonly CustomModifier[];
  /** Present (true) when a modifier, required or optional, is System.Runtime.CompilerServices.IsConst. */
  readonly isConst?: true;
}

export interface PrimitiveTypeSig extends Modified {
  readonly kind: 'primitive';
  readonly name: PrimitiveName;
}

/**
 * A type named by a TypeDef or TypeRef (CLASS or VALUETYPE in a signature). `System.Guid` stays
 * a named type here although the Windows Runtime treats it as its Guid primitive: test
 * `fullName === 'System.Guid'`. Resolve it to its definition with `Metadata.resolve`.
 */
export interface NamedTypeSig extends Modified {
  readonly kind: 'named';
  readonly namespace: string;
  readonly name: string;
  /** `namespace.name`, e.g. 'Windows.Foundation.IAsyncOperation`1'. */
  readonly fullName: string;
  /** VALUETYPE in a signature; false where the file does not say (extends, implements, events). */
  readonly isValueType: boolean;
}

/** An instantiated generic type (GENERICINST, §II.23.2.12). */
export interface GenericTypeSig extends Modified {
  readonly kind: 'generic';
  readonly type: NamedTypeSig;
  readonly args: readonly TypeSig[];
}

/** The index-th generic parameter of the enclosing type (VAR). */
export interface VarTypeSig extends Modified {
  readonly kind: 'var';
  readonly index: number;
}

/** The index-th generic parameter of the method (MVAR). */
export interface MVarTypeSig extends Modified {
  readonly kind: 'mvar';
  readonly index: number;
}

/**
 * SZARRAY (a single-dimensional, zero-based array: `rank` absent) or ARRAY with its shape
 * (§II.23.2.13): `rank`, and the `sizes` and `lowerBounds` it specifies (possibly fewer than rank).
 */
export interface ArrayTypeSig extends Modified {
  readonly kind: 'array';
  readonly element: TypeSig;
  readonly rank?: number;
  readonly sizes?: readonly number[];
  readonly lowerBounds?: readonly number[];
}

export interface ByRefTypeSig extends Modified {
  readonly kind: 'byref';
  readonly type: TypeSig;
}

export interface PointerTypeSig extends Modified {
  readonly kind: 'pointer';
  readonly type: TypeSig;
}

export type TypeSig =
  | PrimitiveTypeSig
  | NamedTypeSig
  | GenericTypeSig
  | VarTypeSig
  | MVarTypeSig
  | ArrayTypeSig
  | ByRefTypeSig
  | PointerTypeSig;

export const IS_CONST = 'System.Runtime.CompilerServices.IsConst';

/**
 * A readable spelling of a type, e.g. 'Windows.Foundation.IAsyncOperation`1<Windows.System.User>',
 * 'UInt8[]', 'const ref System.Guid'; `genericParams` names VAR indexes.
 *
 * @example
 * formatType({ kind: 'primitive', name: 'Int32' }); // 'Int32'
 */
export function formatType(sig: TypeSig, genericParams: readonly string[] = []): string {
  const prefix = sig.isConst ? 'const ' : '';
  switch (sig.kind) {
    case 'primitive':
      return prefix + sig.name;
    case 'named':
      return prefix + sig.fullName;
    case 'generic':
      return `${prefix}${sig.type.fullName}<${sig.args.map((a) => formatType(a, genericParams)).join(', ')}>`;
    case 'var':
      return prefix + (genericParams[sig.index] ?? `!${sig.index}`);
    case 'mvar':
      return `${prefix}!!${sig.index}`;
    case 'array':
      return `${prefix}${formatType(sig.element, genericParams)}[${sig.rank === undefined ? '' : ','.repeat(sig.rank - 1)}]`;
    case 'byref':
      return `${prefix}ref ${formatType(sig.type, genericParams)}`;
    case 'pointer':
      return `${prefix}${formatType(sig.type, genericParams)}*`;
  }
}
