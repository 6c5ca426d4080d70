// Projected WinRT objects: what C#/WinRT and C++/WinRT give their users, in JS. An object exposes
// the members of every interface its class lists — properties as getters/setters (get_X/put_X),
// events as `onX(handler)` returning a subscription (add_X/remove_X), methods by their ABI names —
// and converts values by the declared types: objects are projected again, JS functions become
// delegates, JS arrays become IIterable/IVectorView implementations, IReference<T> is unboxed, and
// asynchronous operations are awaitable.
import { ComError } from '../com/hresult.js';
import { ComInterface } from '../com/interface.js';
import { createObject } from '../com/implement.js';
import { ComPtr, isForeign, ownPointer, releaseOwned, setInterfaceAdapter, toComPtr, type Com } from '../com/pointer.js';
import { boxReference } from './reference.js';
import { subscription, type Subscription } from './subscription.js';
import { collectionMembers, iterableImplementation } from './collections.js';
import { asyncMembers } from './async.js';
import { planMembers, type MemberSource } from './members.js';
import { resolveType, type MethodDescriptor, type ParamDescriptor, type ResolvedInterface, type ResolvedType } from './types.js';

type InterfaceType = ResolvedInterface;

export type { Subscription } from './subscription.js';

/** A projected WinRT object: the members of its class's interfaces, plus these. */
export class WinRTObject {
  readonly #type: ResolvedType;
  readonly #pointers = new Map<ComInterface<any>, ComPtr<any>>();
  readonly #primary: ComPtr<any>;

  /** @internal Use {@link project}. Takes over `pointer`'s reference. */
  constructor(pointer: ComPtr<any>, type: ResolvedType) {
    this.#type = type;
    this.#primary = pointer;
    this.#pointers.set(pointer.interface, pointer);
    ownPointer(pointer, `a projected ${type.name}`);
  }

  /** The WinRT type this object was projected as (its runtime class, or the interface it came as). */
  get winrtType(): string {
    return this.#type.name;
  }

  /**
   * The object's interface `iface` (QueryInterface once, then cached), for calls. It stays this
   * object's: disposing it (`using` included) throws, saying so; `as(iface)` gives a pointer of
   * your own.
   */
  comPtr<M extends object = {}>(iface?: ComInterface<M>): Com<M> {
    if (iface === undefined || iface === this.#primary.interface) return this.#primary as Com<M>;
    const wanted: ComInterface<any> = iface;
    const cached = this.#pointers.get(wanted);
    if (cached) return cached as Com<M>;
    const pointer: ComPtr<any> = this.#primary.as(wanted);
    this.#pointers.set(wanted, pointer);
    ownPointer(pointer, `a projected ${this.#type.name}`);
    return pointer as Com<M>;
  }

  /** Passing this object where an interface is expected passes the object itself. */
  [toComPtr](iface: ComInterface<any>): ComPtr<any> {
    return this.comPtr(iface);
  }

  /** A new ComPtr to interface `iface` of this object, which the caller disposes. */
  as<M extends object>(iface: ComInterface<M>): Com<M> {
    return this.#primary.as(iface);
  }

  /** Releases the object's references. Members throw ComError afterwards. */
  dispose(): void {
    for (const pointer of this.#pointers.values()) releaseOwned(pointer, false);
    this.#pointers.clear();
  }

  /**
   * Releases the object's references without blocking this thread on another process: a proxy's
   * Release travels to its process on a koffi worker thread (see {@link disposeComPtr}). Settles
   * when every release has been made; never rejects.
   */
  disposeAsync(): Promise<void> {
    const pointers = [...this.#pointers.values()];
    this.#pointers.clear();
    return Promise.all(pointers.map((pointer) => releaseOwned(pointer, isForeign(pointer)))).then(() => undefined);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `[${this.#type.name}]`;
  }
}

// ---------------------------------------------------------------------------------------------
// Values in and out.

/** Projects an interface pointer received as type `typeName` (a ComPtr whose reference it takes). */
export function project(value: unknown, type: ResolvedType): unknown {
  if (!(value instanceof ComPtr)) return value;
  if (type.kind === 'interface' && type.definition === 'Windows.Foundation.IReference`1') {
    // IReference<T> is how WinRT boxes a value: the JS side sees the value, or null.
    const inner = type.scope.get('T')!;
    try {
      return project((value as Com<any>).get_Value(), inner);
    } finally {
      value.dispose();
    }
  }
  if (type.kind === 'interface' || type.kind === 'class') return wrap(value, type);
  return value;
}

/** Converts a JS argument for a parameter of type `type`. */
export function toABI(value: unknown, type: ResolvedType, where: string): unknown {
  if (value instanceof WinRTObject) {
    const iface = interfaceOfType(type);
    return iface ? value.comPtr(iface) : value.comPtr();
  }
  if (type.kind === 'delegate' && typeof value === 'function') return delegate(type as ResolvedInterface, value as (...args: unknown[]) => unknown);
  if (type.kind === 'interface' && value !== null && value !== undefined && !(value instanceof ComPtr)) {
    if (type.definition === 'Windows.Foundation.IReference`1') return boxReference(value, type as ResolvedInterface);
    const iterable = iterableImplementation(value, type as ResolvedInterface);
    if (iterable) return iterable;
  }
  if (type.kind === 'enum' && typeof value === 'string') {
    const numeric = type.values[value];
    if (numeric === undefined) throw new TypeError(`${where}: ${JSON.stringify(value)} is not a ${type.name} (${Object.keys(type.values).join(', ')})`);
    return numeric;
  }
  return value;
}

// JS values returned by JS implementations (or passed to ComPtr methods) where a WinRT interface
// is expected get the same conversions as arguments of projected methods.
const typesOfInterfaces = new WeakMap<ComInterface<any>, ResolvedType | null>();
setInterfaceAdapter((value, iface, where) => {
  if (value instanceof WinRTObject) return null; // passed as itself (toComPtr), never adapted
  let type = typesOfInterfaces.get(iface);
  if (type === undefined) {
    try {
      type = resolveType(iface.name);
    } catch {
      type = null; // not a WinRT interface of the projection
    }
    typesOfInterfaces.set(iface, type);
  }
  if (type === null) return null;
  const converted = toABI(value, type, where);
  return converted instanceof ComPtr ? converted : null;
});

function interfaceOfType(type: ResolvedType): ComInterface<any> | null {
  if (type.kind === 'interface' || type.kind === 'delegate') return type.iface;
  if (type.kind === 'class') return type.defaultInterface;
  return null;
}

/** A JS function as a WinRT delegate: its arguments are projected, its result passed back. */
export function delegate(type: ResolvedInterface, fn: (...args: unknown[]) => unknown): Com {
  const descriptor = type.descriptor as { params: readonly ParamDescriptor[]; returns?: string | null };
  const params = descriptor.params.map(([, typeName]) => lazyType(typeName, type.scope));
  const returns = descriptor.returns ? lazyType(descriptor.returns, type.scope) : null;
  return createObject({
    Invoke: (...args: unknown[]) => {
      const result = fn(...args.map((arg, i) => project(arg, params[i]!())));
      return returns ? toABI(result, returns(), `${type.name} result`) : result;
    },
  }, [type.iface]);
}

function lazyType(typeName: string, scope: ReadonlyMap<string, ResolvedType>): () => ResolvedType {
  let type: ResolvedType | undefined;
  return () => (type ??= resolveType(typeName, scope));
}

// ---------------------------------------------------------------------------------------------
// Members.

const NO_ARGUMENTS: unknown[] = [];

type Constructor = new (pointer: ComPtr<any>, type: ResolvedType) => WinRTObject;
const classes = new Map<string, Constructor>();

/** Projects `pointer` (taking its reference) as an object of `type`: its class's members. */
export function wrap(pointer: ComPtr<any>, type: ResolvedType): WinRTObject {
  return new (classFor(type))(pointer, type);
}

function classFor(type: ResolvedType): Constructor {
  let cls = classes.get(type.name);
  if (cls) return cls;
  cls = class extends WinRTObject {};
  Object.defineProperty(cls, 'name', { value: type.name.replace(/.*\./, '').replace(/[`<].*/, '') });
  const interfaces = interfacesOf(type);
  installMembers(cls.prototype, interfaces, (self, iface) => (self as WinRTObject).comPtr(iface));
  for (const iface of interfaces) {
    collectionMembers(cls.prototype, iface);
    asyncMembers(cls.prototype, iface);
  }
  classes.set(type.name, cls);
  return cls;
}

/** The interfaces whose members a type's objects expose: a class's list, or an interface and what it requires. */
export function interfacesOf(type: ResolvedType): InterfaceType[] {
  const seen = new Map<string, InterfaceType>();
  const add = (name: string, scope: ReadonlyMap<string, ResolvedType>): void => {
    let resolved: ResolvedType;
    try {
      resolved = resolveType(name, scope);
    } catch {
      return; // an interface of the class that is not projected: its members are simply absent
    }
    if (resolved.kind !== 'interface' || seen.has(resolved.name)) return;
    seen.set(resolved.name, resolved as ResolvedInterface);
    const descriptor = resolved.descriptor as { requires?: readonly string[] };
    for (const required of descriptor.requires ?? []) add(required, resolved.scope);
  };
  if (type.kind === 'class') {
    const descriptor = type.descriptor;
    if (descriptor.default) add(descriptor.default, new Map());
    for (const name of descriptor.interfaces) add(name, new Map());
  } else if (type.kind === 'interface') {
    add(type.name, new Map());
  }
  return [...seen.values()];
}

/**
 * Defines, on `target`, the members of `interfaces`: the first interface to name a member wins
 * (the default interface comes first). `pointerOf` gives the interface pointer to call.
 */
export function installMembers(target: object, interfaces: readonly InterfaceType[], pointerOf: (self: object, iface: ComInterface<any>) => Com<any>): void {
  const taken = new Set<string>(Object.getOwnPropertyNames(target));
  const define = (name: string, descriptor: PropertyDescriptor): void => void Object.defineProperty(target, name, { configurable: true, ...descriptor });
  for (const type of interfaces) {
    const methods = (type.descriptor as { methods: readonly MethodDescriptor[] }).methods;
    const call = (method: MethodDescriptor): ((self: object, args: unknown[]) => unknown) => invoker(type, method, pointerOf);
    for (const member of planMembers(methods, describeMethod, taken)) {
      switch (member.kind) {
        case 'property': {
          const get = member.getter ? call(member.getter) : undefined;
          const set = member.setter ? call(member.setter) : undefined;
          define(member.name, {
            get: get ? function (this: object): unknown { return get(this, NO_ARGUMENTS); } : undefined,
            set: set ? function (this: object, value: unknown): void { set(this, [value]); } : undefined,
          });
          break;
        }
        case 'event': {
          const add = call(member.add);
          const remove = call(member.remove);
          define(member.name, {
            writable: true,
            value: function (this: object, handler: unknown): Subscription {
              const token = add(this, [handler]);
              return subscription(() => remove(this, [token]));
            },
          });
          break;
        }
        case 'method': {
          const invoke = call(member.method);
          define(member.name, { writable: true, value: function (this: object, ...args: unknown[]): unknown { return invoke(this, args); } });
          break;
        }
        case 'overloads': {
          // IsApiContractPresent picks IsApiContractPresentByMajor or …ByMajorAndMinor by arity, as C# would.
          const byArity = new Map([...member.byArity].map(([arity, method]) => [arity, call(method)] as const));
          const arities = [...byArity.keys()].sort().join(' or ');
          define(member.name, {
            writable: true,
            value: function (this: object, ...args: unknown[]): unknown {
              const invoke = byArity.get(args.length);
              if (!invoke) throw new TypeError(`${type.name}.${member.name} takes ${arities} arguments, got ${args.length}`);
              return invoke(this, args);
            },
          });
          break;
        }
      }
    }
  }
}

const isOut = ([, , flow]: ParamDescriptor): boolean => flow === 'out' || flow === 'receive';

function describeMethod([abi, params, , metadata]: MethodDescriptor): MemberSource {
  return { abi, metadata: metadata ?? abi, arity: params.filter((p) => !isOut(p)).length };
}

/** Calls one method: arguments converted by their declared types, results projected. */
function invoker(type: InterfaceType, method: MethodDescriptor, pointerOf: (self: object, iface: ComInterface<any>) => Com<any>): (self: object, args: unknown[]) => unknown {
  const [name, params, returns] = method;
  const where = `${type.name}.${name}`;
  const ins = params.filter((p) => !isOut(p));
  const outs = params.filter(isOut);
  const inTypes = ins.map(([, typeName]) => lazyType(typeName, type.scope));
  const outTypes = [...outs.map(([, typeName]) => typeName), ...(returns ? [returns] : [])].map((t) =>
    t.endsWith('[]') ? { array: true, type: lazyType(t.slice(0, -2), type.scope) } : { array: false, type: lazyType(t, type.scope) },
  );
  const receiveFlags = outs.map(([, , flow]) => flow === 'receive');
  if (ins.length === 0 && outTypes.length === 1 && !outTypes[0]!.array && !receiveFlags[0]) {
    // A property read (or any method of one result and no argument): the hot path, no arrays.
    const outType = outTypes[0]!.type;
    return (self, args) => {
      if (args.length > 0) throw new TypeError(`${where} takes no arguments, got ${args.length}`);
      const pointer = pointerOf(self, type.iface) as unknown as Record<string, () => unknown>;
      const result = pointer[name]!();
      return result instanceof ComPtr ? project(result, outType()) : result;
    };
  }
  return (self, args) => {
    if (args.length > ins.length) throw new TypeError(`${where} takes ${ins.length} argument${ins.length === 1 ? '' : 's'}, got ${args.length}`);
    const converted = ins.map(([paramName, , flow], i) => {
      const value = args[i];
      if (flow === 'pass' || flow === 'fill') {
        if (!Array.isArray(value)) throw new TypeError(`${where}: ${paramName} must be an array`);
        return flow === 'pass' ? value.map((v) => toABI(v, inTypes[i]!(), `${where}: ${paramName}`)) : value;
      }
      return toABI(value, inTypes[i]!(), `${where}: ${paramName}`);
    });
    const pointer = pointerOf(self, type.iface);
    const fn = (pointer as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
    if (typeof fn !== 'function') throw new ComError(-2147467263 /* E_NOTIMPL */, `${where} is not callable`);
    const result = fn.apply(pointer, converted);
    // Fill arrays were filled in place by the ComPtr layer; project their elements too.
    ins.forEach(([, , flow], i) => {
      if (flow === 'fill') (converted[i] as unknown[]).forEach((v, k, a) => (a[k] = project(v, inTypes[i]!())));
    });
    if (outTypes.length === 0) return undefined;
    const values = outTypes.length === 1 ? [result] : (result as unknown[]);
    const projected = values.map((v, i) => {
      const { array, type: typeOf } = outTypes[i]!;
      return array || receiveFlags[i] ? (v as unknown[]).map((e) => project(e, typeOf())) : project(v, typeOf());
    });
    return projected.length === 1 ? projected[0] : projected;
  };
}
