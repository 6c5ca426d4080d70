// Reverse lookups over one file's tables (which CustomAttribute rows belong to a TypeDef, which
// InterfaceImpl rows to a class, …). ECMA-335 requires most of these tables sorted by their key
// (§II.22), but a corrupted file need not be, so each is one pass over the table into a map,
// built the first time it is asked for.
import type { WinmdFile } from './file.js';
import { CustomAttributeRow } from './rows/custom-attribute.js';
import { ConstantRow } from './rows/constant.js';
import { EventMapRow } from './rows/event-map.js';
import { GenericParamRow } from './rows/generic-param.js';
import { InterfaceImplRow } from './rows/interface-impl.js';
import { MethodSemanticsRow } from './rows/method-semantics.js';
import { NestedClassRow } from './rows/nested-class.js';
import { PropertyMapRow } from './rows/property-map.js';
import { TypeDefRow } from './rows/type-def.js';
import { TableId } from './schema.js';

/** One number for a (table, row) pair: rows are at most 32 bits and tables fewer than 64. */
export function rowKey(table: TableId, row: number): number {
  return table * 0x1_0000_0000 + row;
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
    this.#attributes ??= group(file.rows(TableId.CustomAttribute), (r) => {
      const parent = new CustomAttributeRow(file, r).parent();
      return rowKey(parent.table, parent.row);
    });
    return this.#attributes.get(rowKey(table, row)) ?? NONE;
  }

  /** The Constant row of (table, row), or 0. */
  constant(table: TableId, row: number): number {
    const file = this.#file;
    this.#constants ??= group(file.rows(TableId.Constant), (r) => {
      const parent = new ConstantRow(file, r).parent();
      return rowKey(parent.table, parent.row);
    });
    return this.#constants.get(rowKey(table, row))?.[0] ?? 0;
  }

  /** InterfaceImpl rows of a TypeDef, in table order (the order the type declares them). */
  interfaceImpls(typeDef: number): readonly number[] {
    const file = this.#file;
    this.#interfaceImpls ??= group(file.rows(TableId.InterfaceImpl), (r) => new InterfaceImplRow(file, r).class());
    return this.#interfaceImpls.get(typeDef) ?? NONE;
  }

  /** MethodSemantics rows whose Association is (table, row): an Event or a Property. */
  semantics(table: TableId, row: number): readonly number[] {
    const file = this.#file;
    this.#semantics ??= group(file.rows(TableId.MethodSemantics), (r) => {
      const association = new MethodSemanticsRow(file, r).association();
      return rowKey(association.table, association.row);
    });
    return this.#semantics.get(rowKey(table, row)) ?? NONE;
  }

  /** GenericParam rows of a TypeDef or MethodDef, ordered by Number. */
  genericParams(table: TableId, row: number): readonly number[] {
    const file = this.#file;
    if (!this.#genericParams) {
      this.#genericParams = group(file.rows(TableId.GenericParam), (r) => {
        const owner = new GenericParamRow(file, r).owner();
        return rowKey(owner.table, owner.row);
      });
      for (const list of this.#genericParams.values()) {
        if (list.length > 1) {
          const numbers = new Map(list.map((r) => [r, new GenericParamRow(file, r).number()]));
          list.sort((a, b) => numbers.get(a)! - numbers.get(b)!);
        }
      }
    }
    return this.#genericParams.get(rowKey(table, row)) ?? NONE;
  }

  /** Property rows of a TypeDef (through PropertyMap, §II.22.35). */
  properties(typeDef: number): number[] {
    const file = this.#file;
    this.#propertyMaps ??= group(file.rows(TableId.PropertyMap), (r) => new PropertyMapRow(file, r).parent());
    return (this.#propertyMaps.get(typeDef) ?? NONE).flatMap((map) => new PropertyMapRow(file, map).properties());
  }

  /** Event rows of a TypeDef (through EventMap, §II.22.12). */
  events(typeDef: number): number[] {
    const file = this.#file;
    this.#eventMaps ??= group(file.rows(TableId.EventMap), (r) => new EventMapRow(file, r).parent());
    return (this.#eventMaps.get(typeDef) ?? NONE).flatMap((map) => new EventMapRow(file, map).events());
  }

  /** The enclosing TypeDef of a nested TypeDef (§II.22.32), or 0. */
  enclosing(typeDef: number): number {
    const file = this.#file;
    this.#enclosing ??= group(file.rows(TableId.NestedClass), (r) => new NestedClassRow(file, r).nested());
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
