// What the Windows Runtime's metadata attributes (Windows.Foundation.Metadata) say, from their
// decoded arguments. Overloaded constructors are told apart by their arguments' types (a
// System.Type is the factory/statics/composition interface, a UInt32 the version, a String the
// contract name, Platform an enum), which is the same for every form the attributes define.
// See "Windows Runtime type system" and the Windows.Foundation.Metadata reference on Microsoft
// Learn for the attributes and their enums.
import type { AttributeArg, NamedAttributeArg } from './attributes.js';
import type { TypeSig } from './type-sig.js';

const NS = 'Windows.Foundation.Metadata.';
/** Full names of the attributes this file interprets. */
export const WinRTAttributes = {
  Guid: `${NS}GuidAttribute`,
  Activatable: `${NS}ActivatableAttribute`,
  Static: `${NS}StaticAttribute`,
  Composable: `${NS}ComposableAttribute`,
  ExclusiveTo: `${NS}ExclusiveToAttribute`,
  Default: `${NS}DefaultAttribute`,
  Overload: `${NS}OverloadAttribute`,
  DefaultOverload: `${NS}DefaultOverloadAttribute`,
  Version: `${NS}VersionAttribute`,
  ContractVersion: `${NS}ContractVersionAttribute`,
  Deprecated: `${NS}DeprecatedAttribute`,
  MarshalingBehavior: `${NS}MarshalingBehaviorAttribute`,
  Threading: `${NS}ThreadingAttribute`,
  ApiContract: `${NS}ApiContractAttribute`,
  Overridable: `${NS}OverridableAttribute`,
  Protected: `${NS}ProtectedAttribute`,
  Flags: 'System.FlagsAttribute',
} as const;

/** The part of an attribute these functions read. */
export interface AttributeLike {
  readonly name: string;
  readonly args: readonly AttributeArg[];
  readonly named: readonly NamedAttributeArg[];
}

// The enums' values as Windows.Foundation.Metadata defines them; an unknown value stays a number.
const PLATFORM = ['Windows', 'WindowsPhone'] as const;
const COMPOSITION_TYPE = { 1: 'Protected', 2: 'Public' } as const;
const MARSHALING_TYPE = ['InvalidMarshaling', 'None', 'Agile', 'Standard'] as const;
const THREADING_MODEL = ['InvalidThreading', 'STA', 'MTA', 'Both'] as const;
const DEPRECATION_TYPE = ['Deprecate', 'Remove'] as const;

export type Platform = (typeof PLATFORM)[number];
export type CompositionType = (typeof COMPOSITION_TYPE)[keyof typeof COMPOSITION_TYPE];
export type MarshalingType = (typeof MARSHALING_TYPE)[number];
export type ThreadingModel = (typeof THREADING_MODEL)[number];
export type DeprecationType = (typeof DEPRECATION_TYPE)[number];

/** The enum names above, to check them against the metadata's own enums. */
export const WINRT_ENUMS: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  [`${NS}Platform`]: { ...PLATFORM },
  [`${NS}CompositionType`]: COMPOSITION_TYPE,
  [`${NS}MarshalingType`]: { ...MARSHALING_TYPE },
  [`${NS}ThreadingModel`]: { ...THREADING_MODEL },
  [`${NS}DeprecationType`]: { ...DEPRECATION_TYPE },
};

/**
 * `[activatable]`: the version (a Windows version, or major << 16 | minor of the contract), and
 * for the factory forms the activation factory interface; `contract` in the contract forms.
 */
export interface ActivatableInfo {
  readonly version: number;
  readonly factory?: TypeSig | string;
  readonly contract?: string;
  readonly platform?: Platform | number;
}

/** `[static]`: an interface of static members, and when it came. */
export interface StaticInfo {
  readonly type: TypeSig | string;
  readonly version: number;
  readonly contract?: string;
  readonly platform?: Platform | number;
}

/** `[composable]`: the composition factory interface, and whether it is public or protected. */
export interface ComposableInfo {
  readonly type: TypeSig | string;
  readonly compositionType: CompositionType | number;
  readonly version: number;
  readonly contract?: string;
  readonly platform?: Platform | number;
}

export interface ContractVersionInfo {
  /** The contract the version belongs to; absent on a contract type's own ContractVersion. */
  readonly contract?: string;
  readonly version: number;
}

export interface DeprecationInfo {
  readonly message: string;
  readonly type: DeprecationType | number;
  readonly version: number;
  readonly contract?: string;
  readonly platform?: Platform | number;
}

function named<T extends string>(names: Readonly<Record<number, T>>, value: number): T | number {
  return names[value] ?? value;
}

/** The arguments of one attribute sorted by what they are. */
interface Sorted {
  readonly types: (TypeSig | string)[];
  readonly uint32s: number[];
  readonly strings: string[];
  readonly enums: Map<string, number>;
}

function sort(attribute: AttributeLike): Sorted {
  const sorted: Sorted = { types: [], uint32s: [], strings: [], enums: new Map() };
  for (const { type, value } of attribute.args) {
    if (type.kind === 'type' && value !== null && (typeof value === 'string' || (typeof value === 'object' && 'kind' in value))) sorted.types.push(value);
    else if (type.kind === 'primitive' && type.name === 'UInt32' && typeof value === 'number') sorted.uint32s.push(value);
    else if (type.kind === 'primitive' && type.name === 'String' && typeof value === 'string') sorted.strings.push(value);
    else if (type.kind === 'enum' && typeof value === 'number') sorted.enums.set(type.type.fullName, value);
  }
  return sorted;
}

function typeName(type: TypeSig | string): string {
  return typeof type === 'string' ? type : type.kind === 'named' ? type.fullName : type.kind === 'generic' ? type.type.fullName : type.kind;
}

function withName(attributes: readonly AttributeLike[], name: string): Sorted[] {
  const found: Sorted[] = [];
  for (const attribute of attributes) if (attribute.name === name) found.push(sort(attribute));
  return found;
}

/** Optional fields only when present, so that results compare equal to literals. */
function optional<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

function platformOf(sorted: Sorted): Platform | number | undefined {
  const value = sorted.enums.get(`${NS}Platform`);
  return value === undefined ? undefined : named(PLATFORM, value);
}

/** GuidAttribute(UInt32, UInt16, UInt16, UInt8 × 8) as upper-case canonical text, no braces. */
export function guidOf(attributes: readonly AttributeLike[]): string | null {
  const attribute = attributes.find((a) => a.name === WinRTAttributes.Guid);
  if (!attribute || attribute.args.length !== 11) return null;
  const parts = attribute.args.map((a) => a.value);
  if (!parts.every((p) => typeof p === 'number')) return null;
  const hex = (value: number, digits: number): string => (value >>> 0).toString(16).padStart(digits, '0').slice(-digits);
  const [d1, d2, d3, ...d4] = parts as number[];
  const tail = d4.map((b) => hex(b, 2));
  return `${hex(d1!, 8)}-${hex(d2!, 4)}-${hex(d3!, 4)}-${tail.slice(0, 2).join('')}-${tail.slice(2).join('')}`.toUpperCase();
}

export function activatableOf(attributes: readonly AttributeLike[]): ActivatableInfo[] {
  return withName(attributes, WinRTAttributes.Activatable).map((a) =>
    optional({ version: a.uint32s[0] ?? 0, factory: a.types[0], contract: a.strings[0], platform: platformOf(a) }),
  );
}

export function staticsOf(attributes: readonly AttributeLike[]): StaticInfo[] {
  return withName(attributes, WinRTAttributes.Static).flatMap((a) =>
    a.types[0] === undefined ? [] : [optional({ type: a.types[0], version: a.uint32s[0] ?? 0, contract: a.strings[0], platform: platformOf(a) })],
  );
}

export function composableOf(attributes: readonly AttributeLike[]): ComposableInfo[] {
  return withName(attributes, WinRTAttributes.Composable).flatMap((a) => {
    const kind = a.enums.get(`${NS}CompositionType`);
    if (a.types[0] === undefined || kind === undefined) return [];
    return [optional({ type: a.types[0], compositionType: named(COMPOSITION_TYPE, kind), version: a.uint32s[0] ?? 0, contract: a.strings[0], platform: platformOf(a) })];
  });
}

/** ExclusiveToAttribute(Type): the class an interface belongs to. */
export function exclusiveToOf(attributes: readonly AttributeLike[]): TypeSig | string | null {
  for (const a of withName(attributes, WinRTAttributes.ExclusiveTo)) if (a.types[0] !== undefined) return a.types[0];
  return null;
}

/** VersionAttribute(UInt32[, Platform]): the first one's version. */
export function versionOf(attributes: readonly AttributeLike[]): number | null {
  for (const a of withName(attributes, WinRTAttributes.Version)) if (a.uint32s[0] !== undefined) return a.uint32s[0];
  return null;
}

/** ContractVersionAttribute(UInt32), (Type contract, UInt32), (String contract, UInt32). */
export function contractVersionOf(attributes: readonly AttributeLike[]): ContractVersionInfo | null {
  for (const a of withName(attributes, WinRTAttributes.ContractVersion)) {
    if (a.uint32s[0] === undefined) continue;
    const contract = a.types[0] !== undefined ? typeName(a.types[0]) : a.strings[0];
    return optional({ contract, version: a.uint32s[0] });
  }
  return null;
}

/** DeprecatedAttribute(String message, DeprecationType, UInt32 version[, Platform | String contract]). */
export function deprecatedOf(attributes: readonly AttributeLike[]): DeprecationInfo[] {
  return withName(attributes, WinRTAttributes.Deprecated).map((a) => {
    const type = a.enums.get(`${NS}DeprecationType`);
    return optional({
      message: a.strings[0] ?? '',
      type: type === undefined ? 0 : named(DEPRECATION_TYPE, type),
      version: a.uint32s[0] ?? 0,
      contract: a.strings[1],
      platform: platformOf(a),
    });
  });
}

export function marshalingBehaviorOf(attributes: readonly AttributeLike[]): MarshalingType | number | null {
  for (const a of withName(attributes, WinRTAttributes.MarshalingBehavior)) {
    const value = a.enums.get(`${NS}MarshalingType`);
    if (value !== undefined) return named(MARSHALING_TYPE, value);
  }
  return null;
}

export function threadingOf(attributes: readonly AttributeLike[]): ThreadingModel | number | null {
  for (const a of withName(attributes, WinRTAttributes.Threading)) {
    const value = a.enums.get(`${NS}ThreadingModel`);
    if (value !== undefined) return named(THREADING_MODEL, value);
  }
  return null;
}

/** OverloadAttribute(String): the name a method is projected under among its overloads. */
export function overloadOf(attributes: readonly AttributeLike[]): string | null {
  for (const a of withName(attributes, WinRTAttributes.Overload)) if (a.strings[0] !== undefined) return a.strings[0];
  return null;
}

export function has(attributes: readonly AttributeLike[], name: string): boolean {
  return attributes.some((a) => a.name === name);
}
