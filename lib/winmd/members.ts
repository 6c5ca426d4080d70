// What hangs off a TypeDef in the model: custom attributes, fields, methods and their
// parameters, properties, events and implemented interfaces.
import type { AttributeArg, AttributeContext, NamedAttributeArg } from './attributes.js';
import { type ConstantValue, readConstant } from './constant-value.js';
import { FieldAttributes, MethodAttributes, ParamAttributes } from './flags.js';
import { computeAt } from './lazy.js';
import { ConstantRow } from './rows/constant.js';
import { ParamRow } from './rows/param.js';
import { TableId } from './schema.js';
import type { AttributeHead, FileScope } from './scope.js';
import type { TypeDef } from './type-def.js';
import type { TypeSig } from './type-sig.js';
import { type DeprecationInfo, deprecatedOf, has, overloadOf, WinRTAttributes } from './winrt-attributes.js';

/** A custom attribute (§II.22.10): its type's name at once, its arguments when first read. */
export class Attribute {
  /** Full name of the attribute type, e.g. 'Windows.Foundation.Metadata.ActivatableAttribute'. */
  readonly name: string;
  readonly namespace: string;
  /** The type's name without namespace, e.g. 'ActivatableAttribute'. */
  readonly typeName: string;
  readonly #scope: FileScope;
  readonly #head: AttributeHead;
  readonly #context: AttributeContext;
  readonly #row: number;
  #decoded?: { args: AttributeArg[]; named: NamedAttributeArg[] };

  constructor(scope: FileScope, row: number, context: AttributeContext) {
    this.#scope = scope;
    this.#context = context;
    this.#row = row;
    this.#head = scope.attributeHead(row);
    this.namespace = this.#head.type.namespace;
    this.typeName = this.#head.type.name;
    this.name = this.namespace ? `${this.namespace}.${this.typeName}` : this.typeName;
  }

  /** The constructor's parameter types. */
  get params(): readonly TypeSig[] {
    return this.#head.params;
  }

  /** The fixed (constructor) arguments, decoded (§II.23.3). */
  get args(): readonly AttributeArg[] {
    return this.#decode().args;
  }

  /** The named arguments: fields and properties set by name. */
  get named(): readonly NamedAttributeArg[] {
    return this.#decode().named;
  }

  #decode(): { args: AttributeArg[]; named: NamedAttributeArg[] } {
    return (this.#decoded ??= computeAt(this.#scope.file, TableId.CustomAttribute, this.#row, () => this.#scope.attributeArgs(this.#head, this.#context)));
  }
}

export function readAttributes(scope: FileScope, context: AttributeContext, table: TableId, row: number): Attribute[] {
  return scope.lookups.attributes(table, row).map((r) => new Attribute(scope, r, context));
}

/** Shared by the members: where they are, for errors, and their attributes. */
abstract class Member {
  readonly #scope: FileScope;
  readonly #context: AttributeContext;
  readonly #table: TableId;
  readonly #row: number;
  #attributes?: readonly Attribute[];

  constructor(scope: FileScope, context: AttributeContext, table: TableId, row: number) {
    this.#scope = scope;
    this.#context = context;
    this.#table = table;
    this.#row = row;
  }

  /** The metadata token: table number << 24 | row (§II.22). */
  get token(): number {
    return ((this.#table << 24) | this.#row) >>> 0;
  }

  get attributes(): readonly Attribute[] {
    return (this.#attributes ??= this.#row === 0 ? [] : this.compute(() => readAttributes(this.#scope, this.#context, this.#table, this.#row)));
  }

  /** 1-based row in its table; 0 for a parameter that has no Param row. */
  protected get row(): number {
    return this.#row;
  }

  protected compute<T>(step: () => T): T {
    return computeAt(this.#scope.file, this.#table, this.#row, step);
  }

  protected get scope(): FileScope {
    return this.#scope;
  }
  protected get context(): AttributeContext {
    return this.#context;
  }
}

export class FieldDef extends Member {
  readonly name: string;
  readonly flags: number;
  readonly type: TypeSig;
  /** The Constant row's value: an enum member's value, for instance. */
  readonly constant: ConstantValue | null;
  readonly #declaringType: TypeDef;

  constructor(scope: FileScope, context: AttributeContext, row: number, declaringType: TypeDef) {
    super(scope, context, TableId.Field, row);
    this.#declaringType = declaringType;
    const file = scope.file;
    this.name = file.string(TableId.Field, row, 1);
    this.flags = file.value(TableId.Field, row, 0);
    this.type = scope.fieldSig(row);
    const constant = scope.lookups.constant(TableId.Field, row);
    this.constant = constant === 0 ? null : readConstantRow(scope, constant);
  }

  get declaringType(): TypeDef {
    return this.#declaringType;
  }
  get isStatic(): boolean {
    return (this.flags & FieldAttributes.Static) !== 0;
  }
  get isLiteral(): boolean {
    return (this.flags & FieldAttributes.Literal) !== 0;
  }
  get isSpecialName(): boolean {
    return (this.flags & FieldAttributes.SpecialName) !== 0;
  }
}

function readConstantRow(scope: FileScope, row: number): ConstantValue {
  const constant = new ConstantRow(scope.file, row);
  return readConstant(scope.reader(constant.value()), constant.type());
}

/** A parameter: its Param row (when the method has one for it) with its type from the signature. */
export class ParamDef extends Member {
  readonly name: string;
  /** 1-based position; 0 for the return value. */
  readonly sequence: number;
  readonly flags: number;
  readonly type: TypeSig;
  readonly constant: ConstantValue | null;

  constructor(scope: FileScope, context: AttributeContext, row: number, sequence: number, type: TypeSig) {
    super(scope, context, TableId.Param, row);
    const param = row === 0 ? null : new ParamRow(scope.file, row);
    this.name = param?.name() ?? '';
    this.flags = param?.flags() ?? 0;
    this.sequence = sequence;
    this.type = type;
    const constant = row === 0 ? 0 : scope.lookups.constant(TableId.Param, row);
    this.constant = constant === 0 ? null : readConstantRow(scope, constant);
  }

  get isIn(): boolean {
    return (this.flags & ParamAttributes.In) !== 0;
  }
  get isOut(): boolean {
    return (this.flags & ParamAttributes.Out) !== 0;
  }
  get isOptional(): boolean {
    return (this.flags & ParamAttributes.Optional) !== 0;
  }
  /** The type carries System.Runtime.CompilerServices.IsConst (a modopt in Windows' metadata). */
  get isConst(): boolean {
    return this.type.isConst === true;
  }
}

export interface MethodSignature {
  readonly hasThis: boolean;
  readonly genericParamCount: number;
  /** null for void. */
  readonly returnType: TypeSig | null;
  readonly params: readonly ParamDef[];
  /** The return value's Param row (sequence 0) when the method has one: its name and attributes. */
  readonly returnParam: ParamDef | null;
}

const VOID: TypeSig = Object.freeze({ kind: 'primitive', name: 'Void' });

export class MethodDef extends Member {
  readonly name: string;
  readonly flags: number;
  readonly implFlags: number;
  readonly #declaringType: TypeDef;
  #signature?: MethodSignature;

  constructor(scope: FileScope, context: AttributeContext, row: number, declaringType: TypeDef) {
    super(scope, context, TableId.MethodDef, row);
    this.#declaringType = declaringType;
    const file = scope.file;
    this.name = file.string(TableId.MethodDef, row, 3);
    this.flags = file.value(TableId.MethodDef, row, 2);
    this.implFlags = file.value(TableId.MethodDef, row, 1);
  }

  get declaringType(): TypeDef {
    return this.#declaringType;
  }
  get isSpecialName(): boolean {
    return (this.flags & MethodAttributes.SpecialName) !== 0;
  }
  get isStatic(): boolean {
    return (this.flags & MethodAttributes.Static) !== 0;
  }
  get isVirtual(): boolean {
    return (this.flags & MethodAttributes.Virtual) !== 0;
  }
  get isAbstract(): boolean {
    return (this.flags & MethodAttributes.Abstract) !== 0;
  }

  /** The MethodDefSig (§II.23.2.1) with each parameter's Param row. */
  get signature(): MethodSignature {
    return (this.#signature ??= this.compute(() => {
      const scope = this.scope;
      const context = this.context;
      const sig = scope.methodSig(this.row);
      // Param rows need not exist for every parameter, and are matched by Sequence (§II.22.33).
      const rows = new Map<number, number>();
      for (const row of scope.file.list(TableId.MethodDef, this.row, 5, TableId.Param)) {
        const sequence = new ParamRow(scope.file, row).sequence();
        if (sequence > sig.params.length) scope.file.fail(TableId.Param, row, `Sequence ${sequence} is past the method's ${sig.params.length} parameters`);
        if (rows.has(sequence)) scope.file.fail(TableId.Param, row, `a second Param row for Sequence ${sequence}`);
        rows.set(sequence, row);
      }
      const params = sig.params.map((type, i) => new ParamDef(scope, context, rows.get(i + 1) ?? 0, i + 1, type));
      const returnRow = rows.get(0);
      const returnParam = returnRow === undefined ? null : new ParamDef(scope, context, returnRow, 0, sig.returnType ?? VOID);
      return { hasThis: sig.hasThis, genericParamCount: sig.genericParamCount, returnType: sig.returnType, params, returnParam };
    }));
  }

  /** OverloadAttribute: the name the method is projected under, when it is one of overloads. */
  get overload(): string | null {
    return overloadOf(this.attributes);
  }
  get isDefaultOverload(): boolean {
    return has(this.attributes, WinRTAttributes.DefaultOverload);
  }
  get deprecated(): DeprecationInfo[] {
    return deprecatedOf(this.attributes);
  }
}

export class PropertyDef extends Member {
  readonly name: string;
  readonly flags: number;
  readonly type: TypeSig;
  readonly getter: MethodDef | null;
  readonly setter: MethodDef | null;

  constructor(scope: FileScope, context: AttributeContext, row: number, accessors: { getter: MethodDef | null; setter: MethodDef | null }) {
    super(scope, context, TableId.Property, row);
    this.name = scope.file.string(TableId.Property, row, 1);
    this.flags = scope.file.value(TableId.Property, row, 0);
    this.type = scope.propertySig(row).type;
    this.getter = accessors.getter;
    this.setter = accessors.setter;
  }
}

export class EventDef extends Member {
  readonly name: string;
  readonly flags: number;
  /** The delegate type. */
  readonly type: TypeSig;
  readonly adder: MethodDef | null;
  readonly remover: MethodDef | null;

  constructor(scope: FileScope, context: AttributeContext, row: number, type: TypeSig, accessors: { adder: MethodDef | null; remover: MethodDef | null }) {
    super(scope, context, TableId.Event, row);
    this.name = scope.file.string(TableId.Event, row, 1);
    this.flags = scope.file.value(TableId.Event, row, 0);
    this.type = type;
    this.adder = accessors.adder;
    this.remover = accessors.remover;
  }
}

/** An InterfaceImpl row: an interface a type implements or requires. */
export class InterfaceImplDef extends Member {
  readonly type: TypeSig;

  constructor(scope: FileScope, context: AttributeContext, row: number, type: TypeSig) {
    super(scope, context, TableId.InterfaceImpl, row);
    this.type = type;
  }

  /** DefaultAttribute: the class's default interface. */
  get isDefault(): boolean {
    return has(this.attributes, WinRTAttributes.Default);
  }
  /** OverridableAttribute: a composable class's interface that a subclass may implement. */
  get isOverridable(): boolean {
    return has(this.attributes, WinRTAttributes.Overridable);
  }
  /** ProtectedAttribute: an interface only subclasses can see. */
  get isProtected(): boolean {
    return has(this.attributes, WinRTAttributes.Protected);
  }
}
