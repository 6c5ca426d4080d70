// Several .winmd files read as one model: types by namespace and full name, and named types in
// signatures resolved across files (a TypeRef names its type by namespace and name only).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type AttributeContext, parseTypeName } from './attributes.js';
import { WinmdError } from './errors.js';
import { WinmdFile } from './file.js';
import { guard } from './lazy.js';
import { TableId } from './schema.js';
import { FileScope } from './scope.js';
import { TypeDef } from './type-def.js';
import type { NamedTypeSig, PrimitiveName, TypeSig } from './type-sig.js';

/**
 * A type that no loaded file defines, such as the mscorlib types WinRT metadata names as bases
 * and markers (System.Object, System.Enum, System.ValueType, System.MulticastDelegate,
 * System.Attribute, System.Guid, System.Type), or a type of a file that was not loaded.
 */
export interface ExternalType {
  readonly kind: 'external';
  readonly namespace: string;
  readonly name: string;
  readonly fullName: string;
}

/** The pseudo-type that holds a module's global members (§II.10.8); not a WinRT type. */
const MODULE_TYPE = '<Module>';

/**
 * The types of a set of .winmd files. Loading reads every file's headers, table layout and type
 * names (and so validates them); members, signatures and attributes are decoded the first time
 * they are read, and a corrupted part throws its WinmdError then.
 *
 * @example
 * const metadata = Metadata.load('C:/Windows/System32/WinMetadata');
 * metadata.type('Windows.Foundation.IAsyncAction')?.guid; // '5A648006-843A-4DA9-865B-9D26E5DFAD7B'
 */
export class Metadata {
  readonly files: readonly WinmdFile[];
  readonly #types: TypeDef[] = [];
  readonly #byName = new Map<string, TypeDef>();
  readonly #byNamespace = new Map<string, TypeDef[]>();
  readonly #external = new Map<string, ExternalType>();
  /** Serialized type names (System.Type arguments) already parsed. */
  readonly #typesByName = new Map<string, NamedTypeSig | null>();
  readonly #context: AttributeContext;

  private constructor(files: WinmdFile[]) {
    this.files = files;
    this.#context = {
      enumUnderlying: (type) => this.#enumUnderlying(type),
      typeFromName: (name) => this.#typeFromName(name),
    };
    for (const file of files) {
      const scope = new FileScope(file);
      for (let row = 1; row <= file.rows(TableId.TypeDef); row++) {
        const type = new TypeDef(scope, this.#context, row);
        if (type.fullName === MODULE_TYPE) continue;
        this.#types.push(type);
        if (!this.#byName.has(type.fullName)) this.#byName.set(type.fullName, type);
        let list = this.#byNamespace.get(type.namespace);
        if (!list) this.#byNamespace.set(type.namespace, (list = []));
        list.push(type);
      }
    }
  }

  /**
   * Reads .winmd files: every `*.winmd` of a directory (in name order), or the files given.
   * Throws WinmdError for a file that is not valid metadata; file system errors (a missing path)
   * are thrown as Node reports them.
   */
  static load(path: string | readonly string[]): Metadata {
    const paths = (typeof path === 'string' ? [path] : path).flatMap((p) =>
      statSync(p).isDirectory()
        ? readdirSync(p)
            .filter((name) => name.toLowerCase().endsWith('.winmd'))
            .sort()
            .map((name) => join(p, name))
        : [p],
    );
    if (paths.length === 0) throw new WinmdError(String(path), 'directory', 0, 'no .winmd files');
    const contents = paths.map((p) => ({ path: p, bytes: readFileSync(p) }));
    return Metadata.#create(() => contents.map((c) => new WinmdFile(basename(c.path), c.bytes, c.path)), String(path));
  }

  /** Reads .winmd files from bytes (tests, fuzzing, files not on disk). */
  static parse(files: readonly { readonly name: string; readonly bytes: Uint8Array }[]): Metadata {
    return Metadata.#create(() => files.map((f) => new WinmdFile(f.name, f.bytes)), files.map((f) => f.name).join(', '));
  }

  static #create(read: () => WinmdFile[], label: string): Metadata {
    return guard(() => new Metadata(read()), label, 'metadata', 0);
  }

  /** Every namespace that has types, sorted. */
  namespaces(): string[] {
    return [...this.#byNamespace.keys()].sort();
  }

  /** The types of one namespace, or of all, in file order and then table order. */
  types(namespace?: string): TypeDef[] {
    return namespace === undefined ? [...this.#types] : [...(this.#byNamespace.get(namespace) ?? [])];
  }

  /**
   * A type by full name, e.g. 'Windows.Foundation.IAsyncOperation`1'. Should two files define the
   * same name (Windows' own files do not), the first file in load order wins.
   */
  type(fullName: string): TypeDef | undefined {
    return this.#byName.get(fullName);
  }

  /**
   * The definition of a named or generic type: its TypeDef when a loaded file defines it, else an
   * ExternalType; null for other TypeSigs (primitives, arrays, generic parameters, …).
   */
  resolve(sig: TypeSig): TypeDef | ExternalType | null {
    const named = sig.kind === 'named' ? sig : sig.kind === 'generic' ? sig.type : null;
    if (!named) return null;
    const type = this.#byName.get(named.fullName);
    if (type) return type;
    let external = this.#external.get(named.fullName);
    if (!external) {
      external = Object.freeze({ kind: 'external', namespace: named.namespace, name: named.name, fullName: named.fullName });
      this.#external.set(named.fullName, external);
    }
    return external;
  }

  #enumUnderlying(type: NamedTypeSig): PrimitiveName | null {
    const underlying = this.#byName.get(type.fullName)?.underlyingType;
    return underlying?.kind === 'primitive' ? underlying.name : null;
  }

  #typeFromName(name: string): NamedTypeSig | null {
    let sig = this.#typesByName.get(name);
    if (sig === undefined) {
      const parsed = parseTypeName(name);
      const fullName = parsed && (parsed.namespace ? `${parsed.namespace}.${parsed.name}` : parsed.name);
      sig = parsed && Object.freeze({ kind: 'named', ...parsed, fullName: fullName!, isValueType: this.#byName.get(fullName!)?.isValueType ?? false });
      this.#typesByName.set(name, sig);
    }
    return sig;
  }
}
