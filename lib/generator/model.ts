// From metadata to what the projection needs: WinRT type names, parameter flows, the closure of
// types to project. Pure functions of the metadata, so the output is deterministic.
import type { Metadata, MethodDef, ParamDef, TypeDef, TypeSig } from '../winmd/index.js';
import type { MethodDescriptor, ParamDescriptor, TypeDescriptor } from '../winrt/types.js';

/** Names the runtime treats as primitives although metadata spells them as System types. */
const SYSTEM_PRIMITIVES: Readonly<Record<string, string>> = { 'System.Guid': 'Guid', 'System.Object': 'Object', 'System.String': 'String' };

/** A type in the WinRT notation the runtime resolves ('Windows.Foundation.IReference`1<Int32>'). */
export function typeName(sig: TypeSig, generics: readonly string[]): string {
  switch (sig.kind) {
    case 'primitive':
      return sig.name;
    case 'named':
      return SYSTEM_PRIMITIVES[sig.fullName] ?? sig.fullName;
    case 'generic':
      return `${sig.type.fullName}<${sig.args.map((a) => typeName(a, generics)).join(', ')}>`;
    case 'var':
      return generics[sig.index] ?? `T${sig.index}`;
    case 'array':
      return `${typeName(sig.element, generics)}[]`;
    case 'byref':
    case 'pointer':
      return typeName(sig.type, generics);
    case 'mvar':
      throw new Error(`generic methods do not exist in the Windows Runtime (found !!${sig.index})`);
  }
}

/** Full names of every WinRT type a signature mentions (generic definitions and their arguments). */
export function referencedNames(sig: TypeSig | null): string[] {
  if (!sig) return [];
  switch (sig.kind) {
    case 'named':
      return SYSTEM_PRIMITIVES[sig.fullName] || sig.fullName.startsWith('System.') ? [] : [sig.fullName];
    case 'generic':
      return [sig.type.fullName, ...sig.args.flatMap(referencedNames)];
    case 'array':
      return referencedNames(sig.element);
    case 'byref':
    case 'pointer':
      return referencedNames(sig.type);
    default:
      return [];
  }
}

/**
 * A parameter's descriptor. The WinRT array patterns (WinRT type system, "Arrays") are told
 * apart by the metadata: [in] T[] is a PassArray, [out] T[] a FillArray, [out] ref T[] a
 * ReceiveArray; any other [out] parameter is a byref.
 */
export function paramDescriptor(param: ParamDef, generics: readonly string[]): ParamDescriptor {
  const sig = param.type;
  const inner = sig.kind === 'byref' ? sig.type : sig;
  const name = param.name || `arg${param.sequence}`;
  if (inner.kind === 'array') {
    const element = typeName(inner.element, generics);
    const flow = sig.kind === 'byref' ? 'receive' : param.isOut ? 'fill' : 'pass';
    return [name, element, flow];
  }
  return sig.kind === 'byref' || param.isOut ? [name, typeName(inner, generics), 'out'] : [name, typeName(inner, generics)];
}

export function methodDescriptor(method: MethodDef, generics: readonly string[]): MethodDescriptor {
  const { params, returnType } = method.signature;
  const abiName = method.overload ?? method.name;
  const returns = returnType ? typeName(returnType, generics) : null;
  const descriptor: [string, ParamDescriptor[], string | null, string?] = [abiName, params.map((p) => paramDescriptor(p, generics)), returns];
  if (abiName !== method.name) descriptor[3] = method.name;
  return descriptor;
}

function nameOf(value: TypeSig | string | undefined, generics: readonly string[] = []): string | null {
  if (value === undefined) return null;
  return typeof value === 'string' ? value : typeName(value, generics);
}

/** The runtime's descriptor of a type, or null for types the projection leaves out (attributes, contracts). */
export function typeDescriptor(type: TypeDef): TypeDescriptor | null {
  const generics = type.genericParams;
  switch (type.kind) {
    case 'enum': {
      const underlying = type.underlyingType;
      const values: Record<string, number> = {};
      for (const field of type.fields) if (field.isLiteral && typeof field.constant === 'number') values[field.name] = field.constant;
      return { kind: 'enum', type: underlying?.kind === 'primitive' && underlying.name === 'UInt32' ? 'UInt32' : 'Int32', values };
    }
    case 'struct':
      return { kind: 'struct', fields: type.fields.filter((f) => !f.isStatic).map((f) => [f.name, typeName(f.type, generics)] as const) };
    case 'interface': {
      const requires = type.interfaces.map((i) => typeName(i.type, generics));
      return {
        kind: 'interface',
        iid: type.guid ?? '00000000-0000-0000-0000-000000000000',
        ...(generics.length > 0 ? { generics } : {}),
        ...(requires.length > 0 ? { requires } : {}),
        methods: type.methods.map((m) => methodDescriptor(m, generics)),
      };
    }
    case 'delegate': {
      const invoke = type.methods.find((m) => m.name === 'Invoke');
      if (!invoke) return null;
      const { params, returnType } = invoke.signature;
      return {
        kind: 'delegate',
        iid: type.guid ?? '00000000-0000-0000-0000-000000000000',
        ...(generics.length > 0 ? { generics } : {}),
        params: params.map((p) => paramDescriptor(p, generics)),
        ...(returnType ? { returns: typeName(returnType, generics) } : {}),
      };
    }
    case 'class': {
      const defaultInterface = type.defaultInterface;
      const factories = type.activatable.map((a) => nameOf(a.factory)).filter((n): n is string => n !== null);
      const statics = type.statics.map((s) => nameOf(s.type)).filter((n): n is string => n !== null);
      return {
        kind: 'class',
        default: defaultInterface ? typeName(defaultInterface, generics) : null,
        interfaces: type.interfaces.map((i) => typeName(i.type, generics)),
        ...(type.activatable.some((a) => a.factory === undefined) ? { activatable: true } : {}),
        ...(factories.length > 0 ? { factories: [...new Set(factories)] } : {}),
        ...(statics.length > 0 ? { statics: [...new Set(statics)] } : {}),
      };
    }
    default:
      return null;
  }
}

/** Full names a type's descriptor needs resolvable (its signatures, interfaces, fields). */
export function dependencies(type: TypeDef): string[] {
  const names = new Set<string>();
  const add = (sig: TypeSig | null): void => {
    for (const name of referencedNames(sig)) names.add(name);
  };
  const addName = (value: TypeSig | string | undefined): void => {
    if (value === undefined) return;
    if (typeof value === 'string') names.add(value);
    else add(value);
  };
  for (const impl of type.interfaces) add(impl.type);
  for (const field of type.fields) if (!field.isStatic || type.kind !== 'enum') add(field.type);
  for (const method of type.methods) {
    add(method.signature.returnType);
    for (const param of method.signature.params) add(param.type);
  }
  for (const a of type.activatable) addName(a.factory);
  for (const s of type.statics) addName(s.type);
  names.delete(type.fullName);
  return [...names].sort();
}

export interface Closure {
  /** Types to project, by full name, sorted. */
  readonly types: readonly TypeDef[];
  /** Names referenced but not projected (outside the depth), sorted. */
  readonly boundary: readonly string[];
}

/** A projection root: a namespace or a type, and how many levels of references to follow. */
export interface Root {
  readonly name: string;
  /** Levels of references followed from the root (omitted: all). */
  readonly depth?: number;
}

/**
 * The types to project: the roots, then what they reference, each root's `depth` levels deep;
 * types whose layout others need (struct fields, a class's interfaces, an interface's required
 * interfaces, generic definitions) are followed to the end, since a projected type must be
 * resolvable. Methods that mention a type beyond the boundary keep their vtable slot as a
 * placeholder at run time.
 */
export function closure(metadata: Metadata, roots: readonly Root[]): Closure {
  const chosen = new Map<string, TypeDef>();
  const remaining = new Map<string, number>(); // the most levels left to follow from a type
  const want = (name: string): TypeDef | undefined => {
    const type = metadata.type(name);
    return type && typeDescriptor(type) !== null ? type : undefined;
  };
  let frontier: TypeDef[] = [];
  const visit = (type: TypeDef, levels: number, into: TypeDef[]): void => {
    chosen.set(type.fullName, type);
    if ((remaining.get(type.fullName) ?? -1) >= levels) return;
    remaining.set(type.fullName, levels);
    into.push(type);
  };
  for (const root of roots) {
    const byNamespace = metadata.types(root.name);
    const types = byNamespace.length > 0 ? byNamespace : [metadata.type(root.name)].filter((t): t is TypeDef => t !== undefined);
    if (types.length === 0) throw new Error(`projection root ${root.name} is neither a namespace nor a type in the metadata`);
    for (const type of types) if (typeDescriptor(type) !== null) visit(type, root.depth ?? Number.MAX_SAFE_INTEGER, frontier);
  }
  while (frontier.length > 0) {
    const next: TypeDef[] = [];
    for (const type of frontier) {
      const levels = remaining.get(type.fullName)!;
      if (levels <= 0) continue;
      for (const name of dependencies(type)) {
        const found = want(name);
        if (found) visit(found, levels - 1, next);
      }
    }
    frontier = next;
  }
  // Enums and structs are leaves (a struct holds only values): project every one referenced,
  // whatever the depth, so that fewer methods at the boundary become placeholders.
  for (const type of [...chosen.values()]) {
    for (const name of dependencies(type)) {
      const found = chosen.has(name) ? undefined : want(name);
      if (found && (found.kind === 'enum' || found.kind === 'struct')) chosen.set(name, found);
    }
  }
  // Structural needs, to the end.
  const queue = [...chosen.values()];
  while (queue.length > 0) {
    const type = queue.pop()!;
    for (const name of structuralDependencies(type)) {
      if (chosen.has(name)) continue;
      const found = want(name);
      if (found) (chosen.set(name, found), queue.push(found));
    }
  }
  const boundary = new Set<string>();
  for (const type of chosen.values()) for (const name of dependencies(type)) if (!chosen.has(name) && want(name)) boundary.add(name);
  return { types: [...chosen.values()].sort((a, b) => (a.fullName < b.fullName ? -1 : a.fullName > b.fullName ? 1 : 0)), boundary: [...boundary].sort() };
}

/** What must be projected for `type` itself to be usable: fields, interfaces, generic definitions. */
function structuralDependencies(type: TypeDef): string[] {
  const names = new Set<string>();
  const add = (sig: TypeSig | null): void => {
    if (!sig) return;
    for (const name of referencedNames(sig)) names.add(name);
  };
  if (type.kind === 'struct') for (const field of type.fields) add(field.type);
  if (type.kind === 'interface' || type.kind === 'class') for (const impl of type.interfaces) add(impl.type);
  if (type.kind === 'class') {
    for (const a of type.activatable) if (a.factory !== undefined && typeof a.factory !== 'string') add(a.factory);
    for (const s of type.statics) if (typeof s.type !== 'string') add(s.type);
  }
  // Generic definitions used anywhere in the type's signatures (their arguments are followed by depth).
  for (const method of type.methods) {
    for (const sig of [method.signature.returnType, ...method.signature.params.map((p) => p.type)]) collectGenericDefinitions(sig, names);
  }
  names.delete(type.fullName);
  return [...names].sort();
}

function collectGenericDefinitions(sig: TypeSig | null, into: Set<string>): void {
  if (!sig) return;
  if (sig.kind === 'generic') {
    into.add(sig.type.fullName);
    sig.args.forEach((a) => collectGenericDefinitions(a, into));
  } else if (sig.kind === 'array') collectGenericDefinitions(sig.element, into);
  else if (sig.kind === 'byref' || sig.kind === 'pointer') collectGenericDefinitions(sig.type, into);
}
