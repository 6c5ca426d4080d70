// TypeScript declarations for projected types: the shapes the runtime gives them (lib/winrt/
// projection.ts) — properties for get_/put_ pairs, `onX` for events, methods by ABI name
// returning their out-parameters — so that user code type-checks against Windows' metadata.
import type { Metadata, MethodDef, ParamDef, TypeDef, TypeSig } from '../winmd/index.js';
import { planMembers, type MemberSource } from '../winrt/members.js';

/** What the declarations of one namespace need from the rest of the projection. */
export interface DeclarationContext {
  readonly metadata: Metadata;
  /** Projected types by full name. */
  readonly projected: ReadonlyMap<string, TypeDef>;
  /** The namespace being written. */
  readonly namespace: string;
  /** Namespaces whose types this file refers to (filled while writing). */
  readonly imports: Set<string>;
}

/** The TS module alias of a namespace: 'Windows.Foundation' → 'Windows_Foundation'. */
export function namespaceAlias(namespace: string): string {
  return namespace.replace(/\./g, '_');
}

/** A type's TS name: its metadata name without the arity ('IVector`1' → 'IVector'). */
export function tsName(type: TypeDef | string): string {
  const name = typeof type === 'string' ? type.slice(type.lastIndexOf('.') + 1) : type.name;
  return name.replace(/`\d+$/, '');
}

function qualified(fullName: string, context: DeclarationContext): string | null {
  const type = context.projected.get(fullName);
  if (!type) return null;
  if (type.namespace === context.namespace) return tsName(type);
  context.imports.add(type.namespace);
  return `${namespaceAlias(type.namespace)}.${tsName(type)}`;
}

/** Replaces a generic definition's parameters (VAR i) with the arguments of an instantiation. */
export function substitute(sig: TypeSig, args: readonly TypeSig[]): TypeSig {
  switch (sig.kind) {
    case 'var':
      return args[sig.index] ?? sig;
    case 'generic':
      return { ...sig, args: sig.args.map((a) => substitute(a, args)) };
    case 'array':
      return { ...sig, element: substitute(sig.element, args) };
    case 'byref':
    case 'pointer':
      return { ...sig, type: substitute(sig.type, args) };
    default:
      return sig;
  }
}

/** The TS type of a value of `sig` as the projection hands it to JS. */
export function tsType(sig: TypeSig, generics: readonly string[], context: DeclarationContext): string {
  switch (sig.kind) {
    case 'primitive':
      switch (sig.name) {
        case 'Boolean': return 'boolean';
        case 'String': return 'string';
        case 'Int64': case 'UInt64': return 'bigint';
        case 'Object': return 'unknown';
        case 'Void': return 'void';
        default: return 'number';
      }
    case 'named': {
      if (sig.fullName === 'System.Guid') return 'Guid';
      if (sig.fullName === 'System.Object') return 'unknown';
      return qualified(sig.fullName, context) ?? 'unknown';
    }
    case 'generic': {
      const args = sig.args.map((a) => tsType(a, generics, context));
      if (sig.type.fullName === 'Windows.Foundation.IReference`1') return `${args[0]} | null`;
      const name = qualified(sig.type.fullName, context);
      return name ? `${name}<${args.join(', ')}>` : 'unknown';
    }
    case 'var':
      return generics[sig.index] ?? 'unknown';
    case 'array':
      return `${wrapUnion(tsType(sig.element, generics, context))}[]`;
    case 'byref':
    case 'pointer':
      return tsType(sig.type, generics, context);
    default:
      return 'unknown';
  }
}

function wrapUnion(type: string): string {
  return type.includes('|') || type.includes('=>') ? `(${type})` : type;
}

/** An interface with the generic arguments it is used with. */
interface Instantiation {
  readonly type: TypeDef;
  readonly args: readonly TypeSig[];
}

/**
 * The interfaces whose members an object of `type` has, in the runtime's order: a class's
 * default interface then its list, each followed by what it requires; for an interface, itself
 * then what it requires. Arguments are expressed in `type`'s own generic parameters.
 */
export function memberInterfaces(type: TypeDef, context: DeclarationContext): Instantiation[] {
  const seen = new Set<string>();
  const out: Instantiation[] = [];
  const key = (i: Instantiation): string => `${i.type.fullName}<${i.args.map((a) => JSON.stringify(a)).join(',')}>`;
  const add = (sig: TypeSig, outer: readonly TypeSig[]): void => {
    const named = sig.kind === 'generic' ? sig.type : sig.kind === 'named' ? sig : null;
    if (!named) return;
    const def = context.projected.get(named.fullName);
    if (!def || def.kind !== 'interface') return;
    const args = sig.kind === 'generic' ? sig.args.map((a) => substitute(a, outer)) : [];
    const item = { type: def, args };
    if (seen.has(key(item))) return;
    seen.add(key(item));
    out.push(item);
    for (const impl of def.interfaces) add(impl.type, args);
  };
  const self: readonly TypeSig[] = type.genericParams.map((_, index) => ({ kind: 'var', index }) as TypeSig);
  if (type.kind === 'class') {
    const defaultInterface = type.defaultInterface;
    if (defaultInterface) add(defaultInterface, []);
    for (const impl of type.interfaces) add(impl.type, []);
  } else if (type.kind === 'interface') {
    add({ kind: 'named', namespace: type.namespace, name: type.name, fullName: type.fullName, isValueType: false }, []);
    // A generic interface's own members use its parameters directly.
    out[0] = { type, args: self };
    for (const impl of type.interfaces) add(impl.type, self);
  }
  return out;
}

/** TS members (one per line) for the interfaces of an object, named as the runtime names them (planMembers). */
export function members(interfaces: readonly Instantiation[], generics: readonly string[], context: DeclarationContext): string[] {
  const lines: string[] = [];
  const taken = new Set<string>();
  for (const { type, args } of interfaces) {
    const sigOf = (sig: TypeSig): string => tsType(substitute(sig, args), generics, context);
    for (const member of planMembers(type.methods, describeMethod, taken)) {
      switch (member.kind) {
        case 'property': {
          const valueType = member.getter?.signature.returnType ?? member.setter?.signature.params[0]?.type;
          if (valueType) lines.push(`${member.getter && !member.setter ? 'readonly ' : ''}${member.name}: ${sigOf(valueType)};`);
          break;
        }
        case 'event': {
          const handler = member.add.signature.params[0]?.type;
          lines.push(`${member.name}(handler: ${handler ? sigOf(handler) : 'unknown'}): Subscription;`);
          break;
        }
        case 'method':
          lines.push(`${member.name}(${parameters(member.method, sigOf)}): ${returnType(member.method, sigOf)};`);
          break;
        case 'overloads':
          // One line per arity; the default overload's line is already there when it holds the name.
          for (const method of member.byArity.values()) {
            if ((method.overload ?? method.name) !== member.name) lines.push(`${member.name}(${parameters(method, sigOf)}): ${returnType(method, sigOf)};`);
          }
          break;
      }
    }
  }
  return lines;
}

/** An out-parameter in JS terms: a byref, or [out] other than a FillArray (which JS passes in). */
const isOut = (p: ParamDef): boolean => p.type.kind === 'byref' || (p.isOut && p.type.kind !== 'array');

function describeMethod(method: MethodDef): MemberSource {
  return { abi: method.overload ?? method.name, metadata: method.name, arity: method.signature.params.filter((p) => !isOut(p)).length };
}

function parameters(method: MethodDef, sigOf: (sig: TypeSig) => string): string {
  return method.signature.params
    .filter((p) => !isOut(p))
    .map((p) => `${safeName(p.name)}: ${sigOf(p.type)}`)
    .join(', ');
}

function returnType(method: MethodDef, sigOf: (sig: TypeSig) => string): string {
  const outs = method.signature.params.filter(isOut).map((p) => sigOf(p.type));
  if (method.signature.returnType) outs.push(sigOf(method.signature.returnType));
  if (outs.length === 0) return 'void';
  return outs.length === 1 ? outs[0]! : `[${outs.join(', ')}]`;
}

const RESERVED = new Set(['arguments', 'break', 'case', 'catch', 'class', 'const', 'continue', 'default', 'delete', 'do', 'else', 'enum', 'eval', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield', 'let', 'static', 'implements', 'interface', 'package', 'private', 'protected', 'public', 'await']);

function safeName(name: string): string {
  return RESERVED.has(name) ? `${name}_` : name || 'value';
}

/** The JS shapes the runtime adds to well-known interfaces (awaitable, iterable, Map-like). */
export function extras(interfaces: readonly Instantiation[], generics: readonly string[], context: DeclarationContext): string[] {
  const out: string[] = [];
  for (const { type, args } of interfaces) {
    const arg = (i: number): string => (args[i] ? tsType(args[i]!, generics, context) : 'unknown');
    switch (type.fullName) {
      case 'Windows.Foundation.IAsyncAction':
      case 'Windows.Foundation.IAsyncActionWithProgress`1':
        out.push('PromiseLike<void>', 'AsyncOperation<void>');
        break;
      case 'Windows.Foundation.IAsyncOperation`1':
      case 'Windows.Foundation.IAsyncOperationWithProgress`2':
        out.push(`PromiseLike<${arg(0)}>`, `AsyncOperation<${arg(0)}>`);
        break;
      case 'Windows.Foundation.Collections.IIterable`1':
        out.push(`Iterable<${arg(0)}>`);
        break;
      case 'Windows.Foundation.Collections.IVectorView`1':
      case 'Windows.Foundation.Collections.IVector`1':
        out.push(`VectorLike<${arg(0)}>`);
        break;
      case 'Windows.Foundation.Collections.IMapView`2':
      case 'Windows.Foundation.Collections.IMap`2':
        out.push(`MapLike<${arg(0)}, ${arg(1)}>`);
        break;
    }
  }
  // A map iterates as [key, value] entries (MapLike), not as the IKeyValuePair objects of its IIterable.
  const mapLike = out.some((t) => t.startsWith('MapLike<'));
  return [...new Set(out)].filter((t) => !(mapLike && t.startsWith('Iterable<')));
}
