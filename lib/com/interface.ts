import { methodPrototypes, type MethodPrototypes } from '../ffi/prototype.js';
import { Guid } from './guid.js';
import { parseSignature, type NamedType, type ParsedSignature } from './signature.js';
import { StructType, structNamed } from './struct.js';

/** One vtable slot of an interface. */
export interface MethodInfo {
  readonly name: string;
  /** Index in the vtable, counting IUnknown's three slots (and IInspectable's three). */
  readonly slot: number;
  readonly owner: ComInterface<any>;
  readonly signature: ParsedSignature;
  readonly prototypes: MethodPrototypes;
  /**
   * Why the method cannot be used, for a slot whose types are not projected: its vtable slot is
   * kept (so later slots stay in place), calling it from JS throws this, and native callers of a
   * JS implementation get E_NOTIMPL.
   */
  readonly unavailable?: string;
}

/** A method source: a signature, or a placeholder for a slot that cannot be described. */
export type MethodSource = string | { readonly unavailable: string };

/**
 * An interface's methods in slot order: their sources by name, or (for projections) their names
 * and a function that writes a method's source when the methods are first parsed, so that
 * resolving an interface resolves none of the types its methods use.
 */
export type MethodSources = Readonly<Record<string, MethodSource>> | { readonly names: readonly string[]; readonly source: (name: string) => MethodSource };

export interface InterfaceDefinition {
  /** The interface's name, as signatures and messages refer to it (e.g. 'IBackgroundTask'). */
  readonly name: string;
  readonly iid: Guid | string;
  /** The interface it derives from: IUnknown, IInspectable or another definition. */
  readonly base: ComInterface<any>;
  /**
   * Methods in vtable order (after the base's), each a signature as the SDK headers write it:
   * `'HRESULT (int32_t a, _Out_ int32_t *sum)'`. HRESULT is implied when the return type is left out.
   */
  readonly methods: Readonly<Record<string, string>>;
  /**
   * Names that signatures use, when they are not registered globally: interfaces, structs, and
   * enums as the primitive they are passed as (e.g. `{ AsyncStatus: 'int32_t' }`).
   */
  readonly types?: LocalTypes;
}

/** What a name in an interface's `types` stands for. */
export type LocalType = ComInterface<any> | StructType<any> | string;
/** Names for signatures: a record, or a function resolving them on first use (for projections). */
export type LocalTypes = Readonly<Record<string, LocalType>> | ((name: string) => LocalType | undefined);

const byName = new Map<string, ComInterface<any>[]>();

/**
 * A COM interface: IID, base, and methods in vtable slot order. `M` types the methods that a
 * {@link ComPtr} of this interface exposes and that an implementation provides.
 */
export class ComInterface<M extends object = {}> {
  readonly name: string;
  readonly iid: Guid;
  readonly base: ComInterface<any> | null;
  /** Total vtable slots, the base's included. */
  readonly slotCount: number;
  readonly #names: readonly string[];
  readonly #source: (name: string) => MethodSource;
  readonly #types: LocalTypes;
  #methods: readonly MethodInfo[] | undefined;
  #allMethods: readonly MethodInfo[] | undefined;
  declare readonly __methods?: M;

  /** @internal Use {@link defineInterface}. */
  constructor(name: string, iid: Guid, base: ComInterface<any> | null, methods: MethodSources, types: LocalTypes = {}) {
    this.name = name;
    this.iid = iid;
    this.base = base;
    if (isLazy(methods)) {
      this.#names = methods.names;
      this.#source = methods.source;
    } else {
      const sources = methods as Readonly<Record<string, MethodSource>>;
      this.#names = Object.keys(sources);
      this.#source = (method) => sources[method]!;
    }
    this.#types = types;
    this.slotCount = (base?.slotCount ?? 0) + this.#names.length;
  }

  /**
   * This interface's own methods (not the base's), parsed on first use so that interfaces may
   * refer to each other in any order.
   * @throws TypeError when a signature is invalid.
   */
  get methods(): readonly MethodInfo[] {
    if (this.#methods) return this.#methods;
    const first = this.base?.slotCount ?? 0;
    this.#methods = this.#names.map((name, index) => {
      const source = this.#source(name);
      const where = `${this.name}.${name}`;
      if (typeof source === 'object' && source !== null && typeof source.unavailable === 'string') {
        return new Method(name, first + index, this, parseSignature('HRESULT ()', where, () => undefined), `${where}: ${source.unavailable}`);
      }
      return new Method(name, first + index, this, parseSignature(source as string, where, (type) => this.lookup(type)));
    });
    return this.#methods;
  }

  /** Every method from IUnknown's first to this interface's last, in slot order. */
  get allMethods(): readonly MethodInfo[] {
    // Built once (the vtable builder, ComPtr's class and the projection each read it); frozen, as it is shared.
    return (this.#allMethods ??= Object.freeze([...(this.base?.allMethods ?? []), ...this.methods]));
  }

  /** This interface, then its base, up to IUnknown. */
  get chain(): readonly ComInterface<any>[] {
    const chain: ComInterface<any>[] = [];
    for (let i: ComInterface<any> | null = this; i; i = i.base) chain.push(i);
    return chain;
  }

  /** True when `other` is this interface or one of its bases. */
  extends(other: ComInterface<any>): boolean {
    return this.chain.some((i) => i.iid.key === other.iid.key);
  }

  /** What a signature of this interface means by a type name that is not built in. */
  lookup(name: string): NamedType | undefined {
    const local = this.#local(name);
    if (local instanceof StructType) return { kind: 'struct', struct: local };
    if (typeof local === 'string') return { kind: 'value', native: local };
    if (this.resolve(name)) return { kind: 'interface' };
    const struct = structNamed(name);
    return struct ? { kind: 'struct', struct } : undefined;
  }

  /** The interface a signature of this interface means by `name`. */
  resolve(name: string): ComInterface<any> | undefined {
    if (name === this.name) return this;
    const local = this.#local(name);
    if (local instanceof ComInterface) return local;
    if (local !== undefined) return undefined;
    const global = byName.get(name);
    if (!global || global.length === 0) return undefined;
    const distinct = new Set(global.map((i) => i.iid.key));
    if (distinct.size > 1) {
      throw new TypeError(`${this.name}: ${name} names ${distinct.size} different interfaces; pass the one meant in 'types'`);
    }
    return global[0];
  }

  #local(name: string): LocalType | undefined {
    const types = this.#types;
    return typeof types === 'function' ? types(name) : Object.hasOwn(types, name) ? types[name] : undefined;
  }

  toString(): string {
    return `${this.name} {${this.iid}}`;
  }
}

const isLazy = (methods: MethodSources): methods is Extract<MethodSources, { names: readonly string[] }> =>
  Array.isArray((methods as { names?: unknown }).names) && typeof (methods as { source?: unknown }).source === 'function';

/**
 * A parsed method. Its koffi prototypes are made on first use: a JS vtable needs them for every
 * slot whose stub is a koffi callback (not IUnknown's, when it is native code), a caller only for
 * the slots it calls.
 */
class Method implements MethodInfo {
  readonly name: string;
  readonly slot: number;
  readonly owner: ComInterface<any>;
  readonly signature: ParsedSignature;
  readonly unavailable?: string;
  #prototypes: MethodPrototypes | undefined;

  constructor(name: string, slot: number, owner: ComInterface<any>, signature: ParsedSignature, unavailable?: string) {
    this.name = name;
    this.slot = slot;
    this.owner = owner;
    this.signature = signature;
    if (unavailable !== undefined) this.unavailable = unavailable;
  }

  get prototypes(): MethodPrototypes {
    return (this.#prototypes ??= methodPrototypes(this.signature));
  }
}

/**
 * Declares a COM interface.
 *
 * @example
 * interface Adder { Add(a: number, b: number): number }
 * const IAdder = defineInterface<Adder>({
 *   name: 'IAdder',
 *   iid: '6f8e7a3a-29c4-4a0e-9d0b-6a1c0f6d2b11',
 *   base: IUnknown,
 *   methods: { Add: 'HRESULT (int32_t a, int32_t b, _Out_ int32_t *sum)' },
 * });
 */
export function defineInterface<M extends object = {}>(definition: InterfaceDefinition): ComInterface<M> {
  if (definition === null || typeof definition !== 'object') throw new TypeError('defineInterface: expected a definition object');
  const { name, base, methods, types } = definition;
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.`]*$/.test(name)) {
    throw new TypeError(`defineInterface: name must be an identifier, got ${JSON.stringify(name)}`);
  }
  if (!(base instanceof ComInterface)) throw new TypeError(`defineInterface(${name}): base must be an interface such as IUnknown or IInspectable`);
  if (methods === null || typeof methods !== 'object') throw new TypeError(`defineInterface(${name}): methods must be an object of signatures`);
  const iid = Guid.from(definition.iid);
  return registerInterface(new ComInterface<M>(name, iid, base, methods, types));
}

/** @internal Makes an interface resolvable by name in signatures. */
export function registerInterface<M extends object>(iface: ComInterface<M>): ComInterface<M> {
  const list = byName.get(iface.name) ?? [];
  list.push(iface);
  byName.set(iface.name, list);
  return iface;
}
