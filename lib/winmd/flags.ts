// Flag bits of the metadata tables that the model reads (ECMA-335 §II.23.1).

/** TypeDef.Flags (§II.23.1.15). WindowsRuntime (0x4000) is the WinRT addition. */
export const TypeAttributes = {
  VisibilityMask: 0x7,
  Public: 0x1,
  Interface: 0x20,
  Abstract: 0x80,
  Sealed: 0x100,
  SpecialName: 0x400,
  Import: 0x1000,
  WindowsRuntime: 0x4000,
} as const;

/** MethodDef.Flags (§II.23.1.10). */
export const MethodAttributes = {
  Static: 0x10,
  Final: 0x20,
  Virtual: 0x40,
  HideBySig: 0x80,
  NewSlot: 0x100,
  Abstract: 0x400,
  SpecialName: 0x800,
  RTSpecialName: 0x1000,
} as const;

/** Field.Flags (§II.23.1.5). */
export const FieldAttributes = {
  Static: 0x10,
  Literal: 0x40,
  SpecialName: 0x200,
  RTSpecialName: 0x400,
  HasDefault: 0x8000,
} as const;

/** Param.Flags (§II.23.1.13). */
export const ParamAttributes = {
  In: 0x1,
  Out: 0x2,
  Optional: 0x10,
  HasDefault: 0x1000,
  HasFieldMarshal: 0x2000,
} as const;

/** MethodSemantics.Semantics (§II.23.1.12). */
export const MethodSemanticsAttributes = {
  Setter: 0x1,
  Getter: 0x2,
  Other: 0x4,
  AddOn: 0x8,
  RemoveOn: 0x10,
  Fire: 0x20,
} as const;
