// Reverse lookups over one file's tables (which CustomAttribute rows belong to a TypeDef, which
// InterfaceImpl rows to a class, …). ECMA-335 requires most of these tables sorted by their key
// (§II.22), but a corrupted file need not be, so each is one pass over the table into a map,
// built the first time it is asked for. Maps keyed by a coded index use its raw value, so that
// building them decodes nothing: the lookup encodes the (table, row) it asks for instead.
import type { WinmdFile } from './file.js';
import { EventMapRow } from './rows/event-map.js';
import { GenericParamRow } from './rows/generic-param.js';
import { NestedClassRow } from './rows/nested-class.js';
import { PropertyMapRow } from './rows/property-map.js';
import { TypeDefRow } from './rows/type-def.js';
import { Coded, type CodedIndex, TableId } from './schema.js';

/**
 * The raw value of a coded index that points at (table, row) (§II.24.2.6); -1 when the coded
 * index cannot point at that table, which then matches no row.
 */
function encode(coded: CodedIndex, table: TableId, row: number): number {
  const tag = coded.tables.indexOf(table);
  return tag < 0 ? -1 : row * 2 ** coded.bits + tag;
}

const NONE: readonly number[] = Object.freeze([]);

function group(count: number, keyOf: (row: number) => number): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (let row = 1; row <= count; row++) {
    const key = keyOf(row);
    const list = map.get(key);
    if (list) list.push(row);
    else map.set(key, [row]);
  }
  return map;
}

export class Lookups {
  readonly #file: WinmdFile;
  #attributes?: Map<number, number[]>;
  #constants?: Map<number, number[]>;
  #interfaceImpls?: Map<number, number[]>;
  #semantics?: Map<number, number[]>;
  #genericParams?: Map<number, number[]>;
  #propertyMaps?: Map<number, number[]>;
  #eventMaps?: Map<number, number[]>;
  #enclosing?: Map<number, number[]>;
  #methodOwners?: Uint32Array;

  constructor(file: WinmdFile) {
    this.#file = file;
  }

  /** CustomAttribute rows whose Parent is (table, row), in table order. */
  attributes(table: TableId, row: number): readonly number[] {
    const file = this.#file;
    this.#attributes ??= group(file.rows(TableId.CustomAttribute), (r) => file.value(TableId.CustomAttribute, r, 0));
    return this.#attributes.get(encode(Coded.HasCustomAttribute, table, row)) ?? NONE;
  }

  /** The Constant row of (table, row), or 0. */
  constant(table: TableId, row: number): number {
    const file = this.#file;
    this.#constants ??= group(file.rows(TableId.Constant), (r) => file.value(TableId.Constant, r, 2));
    return this.#constants.get(encode(Coded.HasConstant, table, row))?.[0] ?? 0;
  }

  /** InterfaceImpl rows of a TypeDef, in table order (the order the type declares them). */
  interfaceImpls(typeDef: number): readonly number[] {
    const file = this.#file;
    this.#interfaceImpls ??= group(file.rows(TableId.InterfaceImpl), (r) => file.value(TableId.InterfaceImpl, r, 0));
    return this.#interfaceImpls.get(typeDef) ?? NONE;
  }

  /** MethodSemantics rows whose Association is (table, row): an Event or a Property. */
  semantics(table: TableId, row: number): readonly number[] {
    const file = this.#file;
    this.#semantics ??= group(file.rows(TableId.MethodSemantics), (r) => file.value(TableId.MethodSemantics, r, 2));
    return this.#semantics.get(encode(Coded.HasSemantics, table, row)) ?? NONE;
  }

  /** GenericParam rows of a TypeDef or MethodDef, ordered by Number. */
  genericParams(table: TableId, row: number): readonly number[] {
    const file = this.#file;
    if (!this.#genericParams) {
      this.#genericParams = group(file.rows(TableId.GenericParam), (r) => file.value(TableId.GenericParam, r, 2));
      for (const list of this.#genericParams.values()) {
        if (list.length > 1) {
          const numbers = new Map(list.map((r) => [r, new GenericParamRow(file, r).number()]));
          list.sort((a, b) => numbers.get(a)! - numbers.get(b)!);
        }
      }
    }
    return this.#genericParams.get(encode(Coded.TypeOrMethodDef, table, row)) ?? NONE;
  }

  /** Property rows of a TypeDef (through PropertyMap, §II.22.35). */
  properties(typeDef: number): number[] {
    const file = this.#file;
    this.#propertyMaps ??= group(file.rows(TableId.PropertyMap), (r) => file.value(TableId.PropertyMap, r, 0));
    return (this.#propertyMaps.get(typeDef) ?? NONE).flatMap((map) => new PropertyMapRow(file, map).properties());
  }

  /** Event rows of a TypeDef (through EventMap, §II.22.12). */
  events(typeDef: number): number[] {
    const file = this.#file;
    this.#eventMaps ??= group(file.rows(TableId.EventMap), (r) => file.value(TableId.EventMap, r, 0));
    return (this.#eventMaps.get(typeDef) ?? NONE).flatMap((map) => new EventMapRow(file, map).events());
  }

  /** The enclosing TypeDef of a nested TypeDef (§II.22.32), or 0. */
  enclosing(typeDef: number): number {
    const file = this.#file;
    this.#enclosing ??= group(file.rows(TableId.NestedClass), (r) => file.value(TableId.NestedClass, r, 0));
    const row = this.#enclosing.get(typeDef)?.[0];
    return row === undefined ? 0 : new NestedClassRow(file, row).enclosing();
  }

  /** The TypeDef whose MethodList holds a MethodDef, or 0. */
  methodOwner(method: number): number {
    const file = this.#file;
    if (!this.#methodOwners) {
      const owners = new Uint32Array(file.rows(TableId.MethodDef) + 1);
      for (let type = 1; type <= file.rows(TableId.TypeDef); type++) {
        for (const m of new TypeDefRow(file, type).methods()) owners[m] = type;
      }
      this.#methodOwners = owners;
    }
    return this.#methodOwners[method] ?? 0;
  }
}
