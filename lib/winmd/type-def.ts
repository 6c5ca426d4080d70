// A type defined in a .winmd file, as the model presents it: names at once, members and
// attributes decoded the first time they are read.
import type { AttributeContext } from './attributes.js';
import { MethodSemanticsAttributes, TypeAttributes } from './flags.js';
import { computeAt } from './lazy.js';
import { type Attribute, EventDef, FieldDef, InterfaceImplDef, MethodDef, PropertyDef, readAttributes } from './members.js';
import { EventRow } from './rows/event.js';
import { GenericParamRow } from './rows/generic-param.js';
import { InterfaceImplRow } from './rows/interface-impl.js';
import { MethodSemanticsRow } from './rows/method-semantics.js';
import { TypeDefRow } from './rows/type-def.js';
import { TableId } from './schema.js';
import type { FileScope } from './scope.js';
import type { TypeSig } from './type-sig.js';
import {
  type ActivatableInfo,
  activatableOf,
  type ComposableInfo,
  composableOf,
  type ContractVersionInfo,
  contractVersionOf,
  type DeprecationInfo,
  deprecatedOf,
  exclusiveToOf,
  guidOf,
  has,
  type MarshalingType,
  marshalingBehaviorOf,
  type StaticInfo,
  staticsOf,
  type ThreadingModel,
  threadingOf,
  versionOf,
  WinRTAttributes,
} from './winrt-attributes.js';

export type TypeKind = 'interface' | 'class' | 'enum' | 'struct' | 'delegate' | 'attribute' | 'contract';

/** The base type decides the kind (WinRT type system: enums, structs, delegates, attributes). */
const KIND_BY_BASE: Readonly<Record<string, TypeKind>> = {
  'System.Enum': 'enum',
  'System.ValueType': 'struct',
  'System.MulticastDelegate': 'delegate',
  'System.Attribute': 'attribute',
};

export class TypeDef {
  readonly namespace: string;
  /** With backtick arity for generic types, e.g. 'IAsyncOperation`1'; `Outer/Inner` when nested. */
  readonly name: string;
  readonly fullName: string;
  /** The name of the file that defines the type, e.g. 'Windows.Foundation.winmd'. */
  readonly file: string;
  readonly flags: number;
  /** The metadata token: 0x02000000 | row. */
  readonly token: number;
  readonly #scope: FileScope;
  readonly #context: AttributeContext;
  readonly #row: number;
  // Decoded the first time they are read (undefined: not yet).
  #kind?: TypeKind;
  #extends?: TypeSig | null;
  #genericParams?: readonly string[];
  #attributes?: readonly Attribute[];
  #fields?: readonly FieldDef[];
  #methods?: readonly MethodDef[];
  #methodsByToken?: Map<number, MethodDef>;
  #interfaces?: readonly InterfaceImplDef[];
  #properties?: readonly PropertyDef[];
  #events?: readonly EventDef[];
  #guid?: string | null;

  constructor(scope: FileScope, context: AttributeContext, row: number) {
    this.#scope = scope;
    this.#context = context;
    this.#row = row;
    const { namespace, name } = scope.typeDefName(row);
    this.namespace = namespace;
    this.name = name;
    this.fullName = namespace ? `${namespace}.${name}` : name;
    this.file = scope.file.name;
    this.flags = new TypeDefRow(scope.file, row).flags();
    this.token = ((TableId.TypeDef << 24) | row) >>> 0;
  }

  #compute<T>(step: () => T): T {
    return computeAt(this.#scope.file, TableId.TypeDef, this.#row, step);
  }

  get kind(): TypeKind {
    return (this.#kind ??= this.#compute((): TypeKind => {
      if (this.flags & TypeAttributes.Interface) return 'interface';
      const base = this.extends;
      const kind = base?.kind === 'named' ? (KIND_BY_BASE[base.fullName] ?? 'class') : 'class';
      // An API contract is a struct with no fields that carries ApiContractAttribute.
      return kind === 'struct' && has(this.attributes, WinRTAttributes.ApiContract) ? 'contract' : kind;
    }));
  }

  /** The base type; null for interfaces (and System.Object). */
  get extends(): TypeSig | null {
    if (this.#extends === undefined) this.#extends = this.#compute(() => this.#scope.typeOf(new TypeDefRow(this.#scope.file, this.#row).extends()));
    return this.#extends;
  }

  /** Enums, structs and contracts: the types a signature names with VALUETYPE. */
  get isValueType(): boolean {
    const base = this.extends;
    return base?.kind === 'named' && (base.fullName === 'System.ValueType' || base.fullName === 'System.Enum');
  }

  get isWindowsRuntime(): boolean {
    return (this.flags & TypeAttributes.WindowsRuntime) !== 0;
  }
  get isSealed(): boolean {
    return (this.flags & TypeAttributes.Sealed) !== 0;
  }
  get isPublic(): boolean {
    return (this.flags & TypeAttributes.VisibilityMask) === TypeAttributes.Public;
  }

  /** Names of the generic parameters, in order (VAR n is the n-th). */
  get genericParams(): readonly string[] {
    return (this.#genericParams ??= this.#compute(() =>
      this.#scope.lookups.genericParams(TableId.TypeDef, this.#row).map((row) => new GenericParamRow(this.#scope.file, row).name()),
    ));
  }

  get attributes(): readonly Attribute[] {
    return (this.#attributes ??= this.#compute(() => readAttributes(this.#scope, this.#context, TableId.TypeDef, this.#row)));
  }

  get fields(): readonly FieldDef[] {
    return (this.#fields ??= this.#compute(() =>
      new TypeDefRow(this.#scope.file, this.#row).fields().map((row) => new FieldDef(this.#scope, this.#context, row, this)),
    ));
  }

  /** In table order, which for an interface is its vtable order (after IInspectable's six). */
  get methods(): readonly MethodDef[] {
    return (this.#methods ??= this.#compute(() =>
      new TypeDefRow(this.#scope.file, this.#row).methods().map((row) => new MethodDef(this.#scope, this.#context, row, this)),
    ));
  }

  /** Implemented (class) or required (interface) interfaces, in the order the type declares them. */
  get interfaces(): readonly InterfaceImplDef[] {
    return (this.#interfaces ??= this.#compute(() =>
      this.#scope.lookups.interfaceImpls(this.#row).map((row) => {
        const type = this.#scope.typeOf(new InterfaceImplRow(this.#scope.file, row).interface());
        if (!type) this.#scope.file.fail(TableId.InterfaceImpl, row, 'Interface is row 0');
        return new InterfaceImplDef(this.#scope, this.#context, row, type);
      }),
    ));
  }

  get properties(): readonly PropertyDef[] {
    return (this.#properties ??= this.#compute(() =>
      this.#scope.lookups.properties(this.#row).map((row) => {
        const accessors = this.#accessors(TableId.Property, row);
        return new PropertyDef(this.#scope, this.#context, row, { getter: accessors.get(MethodSemanticsAttributes.Getter) ?? null, setter: accessors.get(MethodSemanticsAttributes.Setter) ?? null });
      }),
    ));
  }

  get events(): readonly EventDef[] {
    return (this.#events ??= this.#compute(() =>
      this.#scope.lookups.events(this.#row).map((row) => {
        const accessors = this.#accessors(TableId.Event, row);
        const type = this.#scope.typeOf(new EventRow(this.#scope.file, row).type());
        if (!type) this.#scope.file.fail(TableId.Event, row, 'EventType is row 0');
        return new EventDef(this.#scope, this.#context, row, type, { adder: accessors.get(MethodSemanticsAttributes.AddOn) ?? null, remover: accessors.get(MethodSemanticsAttributes.RemoveOn) ?? null });
      }),
    ));
  }

  /** The methods MethodSemantics ties to a property or event, by semantics bit (§II.22.28). */
  #accessors(table: TableId, row: number): Map<number, MethodDef> {
    const accessors = new Map<number, MethodDef>();
    const file = this.#scope.file;
    const methods = (this.#methodsByToken ??= new Map(this.methods.map((m) => [m.token, m])));
    for (const semantics of this.#scope.lookups.semantics(table, row)) {
      const s = new MethodSemanticsRow(file, semantics);
      const token = ((TableId.MethodDef << 24) | s.method()) >>> 0;
      // §II.22.28: the method must be one of the type that owns the property or event.
      const method = methods.get(token) ?? file.fail(TableId.MethodSemantics, semantics, `MethodDef ${s.method()} is not a method of ${this.fullName}`);
      if (!accessors.has(s.semantics())) accessors.set(s.semantics(), method);
    }
    return accessors;
  }

  /** GuidAttribute: the interface or delegate IID, upper case without braces; null if none. */
  get guid(): string | null {
    if (this.#guid === undefined) this.#guid = guidOf(this.attributes);
    return this.#guid;
  }
  get activatable(): ActivatableInfo[] {
    return activatableOf(this.attributes);
  }
  get statics(): StaticInfo[] {
    return staticsOf(this.attributes);
  }
  get composable(): ComposableInfo[] {
    return composableOf(this.attributes);
  }
  /** ExclusiveToAttribute: the class an interface belongs to. */
  get exclusiveTo(): TypeSig | string | null {
    return exclusiveToOf(this.attributes);
  }
  get version(): number | null {
    return versionOf(this.attributes);
  }
  get contractVersion(): ContractVersionInfo | null {
    return contractVersionOf(this.attributes);
  }
  get deprecated(): DeprecationInfo[] {
    return deprecatedOf(this.attributes);
  }
  get marshalingBehavior(): MarshalingType | number | null {
    return marshalingBehaviorOf(this.attributes);
  }
  get threading(): ThreadingModel | number | null {
    return threadingOf(this.attributes);
  }
  /** System.FlagsAttribute on an enum. */
  get isFlags(): boolean {
    return has(this.attributes, WinRTAttributes.Flags);
  }

  /** The default interface of a runtime class (the InterfaceImpl with DefaultAttribute). */
  get defaultInterface(): TypeSig | null {
    return this.interfaces.find((i) => i.isDefault)?.type ?? null;
  }

  /** An enum's underlying type: the type of its instance field `value__` (§II.14.3). */
  get underlyingType(): TypeSig | null {
    if (!this.isValueType || this.extends?.kind !== 'named' || this.extends.fullName !== 'System.Enum') return null;
    return this.fields.find((f) => !f.isStatic)?.type ?? null;
  }
}
