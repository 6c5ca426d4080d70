// The schema of every metadata table (ECMA-335 §II.22) and the coded indexes that point between
// them (§II.24.2.6). Column widths depend on the file (heap sizes, row counts); tables.ts computes
// them from this description for every table, so that the offsets of the tables that follow a
// table are right even when this reader exposes nothing of it.

/** Table numbers (§II.22; the bit positions in the #~ stream's Valid mask). */
export const TableId = {
  Module: 0x00,
  TypeRef: 0x01,
  TypeDef: 0x02,
  FieldPtr: 0x03,
  Field: 0x04,
  MethodPtr: 0x05,
  MethodDef: 0x06,
  ParamPtr: 0x07,
  Param: 0x08,
  InterfaceImpl: 0x09,
  MemberRef: 0x0a,
  Constant: 0x0b,
  CustomAttribute: 0x0c,
  FieldMarshal: 0x0d,
  DeclSecurity: 0x0e,
  ClassLayout: 0x0f,
  FieldLayout: 0x10,
  StandAloneSig: 0x11,
  EventMap: 0x12,
  EventPtr: 0x13,
  Event: 0x14,
  PropertyMap: 0x15,
  PropertyPtr: 0x16,
  Property: 0x17,
  MethodSemantics: 0x18,
  MethodImpl: 0x19,
  ModuleRef: 0x1a,
  TypeSpec: 0x1b,
  ImplMap: 0x1c,
  FieldRVA: 0x1d,
  EncLog: 0x1e,
  EncMap: 0x1f,
  Assembly: 0x20,
  AssemblyProcessor: 0x21,
  AssemblyOS: 0x22,
  AssemblyRef: 0x23,
  AssemblyRefProcessor: 0x24,
  AssemblyRefOS: 0x25,
  File: 0x26,
  ExportedType: 0x27,
  ManifestResource: 0x28,
  NestedClass: 0x29,
  GenericParam: 0x2a,
  MethodSpec: 0x2b,
  GenericParamConstraint: 0x2c,
} as const;
export type TableId = (typeof TableId)[keyof typeof TableId];
export const TABLE_COUNT = 0x2d;

export const TABLE_NAMES: readonly string[] = Object.keys(TableId);

/**
 * A coded index (§II.24.2.6): the low `bits` bits of the value select one of `tables` (null for a
 * tag that is "not used"), the rest is the row number.
 */
export interface CodedIndex {
  readonly name: string;
  readonly bits: number;
  readonly tables: readonly (TableId | null)[];
}

const T = TableId;
export const Coded = {
  TypeDefOrRef: { name: 'TypeDefOrRef', bits: 2, tables: [T.TypeDef, T.TypeRef, T.TypeSpec] },
  HasConstant: { name: 'HasConstant', bits: 2, tables: [T.Field, T.Param, T.Property] },
  HasCustomAttribute: {
    name: 'HasCustomAttribute',
    bits: 5,
    tables: [
      T.MethodDef, T.Field, T.TypeRef, T.TypeDef, T.Param, T.InterfaceImpl, T.MemberRef, T.Module,
      T.DeclSecurity, T.Property, T.Event, T.StandAloneSig, T.ModuleRef, T.TypeSpec, T.Assembly,
      T.AssemblyRef, T.File, T.ExportedType, T.ManifestResource, T.GenericParam,
      T.GenericParamConstraint, T.MethodSpec,
    ],
  },
  HasFieldMarshal: { name: 'HasFieldMarshal', bits: 1, tables: [T.Field, T.Param] },
  HasDeclSecurity: { name: 'HasDeclSecurity', bits: 2, tables: [T.TypeDef, T.MethodDef, T.Assembly] },
  MemberRefParent: { name: 'MemberRefParent', bits: 3, tables: [T.TypeDef, T.TypeRef, T.ModuleRef, T.MethodDef, T.TypeSpec] },
  HasSemantics: { name: 'HasSemantics', bits: 1, tables: [T.Event, T.Property] },
  MethodDefOrRef: { name: 'MethodDefOrRef', bits: 1, tables: [T.MethodDef, T.MemberRef] },
  MemberForwarded: { name: 'MemberForwarded', bits: 1, tables: [T.Field, T.MethodDef] },
  Implementation: { name: 'Implementation', bits: 2, tables: [T.File, T.AssemblyRef, T.ExportedType] },
  CustomAttributeType: { name: 'CustomAttributeType', bits: 3, tables: [null, null, T.MethodDef, T.MemberRef, null] },
  ResolutionScope: { name: 'ResolutionScope', bits: 2, tables: [T.Module, T.ModuleRef, T.AssemblyRef, T.TypeRef] },
  TypeOrMethodDef: { name: 'TypeOrMethodDef', bits: 1, tables: [T.TypeDef, T.MethodDef] },
} as const satisfies Record<string, CodedIndex>;

/** What a column holds; its width follows from it (§II.24.2.6). */
export type ColumnType =
  | { readonly kind: 'fixed'; readonly size: 1 | 2 | 4 }
  | { readonly kind: 'string' | 'guid' | 'blob' }
  | { readonly kind: 'table'; readonly table: TableId }
  | { readonly kind: 'coded'; readonly coded: CodedIndex };

export interface ColumnSchema {
  readonly name: string;
  readonly type: ColumnType;
}

const u8 = { kind: 'fixed', size: 1 } as const;
const u16 = { kind: 'fixed', size: 2 } as const;
const u32 = { kind: 'fixed', size: 4 } as const;
const str = { kind: 'string' } as const;
const guid = { kind: 'guid' } as const;
const blob = { kind: 'blob' } as const;
const table = (id: TableId): ColumnType => ({ kind: 'table', table: id });
const coded = (index: CodedIndex): ColumnType => ({ kind: 'coded', coded: index });
const columns = (...list: [string, ColumnType][]): readonly ColumnSchema[] => list.map(([name, type]) => ({ name, type }));

/** The columns of every table, by table number, in the order of §II.22.2–§II.22.39. */
export const SCHEMA: readonly (readonly ColumnSchema[])[] = [
  /* Module */ columns(['Generation', u16], ['Name', str], ['Mvid', guid], ['EncId', guid], ['EncBaseId', guid]),
  /* TypeRef */ columns(['ResolutionScope', coded(Coded.ResolutionScope)], ['TypeName', str], ['TypeNamespace', str]),
  /* TypeDef */ columns(['Flags', u32], ['TypeName', str], ['TypeNamespace', str], ['Extends', coded(Coded.TypeDefOrRef)], ['FieldList', table(T.Field)], ['MethodList', table(T.MethodDef)]),
  /* FieldPtr */ columns(['Field', table(T.Field)]),
  /* Field */ columns(['Flags', u16], ['Name', str], ['Signature', blob]),
  /* MethodPtr */ columns(['Method', table(T.MethodDef)]),
  /* MethodDef */ columns(['RVA', u32], ['ImplFlags', u16], ['Flags', u16], ['Name', str], ['Signature', blob], ['ParamList', table(T.Param)]),
  /* ParamPtr */ columns(['Param', table(T.Param)]),
  /* Param */ columns(['Flags', u16], ['Sequence', u16], ['Name', str]),
  /* InterfaceImpl */ columns(['Class', table(T.TypeDef)], ['Interface', coded(Coded.TypeDefOrRef)]),
  /* MemberRef */ columns(['Class', coded(Coded.MemberRefParent)], ['Name', str], ['Signature', blob]),
  /* Constant: Type, a 1-byte padding zero, Parent, Value (§II.22.9) */
  columns(['Type', u8], ['Padding', u8], ['Parent', coded(Coded.HasConstant)], ['Value', blob]),
  /* CustomAttribute */ columns(['Parent', coded(Coded.HasCustomAttribute)], ['Type', coded(Coded.CustomAttributeType)], ['Value', blob]),
  /* FieldMarshal */ columns(['Parent', coded(Coded.HasFieldMarshal)], ['NativeType', blob]),
  /* DeclSecurity */ columns(['Action', u16], ['Parent', coded(Coded.HasDeclSecurity)], ['PermissionSet', blob]),
  /* ClassLayout */ columns(['PackingSize', u16], ['ClassSize', u32], ['Parent', table(T.TypeDef)]),
  /* FieldLayout */ columns(['Offset', u32], ['Field', table(T.Field)]),
  /* StandAloneSig */ columns(['Signature', blob]),
  /* EventMap */ columns(['Parent', table(T.TypeDef)], ['EventList', table(T.Event)]),
  /* EventPtr */ columns(['Event', table(T.Event)]),
  /* Event */ columns(['EventFlags', u16], ['Name', str], ['EventType', coded(Coded.TypeDefOrRef)]),
  /* PropertyMap */ columns(['Parent', table(T.TypeDef)], ['PropertyList', table(T.Property)]),
  /* PropertyPtr */ columns(['Property', table(T.Property)]),
  /* Property */ columns(['Flags', u16], ['Name', str], ['Type', blob]),
  /* MethodSemantics */ columns(['Semantics', u16], ['Method', table(T.MethodDef)], ['Association', coded(Coded.HasSemantics)]),
  /* MethodImpl */ columns(['Class', table(T.TypeDef)], ['MethodBody', coded(Coded.MethodDefOrRef)], ['MethodDeclaration', coded(Coded.MethodDefOrRef)]),
  /* ModuleRef */ columns(['Name', str]),
  /* TypeSpec */ columns(['Signature', blob]),
  /* ImplMap */ columns(['MappingFlags', u16], ['MemberForwarded', coded(Coded.MemberForwarded)], ['ImportName', str], ['ImportScope', table(T.ModuleRef)]),
  /* FieldRVA */ columns(['RVA', u32], ['Field', table(T.Field)]),
  /* EncLog (CLR edit-and-continue; not in ECMA-335 §II.22) */ columns(['Token', u32], ['FuncCode', u32]),
  /* EncMap (CLR edit-and-continue) */ columns(['Token', u32]),
  /* Assembly */ columns(['HashAlgId', u32], ['MajorVersion', u16], ['MinorVersion', u16], ['BuildNumber', u16], ['RevisionNumber', u16], ['Flags', u32], ['PublicKey', blob], ['Name', str], ['Culture', str]),
  /* AssemblyProcessor */ columns(['Processor', u32]),
  /* AssemblyOS */ columns(['OSPlatformID', u32], ['OSMajorVersion', u32], ['OSMinorVersion', u32]),
  /* AssemblyRef */ columns(['MajorVersion', u16], ['MinorVersion', u16], ['BuildNumber', u16], ['RevisionNumber', u16], ['Flags', u32], ['PublicKeyOrToken', blob], ['Name', str], ['Culture', str], ['HashValue', blob]),
  /* AssemblyRefProcessor */ columns(['Processor', u32], ['AssemblyRef', table(T.AssemblyRef)]),
  /* AssemblyRefOS */ columns(['OSPlatformID', u32], ['OSMajorVersion', u32], ['OSMinorVersion', u32], ['AssemblyRef', table(T.AssemblyRef)]),
  /* File */ columns(['Flags', u32], ['Name', str], ['HashValue', blob]),
  /* ExportedType */ columns(['Flags', u32], ['TypeDefId', u32], ['TypeName', str], ['TypeNamespace', str], ['Implementation', coded(Coded.Implementation)]),
  /* ManifestResource */ columns(['Offset', u32], ['Flags', u32], ['Name', str], ['Implementation', coded(Coded.Implementation)]),
  /* NestedClass */ columns(['NestedClass', table(T.TypeDef)], ['EnclosingClass', table(T.TypeDef)]),
  /* GenericParam */ columns(['Number', u16], ['Flags', u16], ['Owner', coded(Coded.TypeOrMethodDef)], ['Name', str]),
  /* MethodSpec */ columns(['Method', coded(Coded.MethodDefOrRef)], ['Instantiation', blob]),
  /* GenericParamConstraint */ columns(['Owner', table(T.GenericParam)], ['Constraint', coded(Coded.TypeDefOrRef)]),
];
