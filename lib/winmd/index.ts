// winbg/winmd: an ECMA-335 metadata reader for Windows Runtime .winmd files.
//
// Layers, bytes up:  bytes.ts (checked reads) → pe.ts, cli-header.ts (§II.25) → streams.ts
// (§II.24.2.1) → heaps.ts (§II.24.2.3–5) and tables.ts with schema.ts (§II.22, §II.24.2.6) →
// file.ts (WinmdFile: typed column reads) → rows/ (one accessor class per table).
// Blob decoding: blob.ts (compressed integers), signatures.ts (§II.23.2), attributes.ts (§II.23.3),
// constant-value.ts. Meaning: scope.ts and lookup.ts (one file's names, signatures, reverse
// lookups), type-def.ts and members.ts (the model's types), winrt-attributes.ts, model.ts
// (Metadata: several files as one), walk.ts (visit everything).
export { WinmdError } from './errors.js';
export { Metadata, type ExternalType } from './model.js';
export { TypeDef, type TypeKind } from './type-def.js';
export { Attribute, EventDef, FieldDef, InterfaceImplDef, MethodDef, type MethodSignature, ParamDef, PropertyDef } from './members.js';
export {
  formatType,
  IS_CONST,
  type ArrayTypeSig,
  type ByRefTypeSig,
  type CustomModifier,
  type GenericTypeSig,
  type MVarTypeSig,
  type NamedTypeSig,
  type PointerTypeSig,
  type PrimitiveName,
  type PrimitiveTypeSig,
  type TypeSig,
  type VarTypeSig,
} from './type-sig.js';
export type { AttributeArg, AttributeArgType, AttributeValue, NamedAttributeArg } from './attributes.js';
export type { ConstantValue } from './constant-value.js';
export {
  WinRTAttributes,
  type ActivatableInfo,
  type ComposableInfo,
  type CompositionType,
  type ContractVersionInfo,
  type DeprecationInfo,
  type DeprecationType,
  type MarshalingType,
  type Platform,
  type StaticInfo,
  type ThreadingModel,
} from './winrt-attributes.js';
export { FieldAttributes, MethodAttributes, MethodSemanticsAttributes, ParamAttributes, TypeAttributes } from './flags.js';
export { WinmdFile } from './file.js';
export { TableId } from './schema.js';
export { walk, type WalkCounts } from './walk.js';
