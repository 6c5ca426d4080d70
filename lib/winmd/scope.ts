// One file seen from the model: names of its TypeDefs and TypeRefs, TypeSpecs and signatures
// decoded into TypeSig values (memoized), and custom attributes decoded with their constructor.
import { type AttributeArg, type AttributeContext, type NamedAttributeArg, readAttributeValue } from './attributes.js';
import { BlobReader } from './blob.js';
import type { CodedRef, WinmdFile } from './file.js';
import type { BlobRange } from './heaps.js';
import { Lookups } from './lookup.js';
import { CustomAttributeRow } from './rows/custom-attribute.js';
import { FieldRow } from './rows/field.js';
import { MemberRefRow } from './rows/member-ref.js';
import { MethodDefRow } from './rows/method-def.js';
import { PropertyRow } from './rows/property.js';
import { TypeDefRow } from './rows/type-def.js';
import { TypeRefRow } from './rows/type-ref.js';
import { TypeSpecRow } from './rows/type-spec.js';
import { Coded, TABLE_NAMES, TableId } from './schema.js';
import { MAX_SIGNATURE_DEPTH, type MethodSig, type PropertySig, readFieldSig, readMethodSig, readPropertySig, readTypeSpec, type SignatureContext } from './signatures.js';
import type { NamedTypeSig, TypeSig } from './type-sig.js';

/** Nesting deeper than this (TypeRef scopes, NestedClass chains) is taken as a cycle. */
const MAX_NESTING = 16;

export interface TypeName {
  readonly namespace: string;
  /** For a nested type, `Enclosing/Nested`. */
  readonly name: string;
}

/** What a custom attribute row says before its value blob is decoded. */
export interface AttributeHead {
  /** Full name of the attribute type. */
  readonly type: TypeName;
  /** The constructor's parameters. */
  readonly params: readonly TypeSig[];
  readonly value: BlobRange;
}

export class FileScope implements SignatureContext {
  readonly file: WinmdFile;
  readonly lookups: Lookups;
  readonly #typeDefNames = new Map<number, TypeName>();
  readonly #typeRefNames = new Map<number, TypeName>();
  readonly #named = new Map<number, NamedTypeSig>();
  readonly #typeSpecs = new Map<number, TypeSig | null>();
  readonly #methodSigs = new Map<number, MethodSig>();

  constructor(file: WinmdFile) {
    this.file = file;
    this.lookups = new Lookups(file);
  }

  reader(range: BlobRange): BlobReader {
    return new BlobReader(this.file.bytes, range.start, range.end);
  }

  typeDefName(row: number, depth = 0): TypeName {
    let name = this.#typeDefNames.get(row);
    if (name) return name;
    const def = new TypeDefRow(this.file, row);
    const enclosing = this.lookups.enclosing(row);
    if (enclosing !== 0) {
      if (depth >= MAX_NESTING || enclosing === row) this.file.fail(TableId.TypeDef, row, `nested classes nest ${MAX_NESTING} levels deep, or a type in itself`);
      const outer = this.typeDefName(enclosing, depth + 1);
      name = { namespace: outer.namespace, name: `${outer.name}/${def.name()}` };
    } else {
      name = { namespace: def.namespace(), name: def.name() };
    }
    this.#typeDefNames.set(row, name);
    return name;
  }

  typeRefName(row: number, depth = 0): TypeName {
    let name = this.#typeRefNames.get(row);
    if (name) return name;
    const ref = new TypeRefRow(this.file, row);
    const scope = ref.resolutionScope();
    if (scope.table === TableId.TypeRef && scope.row !== 0) {
      // A nested type's TypeRef has its enclosing type's TypeRef as scope (§II.22.38).
      if (depth >= MAX_NESTING || scope.row === row) this.file.fail(TableId.TypeRef, row, `resolution scope nests ${MAX_NESTING} levels deep, or in itself`);
      const outer = this.typeRefName(scope.row, depth + 1);
      name = { namespace: outer.namespace, name: `${outer.name}/${ref.name()}` };
    } else {
      name = { namespace: ref.namespace(), name: ref.name() };
    }
    this.#typeRefNames.set(row, name);
    return name;
  }

  /** A TypeDef or TypeRef as a named TypeSig (shared and frozen). */
  named(table: TableId, row: number, isValueType: boolean): NamedTypeSig {
    const key = (table === TableId.TypeDef ? 0 : 1) + (isValueType ? 2 : 0) + row * 4;
    let sig = this.#named.get(key);
    if (sig) return sig;
    const { namespace, name } = table === TableId.TypeDef ? this.typeDefName(row) : this.typeRefName(row);
    sig = Object.freeze({ kind: 'named', namespace, name, fullName: namespace ? `${namespace}.${name}` : name, isValueType });
    this.#named.set(key, sig);
    return sig;
  }

  /** The TypeSig of a TypeSpec row (§II.23.2.14), decoded once. */
  typeSpec(row: number, depth = 0): TypeSig {
    const done = this.#typeSpecs.get(row);
    if (done) return done;
    // null marks a TypeSpec being decoded: meeting it again is a cycle, which would never end.
    if (done === null) this.file.fail(TableId.TypeSpec, row, 'TypeSpec refers to itself');
    if (depth > MAX_SIGNATURE_DEPTH) this.file.fail(TableId.TypeSpec, row, `TypeSpecs nest deeper than ${MAX_SIGNATURE_DEPTH} levels`);
    this.#typeSpecs.set(row, null);
    try {
      const sig = readTypeSpec(this.reader(new TypeSpecRow(this.file, row).signature()), this, depth + 1);
      this.#typeSpecs.set(row, sig);
      return sig;
    } finally {
      if (this.#typeSpecs.get(row) === null) this.#typeSpecs.delete(row);
    }
  }

  /** A TypeDefOrRef column (extends, implements, event type), as a TypeSig; null for row 0. */
  typeOf(ref: CodedRef): TypeSig | null {
    if (ref.row === 0) return null;
    return ref.table === TableId.TypeSpec ? this.typeSpec(ref.row) : this.named(ref.table, ref.row, false);
  }

  /** SignatureContext: a TypeDefOrRefEncoded value (§II.23.2.8). */
  typeDefOrRef(encoded: number, isValueType: boolean, depth: number, reader: BlobReader): TypeSig {
    const at = reader.position;
    const ref = this.file.decodeCoded(encoded, Coded.TypeDefOrRef);
    if (typeof ref === 'string') return reader.fail(ref, at);
    if (ref.row === 0) reader.fail(`TypeDefOrRefEncoded names ${TABLE_NAMES[ref.table]} row 0`, at);
    return ref.table === TableId.TypeSpec ? this.typeSpec(ref.row, depth) : this.named(ref.table, ref.row, isValueType);
  }

  methodSig(row: number): MethodSig {
    let sig = this.#methodSigs.get(row);
    if (!sig) this.#methodSigs.set(row, (sig = readMethodSig(this.reader(new MethodDefRow(this.file, row).signature()), this)));
    return sig;
  }

  memberRefSig(row: number): MethodSig {
    const key = -row;
    let sig = this.#methodSigs.get(key);
    if (!sig) this.#methodSigs.set(key, (sig = readMethodSig(this.reader(new MemberRefRow(this.file, row).signature()), this)));
    return sig;
  }

  fieldSig(row: number): TypeSig {
    return readFieldSig(this.reader(new FieldRow(this.file, row).signature()), this);
  }

  propertySig(row: number): PropertySig {
    return readPropertySig(this.reader(new PropertyRow(this.file, row).signature()), this);
  }

  /** The attribute type and constructor of a CustomAttribute row. */
  attributeHead(row: number): AttributeHead {
    const attribute = new CustomAttributeRow(this.file, row);
    const ctor = attribute.constructorRef();
    if (ctor.row === 0) this.file.fail(TableId.CustomAttribute, row, 'attribute constructor is row 0');
    if (ctor.table === TableId.MethodDef) {
      const owner = this.lookups.methodOwner(ctor.row);
      if (owner === 0) this.file.fail(TableId.CustomAttribute, row, `attribute constructor MethodDef ${ctor.row} belongs to no type`);
      return { type: this.typeDefName(owner), params: this.methodSig(ctor.row).params, value: attribute.value() };
    }
    const parent = new MemberRefRow(this.file, ctor.row).parent();
    let type: TypeName | null = null;
    if (parent.row !== 0) {
      if (parent.table === TableId.TypeRef) type = this.typeRefName(parent.row);
      else if (parent.table === TableId.TypeDef) type = this.typeDefName(parent.row);
      else if (parent.table === TableId.TypeSpec) {
        const spec = this.typeSpec(parent.row);
        if (spec.kind === 'generic') type = spec.type;
      }
    }
    if (!type) this.file.fail(TableId.MemberRef, ctor.row, `attribute constructor's parent (${TABLE_NAMES[parent.table]} ${parent.row}) is not a type`);
    return { type, params: this.memberRefSig(ctor.row).params, value: attribute.value() };
  }

  /** Decodes an attribute's value blob. */
  attributeArgs(head: AttributeHead, context: AttributeContext): { args: AttributeArg[]; named: NamedAttributeArg[] } {
    return readAttributeValue(this.reader(head.value), head.params, context);
  }
}
