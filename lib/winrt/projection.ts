// Projected WinRT objects: what C#/WinRT and C++/WinRT give their users, in JS. An object exposes
// the members of every interface its class lists — properties as getters/setters (get_X/put_X),
// events as `onX(handler)` returning a subscription (add_X/remove_X), methods by their ABI names —
// and converts values by the declared types: objects are projected again, JS functions become
// delegates, JS arrays become IIterable/IVectorView implementations, IReference<T> is unboxed, and
// asynchronous operations are awaitable.
import { compile, compileClass } from '../com/compile.js';
import { youngBatch } from '../com/young.js';
import { ComError } from '../com/hresult.js';
import { ComInterface } from '../com/interface.js';
import { createObject } from '../com/implement.js';
import { ComPtr, holdWithPointer, identityKey, INSPECT, isForeign, ownPointer, PTR_STATE, setHolderSettling, releaseOwned, releaseOwnedState, setInterfaceAdapter, toComPtr, type Com, type PtrState } from '../com/pointer.js';
import { boxReference } from './reference.js';
import { subscription, type Subscription } from './subscription.js';
import { collectionMembers, iterableImplementation } from './collections.js';
import { asyncMembers } from './async.js';
import { planMembers, type MemberSource } from './members.js';
import { resolveType, type MethodDescriptor, type ParamDescriptor, type ResolvedInterface, type ResolvedType } from './types.js';

type InterfaceType = ResolvedInterface;
/** A COM identity: its IUnknown's address as a number (pointer.ts, identityKey). */
type Identity = number | bigint;

export type { Subscription } from './subscription.js';

/**
 * A projected object's state, one object of one shape under the symbol OBJECT_STATE, for the
 * reason ComPtr's is (pointer.ts, PtrState): a class per projected type gives these objects many
 * hidden classes, so the state is read where the class is known (the members classFor compiles,
 * and the property reads compiledRead compiles) and handed to shared code, which sees one shape.
 */
interface ObjectState {
  type: ResolvedType;
  /** The other interfaces' pointers, once one is used (most objects are used through one). */
  pointers: Map<ComInterface<any>, ComPtr<any>> | null;
  readonly primary: ComPtr<any>;
  /** primary's state, which releasing it takes. */
  readonly primaryState: PtrState;
  /** primary.interface, kept here: member calls compare with it on every call. */
  readonly primaryInterface: ComInterface<any>;
  readonly identity: Identity;
  receipts: number;
  /** The wrapper, for its weak reference and its registration (holdWeakly). */
  readonly self: WinRTObject;
}

const OBJECT_STATE: unique symbol = Symbol('winbg.WinRTObject.state');

/** An ObjectState, made by a constructor for the reason pointer.ts gives for its StateRecord (V8's pretenuring of literals). */
class ObjectRecord implements ObjectState {
  declare type: ResolvedType;
  declare pointers: Map<ComInterface<any>, ComPtr<any>> | null;
  declare readonly primary: ComPtr<any>;
  declare readonly primaryState: PtrState;
  declare readonly primaryInterface: ComInterface<any>;
  declare readonly identity: Identity;
  declare receipts: number;
  declare readonly self: WinRTObject;
  constructor(type: ResolvedType, primary: ComPtr<any>, primaryState: PtrState, identity: Identity, self: WinRTObject) {
    this.type = type;
    this.pointers = null;
    this.primary = primary;
    this.primaryState = primaryState;
    this.primaryInterface = primaryState.iface;
    this.identity = identity;
    this.receipts = 1;
    this.self = self;
  }
}

/**
 * A projected WinRT object: the members of its class's interfaces, plus these.
 *
 * There is one per COM object (identity, as C#/WinRT keeps one RCW per object): receiving the
 * same object again — as a result, as an event's sender, as another interface — gives the same
 * JS object, so `===` compares objects, an operation is awaited once, and what you set on it is
 * there for every holder. Each receipt (a result, an out-parameter) counts once: `dispose()` gives
 * one back, and the object's references are released when every receipt is given back, or when
 * the wrapper is collected. An event handler's arguments are lent for the call: an object you
 * hold already comes as itself and adds no receipt, so handlers need not dispose them.
 */
export class WinRTObject {
  /** @internal Set by its class's constructor (see {@link ObjectState}). */
  declare readonly [OBJECT_STATE]: ObjectState;

  /** @internal Use {@link project}; the classes of classFor set the state. */
  constructor() {
    if (new.target === WinRTObject) throw new TypeError('WinRTObject: objects are made by project(pointer, type) and the projected classes');
  }

  /** The WinRT type this object was projected as (its runtime class, or the interface it came as). */
  get winrtType(): string {
    return this[OBJECT_STATE].type.name;
  }

  /**
   * The object's interface `iface` (QueryInterface once, then cached), for calls. It stays this
   * object's: disposing it (`using` included) throws, saying so; `as(iface)` gives a pointer of
   * your own.
   */
  comPtr<M extends object = {}>(iface?: ComInterface<M>): Com<M> {
    return comPtrOf(this[OBJECT_STATE], iface) as Com<M>;
  }

  /** Passing this object where an interface is expected passes the object itself. */
  [toComPtr](iface: ComInterface<any>): ComPtr<any> {
    return comPtrOf(this[OBJECT_STATE], iface);
  }

  /** A new ComPtr to interface `iface` of this object, which the caller disposes. */
  as<M extends object>(iface: ComInterface<M>): Com<M> {
    return this[OBJECT_STATE].primary.as(iface);
  }

  /**
   * Gives back one receipt of the object; with the last, releases its references, and its
   * members throw ComError afterwards. Disposing more often than it was received does nothing.
   */
  dispose(): void {
    disposeObject(this[OBJECT_STATE]);
  }

  /**
   * {@link dispose} without blocking this thread on another process: a proxy's Release travels
   * to its process on a koffi worker thread (see {@link disposeComPtr}). Settles when every
   * release has been made; never rejects.
   */
  disposeAsync(): Promise<void> {
    const state = this[OBJECT_STATE];
    const others = giveBack(state);
    if (others === null) return Promise.resolve();
    const pointers = [state.primary, ...others];
    return Promise.all(pointers.map((pointer) => releaseOwned(pointer, isForeign(pointer)))).then(() => undefined);
  }

  [Symbol.dispose](): void {
    disposeObject(this[OBJECT_STATE]);
  }

  /** What console.log shows: {@link toString}. */
  [INSPECT](): string {
    return this.toString();
  }

  toString(): string {
    return `[${this[OBJECT_STATE].type.name}]`;
  }
}

/**
 * A new object's state: the object takes over `pointer`'s reference and owns the pointer, and is
 * its identity's wrapper (`entry`: what the identity map held for it).
 */
function newObjectState(pointer: ComPtr<any>, primaryState: PtrState, type: ResolvedType, identity: Identity, entry: Entry | undefined, owner: string, self: WinRTObject): ObjectState {
  primaryState.owner = owner; // ownPointer, by the state: `a projected ${type.name}`
  const state: ObjectState = new ObjectRecord(type, pointer, primaryState, identity, self);
  remember(state, entry);
  return state;
}

/** WinRTObject.comPtr, by the state. */
function comPtrOf(state: ObjectState, iface: ComInterface<any> | undefined): ComPtr<any> {
  if (iface === undefined || iface === state.primaryInterface) return state.primary;
  const cached = state.pointers?.get(iface);
  if (cached) return cached;
  const pointer: ComPtr<any> = state.primary.as(iface);
  keepPointer(state, iface, pointer);
  return pointer;
}

/** Keeps `pointer`, of interface `iface`, as one of the object's own (their owner releases them). */
function keepPointer(state: ObjectState, iface: ComInterface<any>, pointer: ComPtr<any>): void {
  (state.pointers ??= new Map()).set(iface, pointer);
  ownPointer(pointer, `a projected ${state.type.name}`);
}

/** Another receipt of the object, as `pointer` (whose reference it takes); false once the object is released. */
function receiveAgain(state: ObjectState, pointer: ComPtr<any>, pointerState: PtrState, type: ResolvedType, lent: boolean): boolean {
  if (state.receipts === 0) return false; // released already: the caller makes a new one
  const iface = pointerState.iface;
  // The pointer first (dispose throws for a pointer another object owns): a receipt is counted
  // only for a pointer taken.
  if (iface === state.primaryInterface || state.pointers?.has(iface)) pointer.dispose();
  else keepPointer(state, iface, pointer);
  if (!lent) state.receipts++;
  if (type.kind === 'class' && state.type.kind !== 'class') state.type = type;
  return true;
}

const NO_POINTERS: readonly ComPtr<any>[] = Object.freeze([]);

/**
 * Gives back one receipt: with the last, the object leaves the identity map, and the pointers it
 * held besides the primary are returned for releasing; null before the last receipt.
 */
function giveBack(state: ObjectState): readonly ComPtr<any>[] | null {
  if (state.receipts === 0 || --state.receipts > 0) return null;
  forget(state.identity);
  const others = state.pointers === null ? NO_POINTERS : [...state.pointers.values()];
  state.pointers = null;
  return others;
}

/** WinRTObject.dispose, by the state. */
function disposeObject(state: ObjectState): void {
  const others = giveBack(state);
  if (others === null) return;
  releaseOwnedState(state.primaryState, false);
  for (const pointer of others) releaseOwned(pointer, false);
}

// One wrapper per COM identity, held weakly: the entry goes when the wrapper is released or
// collected. While a wrapper lives it holds a reference, so its identity's address cannot be
// reused by another object.
//
// A WeakRef costs a microsecond in V8, and a FinalizationRegistry entry with an unregister token
// more than half of one, while most wrappers are disposed as soon as they are used (a result
// read and released). So a new wrapper is held strongly until the next microtask (young.ts, as
// the ComPtr layer does with its own): then, if it is still held, it becomes a WeakRef and is
// registered; a wrapper disposed before never costs either. Registrations are
// never unregistered: the finalizer only deletes the entry if it is still the collected one's.
//
// A released wrapper's entry is set to null, not deleted: a V8 Map that deletes and inserts keeps
// compacting its table, and the allocator hands the same addresses out again (an iterator taken
// and released in a loop is the same few identities), so the next wrapper of that identity
// overwrites the entry in place. Measured on First().dispose() in a loop (the benchmark's
// projectedCall, alone), with the batch change below: 785 against 908 ns, minimum of 6 runs. Vacant entries are swept once they outnumber the
// live ones and 256: the map holds at most the live entries plus the larger of them and 256
// (a collected wrapper's entry is deleted by the finalizer, without a sweep).
/** An identity's entry: its wrapper, strongly while young, then weakly; null once released. */
type Entry = WinRTObject | WeakRef<WinRTObject> | null;
const byIdentity = new Map<Identity, Entry>();
let vacant = 0;
const SWEEP_AFTER = 256;
const collected = new FinalizationRegistry<Identity>((identity) => {
  const entry = byIdentity.get(identity);
  if (entry instanceof WeakRef && entry.deref() === undefined) byIdentity.delete(identity);
});

/** @internal For tests: the identity map's entries, and how many of them are vacant. */
export function identityEntries(): { entries: number; vacant: number } {
  return { entries: byIdentity.size, vacant };
}

function deref(entry: Entry | undefined): WinRTObject | undefined {
  return entry == null ? undefined : entry instanceof WeakRef ? entry.deref() : entry;
}

/** A new wrapper, held strongly until the next microtask, then weakly if it is still the identity's. */
const holdWeakly = youngBatch<ObjectState>((batch) => {
  for (const state of batch) settle(state);
});

/** A wrapper, still its identity's, held weakly from now on. */
function settle(state: ObjectState): void {
  if (state.receipts === 0) return; // released meanwhile: its entry is vacant or another's
  byIdentity.set(state.identity, new WeakRef(state.self));
  collected.register(state.self, state.identity);
}
// Most wrappers take over a pointer made in the same synchronous run, which the ComPtr layer's
// batch settles anyway: the wrapper settles with it (pointer.ts, PtrState.holder).
setHolderSettling((holder) => settle(holder as ObjectState));

/** `entry`: what the map held for `identity` (a vacant entry is taken over). */
function remember(state: ObjectState, entry: Entry | undefined): void {
  if (entry === null) vacant--;
  byIdentity.set(state.identity, state.self);
  if (!holdWithPointer(state.primaryState, state)) holdWeakly(state);
}

/**
 * Vacates the entry of `identity`, whose wrapper gives back its last receipt now. The entry is that
 * wrapper's, without looking: a wrapper with receipts is its identity's entry (wrapState replaces
 * an entry only when its wrapper is released or collected, and the finalizer deletes only a
 * collected one's), so the lookup this took before was one Map operation of four for nothing.
 */
function forget(identity: Identity): void {
  byIdentity.set(identity, null);
  if (++vacant > SWEEP_AFTER && vacant * 2 > byIdentity.size) {
    for (const [key, entry] of byIdentity) if (entry === null) byIdentity.delete(key);
    vacant = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Values in and out.

/**
 * Projects an interface pointer received as type `type` (a ComPtr whose reference it takes).
 * `lent`: an argument of a call into JS (a delegate's), which adds no receipt to an object
 * projected already (see {@link WinRTObject}).
 */
export function project(value: unknown, type: ResolvedType, lent = false): unknown {
  return value instanceof ComPtr ? projectState(value, value[PTR_STATE], type, lent) : value;
}

/** {@link project} of a ComPtr, with its state read where its class is known. */
function projectState(value: ComPtr<any>, pointerState: PtrState, type: ResolvedType, lent: boolean): unknown {
  if (isReference(type)) {
    // IReference<T> is how WinRT boxes a value: the JS side sees the value, or null.
    const inner = (type as ResolvedInterface).scope.get('T')!;
    try {
      return project((value as Com<any>).get_Value(), inner, lent);
    } finally {
      value.dispose();
    }
  }
  if (type.kind === 'interface' || type.kind === 'class') return wrapState(value, pointerState, type, lent);
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
      const result = fn(...args.map((arg, i) => project(arg, params[i]!(), true)));
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

type Constructor = new (pointer: ComPtr<any>, pointerState: PtrState, type: ResolvedType, identity: Identity, entry: Entry | undefined, owner: string) => WinRTObject;
const classes = new Map<string, ProjectedClass>();

/**
 * Projects `pointer` (taking its reference) as an object of `type`: its class's members. The
 * object already projected, when there is one, with `type`'s members added where it lacked them.
 */
export function wrap(pointer: ComPtr<any>, type: ResolvedType, lent = false): WinRTObject {
  return wrapState(pointer, pointer[PTR_STATE], type, lent);
}

/** {@link wrap}, with the pointer's state read where its class is known. */
function wrapState(pointer: ComPtr<any>, pointerState: PtrState, type: ResolvedType, lent: boolean): WinRTObject {
  let identity: Identity;
  try {
    identity = identityKey(pointerState);
  } catch (error) {
    pointer.dispose();
    throw error;
  }
  const entry = byIdentity.get(identity);
  const existing = deref(entry);
  if (existing && receiveAgain(existing[OBJECT_STATE], pointer, pointerState, type, lent)) {
    const current = Object.getPrototypeOf(existing).constructor as ProjectedClass;
    const next = withType(current, type);
    if (next !== current) Object.setPrototypeOf(existing, next.prototype);
    return existing;
  }
  // The last type's class (and its pointers' owner), without the WeakMap: results come in runs of one type.
  if (type !== recent.type) {
    let cls = classOfType.get(type);
    if (cls === undefined) classOfType.set(type, (cls = classFor([type])));
    recent.type = type;
    recent.cls = cls;
    recent.owner = `a projected ${type.name}`;
  }
  return new recent.cls!(pointer, pointerState, type, identity, entry, recent.owner);
}

type ProjectedClass = Constructor & { readonly types: readonly ResolvedType[]; readonly interfaceNames: ReadonlySet<string> };
const transitions = new WeakMap<ProjectedClass, Map<string, ProjectedClass>>();
/** classFor([type]), without building its key for every object. */
const classOfType = new WeakMap<ResolvedType, ProjectedClass>();
const recent: { type: ResolvedType | null; cls: ProjectedClass | undefined; owner: string } = { type: null, cls: undefined, owner: '' };

/** The class of an object of `current`'s types that is also a `type`: `current` when it has every member already. */
function withType(current: ProjectedClass, type: ResolvedType): ProjectedClass {
  let byType = transitions.get(current);
  if (!byType) transitions.set(current, (byType = new Map()));
  let next = byType.get(type.name);
  if (!next) {
    const covered = current.types.some((t) => t.name === type.name) || interfacesOf(type).every((i) => current.interfaceNames.has(i.name));
    // A runtime class leads: its default interface's members come first, as they would have.
    next = covered ? current : classFor(type.kind === 'class' ? [type, ...current.types] : [...current.types, type]);
    byType.set(type.name, next);
  }
  return next;
}

function classFor(types: readonly ResolvedType[]): ProjectedClass {
  const key = types.map((t) => t.name).join('|');
  let cls = classes.get(key);
  if (cls) return cls;
  const interfaces = [...new Map(types.flatMap(interfacesOf).map((i) => [i.name, i] as const)).values()];
  // Named where it is made (compile.ts, compileClass, says why), and its constructor compiled for
  // it, so that its store of the state sees this class alone. The name: the type's, without its
  // namespace or type arguments (IIterator for IIterator`1<Windows.Foundation.Uri>).
  const name = types[0]!.name.replace(/[`<].*/, '').replace(/.*\./, '');
  const made = compileClass<Constructor>(name, ['Base', 'S', 'h'], `class extends Base {
      constructor(pointer, pointerState, type, identity, entry, owner) {
        super();
        this[S] = h.newObjectState(pointer, pointerState, type, identity, entry, owner, this);
      }
    }`, [WinRTObject, OBJECT_STATE, { newObjectState }]) ?? { [name]: class extends WinRTObject {
    constructor(pointer: ComPtr<any>, pointerState: PtrState, type: ResolvedType, identity: Identity, entry: Entry | undefined, owner: string) {
      super();
      (this as { [OBJECT_STATE]: ObjectState })[OBJECT_STATE] = newObjectState(pointer, pointerState, type, identity, entry, owner, this);
    }
  } }[name]!;
  cls = Object.assign(made, { types, interfaceNames: new Set(interfaces.map((i) => i.name)) });
  compiledMembers(cls.prototype);
  installMembers(cls.prototype, interfaces, objectPointer);
  for (const iface of interfaces) {
    collectionMembers(cls.prototype, iface);
    asyncMembers(cls.prototype, iface);
  }
  classes.set(key, cls);
  return cls;
}

/** What the members compiled by {@link compiledMembers} reach. */
const classHelpers = { comPtrOf, disposeObject };

/**
 * Defines on `prototype` (a projected class's) its own comPtr and dispose, compiled for it
 * (compile.ts) so that their reads of the state see this class alone (see {@link ObjectState});
 * where code is not compiled, WinRTObject's own serve.
 */
function compiledMembers(prototype: object): void {
  const members = compile<Record<string, (this: WinRTObject, ...args: any[]) => unknown>>(['S', 'h'], `
    'use strict';
    return {
      comPtr(iface) { return h.comPtrOf(this[S], iface); },
      dispose() { h.disposeObject(this[S]); },
    };`, [OBJECT_STATE, classHelpers]);
  if (members === null) return;
  for (const [name, value] of Object.entries(members)) Object.defineProperty(prototype, name, { value, writable: true, configurable: true });
  Object.defineProperty(prototype, Symbol.dispose, { value: members.dispose, writable: true, configurable: true });
}

/** The interface pointer a projected object's members call (compiledRead reads the state itself for these). */
const objectPointer = (self: object, iface: ComInterface<any>): Com<any> => comPtrOf((self as WinRTObject)[OBJECT_STATE], iface) as Com<any>;

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
          // The invoker only where the read is not compiled (compiledRead): it is not built twice.
          const read = (getter: MethodDescriptor): (() => unknown) => {
            const get = call(getter);
            return function (this: object): unknown { return get(this, NO_ARGUMENTS); };
          };
          const set = member.setter ? call(member.setter) : undefined;
          define(member.name, {
            get: member.getter ? (compiledRead(type, member.getter, pointerOf) ?? read(member.getter)) : undefined,
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
          let value: unknown = compiledRead(type, member.method, pointerOf);
          if (value === null) {
            const invoke = call(member.method);
            value = function (this: object, ...args: unknown[]): unknown { return invoke(this, args); };
          }
          define(member.name, { writable: true, value });
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

/**
 * A property read or a method of no argument and one result (not an array), compiled for that
 * member (compile.ts): its own code, so that V8 sees one interface pointer and one ComPtr method
 * at each of its call sites, where the shared closures below see every member's. The member's
 * ABI name reaches the text only as a JSON string. Null for other shapes, or where code is not
 * compiled (the closures do the same work).
 */
function compiledRead(type: InterfaceType, method: MethodDescriptor, pointerOf: (self: object, iface: ComInterface<any>) => Com<any>): (() => unknown) | null {
  const [name, params, returns] = method;
  const outs = params.filter(isOut);
  const ins = params.length - outs.length;
  const results = [...outs.map(([, typeName]) => typeName), ...(returns ? [returns] : [])];
  if (ins !== 0 || results.length !== 1 || results[0]!.endsWith('[]') || outs.some(([, , flow]) => flow === 'receive')) return null;
  const outType = lazyType(results[0]!, type.scope);
  const where = `${type.name}.${name}`;
  // A projected object's own members read its state here, at a site that sees its class alone
  // (ObjectState); and the state of an interface result, of the one class of its interface.
  const pointer = pointerOf === objectPointer
    ? `const s = this[O]; const pointer = iface === s.primaryInterface ? s.primary : h.comPtrOf(s, iface);`
    : `const pointer = pointerOf(this, iface);`;
  return compile<() => unknown>(['pointerOf', 'iface', 'ComPtr', 'h', 'outType', 'where', 'O', 'P'], `
    'use strict';
    let projector;
    return function read() {
      if (arguments.length > 0) throw new TypeError(where + ' takes no arguments, got ' + arguments.length);
      ${pointer}
      const result = pointer[${JSON.stringify(name)}]();
      return result instanceof ComPtr ? (projector ??= h.projectorOf(outType()))(result, result[P]) : result;
    };`, [pointerOf, type.iface, ComPtr, readHelpers, outType, where, OBJECT_STATE, PTR_STATE]);
}

/** What the reads compiled by {@link compiledRead} reach. */
const readHelpers = { comPtrOf, projectorOf };

/**
 * How an interface pointer received as `type` is projected, decided once for a member's result:
 * so that the shared code after it (wrapState) sees only the types of interfaces and classes, and
 * the decision, which reads the type's fields, is made at a site that sees one type.
 */
function projectorOf(type: ResolvedType): (value: ComPtr<any>, state: PtrState) => unknown {
  if ((type.kind === 'interface' || type.kind === 'class') && !isReference(type)) return (value, state) => wrapState(value, state, type, false);
  return (value, state) => projectState(value, state, type, false);
}

/** IReference<T>, how WinRT boxes a value: projected as the value. */
function isReference(type: ResolvedType): boolean {
  return type.kind === 'interface' && type.definition === 'Windows.Foundation.IReference`1';
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
    // The ComPtr method, taken from its class once it is compiled (its first call installs it):
    // a keyed lookup by name here would see every projected member's name, and be slow for all.
    let direct: (() => unknown) | undefined;
    let calls = 0;
    return (self, args) => {
      if (args.length > 0) throw new TypeError(`${where} takes no arguments, got ${args.length}`);
      const pointer = pointerOf(self, type.iface) as unknown as Record<string, () => unknown>;
      const result = direct !== undefined ? direct.call(pointer) : pointer[name]!();
      if (direct === undefined && ++calls > 1) direct = pointer[name];
      return result instanceof ComPtr ? project(result, outType()) : result;
    };
  }
  let direct: ((...a: unknown[]) => unknown) | undefined;
  let calls = 0;
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
    const fn = direct ?? (pointer as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
    if (typeof fn !== 'function') throw new ComError(-2147467263 /* E_NOTIMPL */, `${where} is not callable`);
    const result = fn.apply(pointer, converted);
    // As above: the compiled ComPtr method from the second call on.
    if (direct === undefined && ++calls > 1) direct = (pointer as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
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
