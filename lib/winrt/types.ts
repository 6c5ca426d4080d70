// The Windows Runtime type system at run time. Generated projections register a compact
// description of every type (descriptors, below); types are then resolved by name in WinRT
// notation — 'Windows.Foundation.IAsyncOperation`1<Boolean>' — into what the COM runtime calls
// and implements: interfaces (instantiated generics included, with their pinterface IIDs),
// delegates, runtime classes, structs and enums.
import { Guid } from '../com/guid.js';
import { ComInterface, type LocalType, type MethodSource, type MethodSources } from '../com/interface.js';
import { defineStruct, GUID_STRUCT, type StructType } from '../com/struct.js';
import { IInspectable, IUnknown } from '../com/unknown.js';
import { guidSignature, iidFromSignature, pinterfaceSignature, PRIMITIVE_SIGNATURES } from './signature.js';

/** A parameter: name, WinRT type name, and how it travels ('out', or a WinRT array pattern). */
export type ParamDescriptor = readonly [name: string, type: string, flow?: 'out' | 'pass' | 'fill' | 'receive'];
/**
 * A method in vtable order: its ABI name (the Overload attribute's value where there is one),
 * its parameters, the return type (a trailing [out, retval] at the ABI; 'T[]' for a
 * ReceiveArray), and the metadata name when it differs from the ABI name.
 */
export type MethodDescriptor = readonly [name: string, params: readonly ParamDescriptor[], returns?: string | null, metadataName?: string];

export type TypeDescriptor =
  | { readonly kind: 'enum'; readonly type: 'Int32' | 'UInt32'; readonly values: Readonly<Record<string, number>> }
  | { readonly kind: 'struct'; readonly fields: readonly (readonly [name: string, type: string])[] }
  | {
      readonly kind: 'interface';
      readonly iid: string;
      readonly generics?: readonly string[];
      /** Interfaces an implementation must also implement (WinRT's "requires"). */
      readonly requires?: readonly string[];
      readonly methods: readonly MethodDescriptor[];
    }
  | { readonly kind: 'delegate'; readonly iid: string; readonly generics?: readonly string[]; readonly params: readonly ParamDescriptor[]; readonly returns?: string | null }
  | {
      readonly kind: 'class';
      /** The default interface (null for static-only classes). */
      readonly default: string | null;
      readonly interfaces: readonly string[];
      /** Activatable with no arguments (IActivationFactory::ActivateInstance). */
      readonly activatable?: boolean;
      /** Factory interfaces (Activatable with a factory type). */
      readonly factories?: readonly string[];
      readonly statics?: readonly string[];
    };

/**
 * A namespace registered as text (registerTypesText): a type a line, its name, a space and its
 * descriptor's JSON. Kept whole and searched on each first lookup: the text of every projected
 * type is a few hundred kilobytes, which V8 reads as one string literal per namespace several
 * times faster than as an object literal with a property per type.
 */
class NamespaceText {
  /** The text after a line break, so that every type's line starts with one. */
  readonly #text: string;

  constructor(text: string) {
    this.#text = `\n${text}`;
  }

  /** The JSON text of type `name`, if the namespace has it. */
  entry(name: string): string | undefined {
    const at = this.#text.indexOf(`\n${name} `);
    if (at < 0) return undefined;
    const start = at + name.length + 2;
    const end = this.#text.indexOf('\n', start);
    return this.#text.slice(start, end < 0 ? undefined : end);
  }

  names(): string[] {
    return [...this.#text.matchAll(/\n(\S+) /g)].map((m) => m[1]!);
  }
}

type Registration = Readonly<Record<string, TypeDescriptor | string>> | NamespaceText;

/** What registerTypes and registerTypesText were given, by namespace, latest last. */
const namespaces = new Map<string, Registration[]>();
/** Descriptors looked up so far (a type registered as text is parsed on its first lookup). */
const descriptors = new Map<string, TypeDescriptor>();
const hasOwn = (record: object, key: string): boolean => Object.prototype.hasOwnProperty.call(record, key);

/**
 * Called by generated projections: the types of one namespace, by their short names. A type's
 * descriptor may also be given as its JSON text, parsed on the first lookup of that type: a
 * projection registers every type it holds, and a served task uses a few dozen of them. A later
 * registration of a type replaces an earlier one.
 *
 * @example
 * registerTypes('Contoso.Sample', { Color: '{"kind":"enum","type":"Int32","values":{"Red":0}}' });
 * resolveType('Contoso.Sample.Color'); // parses Color's text here
 */
export function registerTypes(namespace: string, types: Readonly<Record<string, TypeDescriptor | string>>): void {
  checkNamespace('registerTypes', namespace);
  if (types === null || typeof types !== 'object' || Array.isArray(types)) {
    throw new TypeError(`registerTypes(${JSON.stringify(namespace)}): types must be a record of descriptors by name, got ${types === null ? 'null' : Array.isArray(types) ? 'an array' : typeof types}`);
  }
  register(namespace, types);
}

/**
 * Called by generated projections: the types of one namespace as one text, a type a line: its
 * short name, a space, and its descriptor's JSON. Each type is found and parsed on its first
 * lookup, as registerTypes' JSON text is; a later registration of a type replaces an earlier one.
 *
 * @example
 * registerTypesText('Contoso.Sample', 'Color {"kind":"enum","type":"Int32","values":{"Red":0}}\nSize {"kind":"struct","fields":[["Width","Int32"]]}');
 */
export function registerTypesText(namespace: string, text: string): void {
  checkNamespace('registerTypesText', namespace);
  if (typeof text !== 'string' || !/^(?:[A-Za-z_][A-Za-z0-9_`]* \S|$)/.test(text)) {
    throw new TypeError(`registerTypesText(${JSON.stringify(namespace)}): text must hold a type a line (its name, a space, its descriptor's JSON), got ${typeof text === 'string' ? JSON.stringify(text.slice(0, 40)) : typeof text}`);
  }
  register(namespace, new NamespaceText(text));
}

const NAMESPACE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function checkNamespace(caller: string, namespace: string): void {
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw new TypeError(`${caller}: namespace must be a dotted name such as 'Windows.Foundation', got ${JSON.stringify(namespace)}`);
  }
}

function register(namespace: string, registration: Registration): void {
  const records = namespaces.get(namespace) ?? [];
  records.push(registration);
  namespaces.set(namespace, records);
  // Only a type already looked up has a descriptor to forget (none, as a process starts).
  if (descriptors.size === 0) return;
  for (const name of namesOf(registration)) descriptors.delete(`${namespace}.${name}`);
}

const namesOf = (registration: Registration): string[] => (registration instanceof NamespaceText ? registration.names() : Object.keys(registration));

/** The descriptor of a type by its full name, parsed from its registered text on first use. */
function lookup(fullName: string): TypeDescriptor | undefined {
  const found = descriptors.get(fullName);
  if (found !== undefined) return found;
  // WinRT has no nested types: the namespace is everything before the last dot.
  const dot = fullName.lastIndexOf('.');
  const records = dot > 0 ? namespaces.get(fullName.slice(0, dot)) : undefined;
  if (records === undefined) return undefined;
  const name = fullName.slice(dot + 1);
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i]!;
    let entry: TypeDescriptor | string | undefined;
    if (record instanceof NamespaceText) {
      entry = record.entry(name);
      if (entry === undefined) continue;
    } else {
      if (!hasOwn(record, name)) continue;
      entry = record[name];
    }
    let descriptor: TypeDescriptor;
    if (typeof entry !== 'string') descriptor = entry!;
    else {
      try {
        descriptor = JSON.parse(entry) as TypeDescriptor;
      } catch (error) {
        throw new TypeError(`The descriptor registered for ${fullName} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (descriptor === null || typeof descriptor !== 'object' || typeof (descriptor as { kind?: unknown }).kind !== 'string') {
      throw new TypeError(`The descriptor registered for ${fullName} is not a type descriptor (an object with a kind)`);
    }
    descriptors.set(fullName, descriptor);
    return descriptor;
  }
  return undefined;
}

/** The descriptor of a registered type ('Windows.Foundation.IAsyncOperation`1'), if any. */
export function descriptorOf(fullName: string): TypeDescriptor | undefined {
  return lookup(fullName);
}

/** Every registered type name, sorted. */
export function registeredTypeNames(): string[] {
  const names = new Set<string>();
  for (const [namespace, records] of namespaces) for (const record of records) for (const name of namesOf(record)) names.add(`${namespace}.${name}`);
  return [...names].sort();
}

// ---------------------------------------------------------------------------------------------
// Type names in WinRT notation.

/** A parsed type name: a name and its type arguments; `array` for 'T[]'. */
export interface TypeName {
  readonly name: string;
  readonly args: readonly TypeName[];
  readonly array: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(`\d+)?$/;
const NAME_CHARS = /[A-Za-z0-9_.`]+/y;
/** A name without type arguments, array brackets or spaces: the whole of a TypeName. */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * Parses 'Windows.Foundation.Collections.IMapView`2<Guid, Windows.Foundation.Uri>' and the like.
 * A generic name may leave out its arity ('IVector<String>' is 'IVector`1<String>').
 * @throws TypeError naming the input and the position of the problem.
 */
export function parseTypeName(text: string): TypeName {
  if (typeof text !== 'string') throw new TypeError(`expected a WinRT type name, got ${typeof text}`);
  // Most names are plain ('Windows.ApplicationModel.Background.IBackgroundTask'): one test.
  if (PLAIN_NAME.test(text)) return { name: text, args: [], array: false };
  let at = 0;
  const fail = (what: string): never => {
    throw new TypeError(`Invalid WinRT type name ${JSON.stringify(text)}: ${what} at position ${at}`);
  };
  const space = (): void => {
    while (text[at] === ' ') at++;
  };
  const parse = (depth: number): TypeName => {
    if (depth > 32) fail('type arguments nested too deeply');
    space();
    const start = at;
    NAME_CHARS.lastIndex = at;
    at = NAME_CHARS.test(text) ? NAME_CHARS.lastIndex : at;
    let name = text.slice(start, at);
    if (!NAME.test(name)) fail('expected a name');
    const args: TypeName[] = [];
    space();
    if (text[at] === '<') {
      at++;
      for (;;) {
        args.push(parse(depth + 1));
        space();
        if (text[at] === ',') at++;
        else if (text[at] === '>') break;
        else fail("expected ',' or '>'");
      }
      at++;
      if (!name.includes('`')) name = `${name}\`${args.length}`;
      else if (Number(name.split('`')[1]) !== args.length) fail(`${name} takes ${name.split('`')[1]} type arguments, got ${args.length}`);
    }
    space();
    let array = false;
    if (text.startsWith('[]', at)) {
      array = true;
      at += 2;
    }
    return { name, args, array };
  };
  const result = parse(0);
  space();
  if (at !== text.length) fail('unexpected text');
  return result;
}

/** The canonical spelling of a parsed name, as winbg names instantiated interfaces. */
export function formatTypeName(type: TypeName): string {
  const args = type.args.length > 0 ? `<${type.args.map(formatTypeName).join(', ')}>` : '';
  return `${type.name}${args}${type.array ? '[]' : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Resolution.

/** A type resolved for use at the ABI. */
export type ResolvedType =
  | { readonly kind: 'primitive'; readonly name: string; readonly signature: string }
  | { readonly kind: 'enum'; readonly name: string; readonly signature: string; readonly native: 'int32_t' | 'uint32_t'; readonly values: Readonly<Record<string, number>> }
  | { readonly kind: 'struct'; readonly name: string; readonly signature: string; readonly struct: StructType<any> }
  | {
      readonly kind: 'interface' | 'delegate';
      readonly name: string;
      readonly signature: string;
      readonly iface: ComInterface<any>;
      readonly descriptor: TypeDescriptor & { kind: 'interface' | 'delegate' };
      /** The generic definition's name ('Windows.Foundation.IAsyncOperation`1') and its arguments. */
      readonly definition: string;
      readonly scope: ReadonlyMap<string, ResolvedType>;
    }
  | { readonly kind: 'class'; readonly name: string; readonly signature: string; readonly defaultInterface: ComInterface<any> | null; readonly descriptor: TypeDescriptor & { kind: 'class' } };

/** An interface or delegate type (instantiated, for generics). */
export type ResolvedInterface = Extract<ResolvedType, { readonly iface: ComInterface<any>; readonly scope: ReadonlyMap<string, ResolvedType> }>;

const resolved = new Map<string, ResolvedType>();
const PRIMITIVE_ALIASES: Readonly<Record<string, string>> = { 'System.Guid': 'Guid', 'System.Object': 'Object', 'System.String': 'String' };

/**
 * Resolves a WinRT type name. `scope` binds generic parameter names (inside a generic
 * definition's methods) to the types they stand for.
 * @throws TypeError for a name no registered projection defines, saying which namespace to generate.
 */
export function resolveType(text: string | TypeName, scope: ReadonlyMap<string, ResolvedType> = new Map()): ResolvedType {
  const type = typeof text === 'string' ? parseTypeName(text) : text;
  if (type.array) throw new TypeError(`${formatTypeName(type)}: an array is not a type of its own here`);
  const bound = type.args.length === 0 ? scope.get(type.name) : undefined;
  if (bound) return bound;
  const args = type.args.map((arg) => resolveType(arg, scope));
  const key = args.length === 0 ? type.name : `${type.name}<${args.map((a) => a.name).join(', ')}>`;
  const cached = resolved.get(key);
  if (cached) return cached;
  const result = resolveNew(type.name, args, key);
  resolved.set(key, result);
  return result;
}

function resolveNew(name: string, args: readonly ResolvedType[], key: string): ResolvedType {
  const primitive = PRIMITIVE_ALIASES[name] ?? name;
  if (primitive in PRIMITIVE_SIGNATURES && args.length === 0) {
    return { kind: 'primitive', name: primitive, signature: PRIMITIVE_SIGNATURES[primitive]! };
  }
  const descriptor = lookup(name);
  if (!descriptor) {
    const namespace = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : name;
    throw new TypeError(`Unknown WinRT type ${name}: no projection of ${namespace} is loaded (generate it with \`winbg generate --namespace ${namespace}\` and import it)`);
  }
  const generics = 'generics' in descriptor ? descriptor.generics ?? [] : [];
  if (generics.length !== args.length) {
    throw new TypeError(`${name} takes ${generics.length} type argument${generics.length === 1 ? '' : 's'}, got ${args.length}`);
  }
  switch (descriptor.kind) {
    case 'enum':
      return { kind: 'enum', name, values: descriptor.values, native: descriptor.type === 'UInt32' ? 'uint32_t' : 'int32_t', signature: `enum(${name};${descriptor.type === 'UInt32' ? 'u4' : 'i4'})` };
    case 'struct': {
      const fields = descriptor.fields.map(([field, type]) => [field, resolveType(type)] as const);
      const struct = defineStruct(name, Object.fromEntries(fields.map(([field, type]) => [field, fieldType(type, name)])));
      return { kind: 'struct', name, struct, signature: `struct(${name};${fields.map(([, t]) => t.signature).join(';')})` };
    }
    case 'class': {
      const defaultInterface = descriptor.default === null ? null : (resolveType(descriptor.default) as { iface: ComInterface<any>; signature: string });
      return {
        kind: 'class', name, descriptor,
        defaultInterface: defaultInterface?.iface ?? null,
        signature: `rc(${name};${defaultInterface?.signature ?? ''})`,
      };
    }
    case 'interface':
    case 'delegate': {
      const piid = Guid.parse(descriptor.iid);
      const signature = args.length > 0 ? pinterfaceSignature(piid, args.map((a) => a.signature)) : descriptor.kind === 'delegate' ? `delegate(${guidSignature(piid)})` : guidSignature(piid);
      const iid = args.length > 0 ? iidFromSignature(signature) : piid;
      const scope = new Map(generics.map((g, i) => [g, args[i]!]));
      const iface = buildInterface(key, iid, descriptor, scope);
      return { kind: descriptor.kind, name: key, signature, iface, descriptor, definition: name, scope };
    }
  }
}

/** A struct field's layout type. */
function fieldType(type: ResolvedType, struct: string): string | StructType<any> {
  if (type.kind === 'struct') return type.struct;
  if (type.kind === 'enum') return type.native;
  if (type.kind === 'primitive') {
    if (type.name === 'Guid') return GUID_STRUCT;
    if (type.name === 'String') return 'HSTRING';
    const native = VALUE_TYPES[type.name];
    if (native) return native;
  }
  // WinRT structs may also hold IReference<T>; methods using such a struct become placeholders.
  throw new TypeError(`${struct}: fields of type ${type.name} are not supported in structs yet`);
}

/** WinRT primitives passed as plain values, with winbg's signature spelling. */
const VALUE_TYPES: Readonly<Record<string, string>> = {
  Boolean: 'bool', Int8: 'int8_t', UInt8: 'uint8_t', Int16: 'int16_t', UInt16: 'uint16_t', Char16: 'uint16_t',
  Int32: 'int32_t', UInt32: 'uint32_t', Int64: 'int64_t', UInt64: 'uint64_t', Single: 'float', Double: 'double',
};

/**
 * The COM interface of an interface or delegate descriptor. Its method signatures are written
 * in winbg's notation with an alias per non-primitive type (T0, T1…), resolved on first use so
 * that interfaces may refer to each other in any order.
 */
function buildInterface(name: string, iid: Guid, descriptor: TypeDescriptor & { kind: 'interface' | 'delegate' }, scope: ReadonlyMap<string, ResolvedType>): ComInterface<any> {
  const aliases = new Map<string, string>(); // WinRT type name -> alias in the signatures
  const types = new Map<string, () => LocalType>();
  const alias = (typeName: string): { token: string; isInterface: boolean } => {
    const parsed = parseTypeName(typeName);
    const kind = kindOf(parsed, scope);
    const primitive = kind.primitive;
    if (primitive !== undefined) return { token: primitive, isInterface: primitive === 'IInspectable' };
    if (kind.isStruct) resolveType(parsed, scope); // a struct whose fields cannot be laid out makes the method a placeholder
    let token = aliases.get(typeName);
    if (token === undefined) {
      token = `T${aliases.size}`;
      aliases.set(typeName, token);
      types.set(token, () => {
        const type = resolveType(parsed, scope);
        if (type.kind === 'interface' || type.kind === 'delegate') return type.iface;
        if (type.kind === 'class') {
          if (!type.defaultInterface) throw new TypeError(`${type.name} is a static class: it has no instances to pass`);
          return type.defaultInterface;
        }
        if (type.kind === 'struct') return type.struct;
        if (type.kind === 'enum') return type.native;
        throw new TypeError(`${name}: cannot pass ${type.name}`);
      });
    }
    return { token, isInterface: kind.isInterface };
  };
  const param = ([paramName, typeName, flow]: ParamDescriptor): string => {
    const { token, isInterface } = alias(typeName);
    const star = isInterface ? ' *' : ' ';
    switch (flow) {
      case 'out': return `_Out_ ${token}${star}*${paramName}`;
      case 'pass': return `${token}[] ${paramName}`;
      case 'fill': return `_Out_ ${token}[] ${paramName}`;
      case 'receive': return `_Out_ ${token}[] *${paramName}`;
      default: return `${token}${star}${paramName}`;
    }
  };
  const signature = (params: readonly ParamDescriptor[], returns: string | null | undefined): string => {
    const all = params.map(param);
    if (returns) {
      all.push(returns.endsWith('[]') ? param(['result', returns.slice(0, -2), 'receive']) : param(['result', returns, 'out']));
    }
    return `HRESULT (${all.join(', ')})`;
  };
  // A method whose types are not projected keeps its slot as a placeholder (windows-rs does the same).
  const source = (params: readonly ParamDescriptor[], returns: string | null | undefined): MethodSource => {
    try {
      return signature(params, returns);
    } catch (error) {
      return { unavailable: error instanceof Error ? error.message : String(error) };
    }
  };
  // Written when the methods are first parsed: resolving an interface looks up none of the types
  // its methods use (a served task resolves IBackgroundTask, whose Run takes an instance whose
  // methods use a dozen more). A later method of the same name replaces an earlier one in place.
  const byName = new Map<string, readonly [params: readonly ParamDescriptor[], returns: string | null | undefined]>();
  if (descriptor.kind === 'delegate') byName.set('Invoke', [descriptor.params, descriptor.returns]);
  else for (const [method, params, returns] of descriptor.methods) byName.set(method, [params, returns]);
  const methods: MethodSources = { names: [...byName.keys()], source: (method) => source(...byName.get(method)!) };
  const cache = new Map<string, LocalType>();
  const lookup = (token: string): LocalType | undefined => {
    if (cache.has(token)) return cache.get(token);
    const make = types.get(token);
    if (!make) return undefined;
    const value = make();
    cache.set(token, value);
    return value;
  };
  return new ComInterface(name, iid, descriptor.kind === 'delegate' ? IUnknown : IInspectable, methods, lookup);
}

/** What a type is, without building it: its primitive spelling, or whether it is passed as an interface. */
function kindOf(type: TypeName, scope: ReadonlyMap<string, ResolvedType>): { primitive?: string; isInterface: boolean; isStruct?: boolean } {
  for (const arg of type.args) kindOf(arg, scope); // every argument must be projected too
  const bound = type.args.length === 0 ? scope.get(type.name) : undefined;
  const name = bound?.name ?? PRIMITIVE_ALIASES[type.name] ?? type.name;
  const kind = bound?.kind ?? (name in PRIMITIVE_SIGNATURES ? 'primitive' : lookup(type.name)?.kind);
  if (kind === 'primitive') {
    if (name === 'String') return { primitive: 'HSTRING', isInterface: false };
    if (name === 'Guid') return { primitive: 'GUID', isInterface: false };
    if (name === 'Object') return { primitive: 'IInspectable', isInterface: true };
    return { primitive: VALUE_TYPES[name]!, isInterface: false };
  }
  if (kind === undefined) {
    const namespace = type.name.slice(0, type.name.lastIndexOf('.'));
    throw new TypeError(`it uses ${type.name}, which is not projected (add ${namespace} to the projection and regenerate)`);
  }
  return { isInterface: kind === 'interface' || kind === 'delegate' || kind === 'class', isStruct: kind === 'struct' };
}

/**
 * The GUID of a WinRT type, by name in WinRT notation: the IID of an interface or delegate
 * (for an instantiation, the one its pinterface signature gives), the default interface's IID for
 * a runtime class, and for an enum or struct the UUID v5 of its signature (what C#/WinRT's
 * GuidGenerator returns for them).
 *
 * @example
 * guidOf('Windows.Foundation.Collections.IMapView`2<Guid, Windows.ApplicationModel.Background.IBackgroundTaskRegistration>');
 */
export function guidOf(typeName: string): Guid {
  const type = resolveType(typeName);
  switch (type.kind) {
    case 'interface':
    case 'delegate':
      return type.iface.iid;
    case 'class':
      if (!type.defaultInterface) throw new TypeError(`${type.name} is a static class: it has no default interface and so no GUID`);
      return type.defaultInterface.iid;
    case 'enum':
    case 'struct':
      return iidFromSignature(type.signature);
    default:
      throw new TypeError(`${type.name} is a primitive type: it has no GUID (its signature is ${type.signature})`);
  }
}

/** The type signature of a WinRT type (WinRT type system, "Guid generation for parameterized types"). */
export function signatureOf(typeName: string): string {
  return resolveType(typeName).signature;
}
