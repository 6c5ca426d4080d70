// One .winmd file as a database: PE image → CLI header → metadata root → streams → tables and
// heaps. Column reads here are typed (heap strings, blobs, table references, coded indexes) and
// checked; what the rows mean is in rows/ and the model.
import { Bytes } from './bytes.js';
import { readCliHeader } from './cli-header.js';
import { BlobHeap, type BlobRange, GuidHeap, StringHeap, UserStringHeap } from './heaps.js';
import { readPe, type PeImage } from './pe.js';
import { type CodedIndex, TABLE_NAMES, TableId } from './schema.js';
import { type MetadataRoot, readMetadataRoot } from './streams.js';
import { readTableStream, type Table, type TableStream } from './tables.js';

/** A row reference decoded from a coded index: a table and a 1-based row (0 = null). */
export interface CodedRef {
  readonly table: TableId;
  readonly row: number;
}

/** The Ptr tables of the uncompressed #- form, by the table they index into (§II.24.2.6). */
const POINTER_TABLE: Partial<Record<TableId, TableId>> = {
  [TableId.Field]: TableId.FieldPtr,
  [TableId.MethodDef]: TableId.MethodPtr,
  [TableId.Param]: TableId.ParamPtr,
  [TableId.Event]: TableId.EventPtr,
  [TableId.Property]: TableId.PropertyPtr,
};

/**
 * The low-level view of one file: its headers, streams, heaps and tables, with checked column
 * reads. The model (Metadata) is built on it; tools that need a table the model does not show
 * (MethodImpl, ClassLayout, …) can read it here.
 */
export class WinmdFile {
  /** The file's name, e.g. 'Windows.Foundation.winmd'. */
  readonly name: string;
  /** Where it was read from (its name when parsed from bytes); errors name the file by it. */
  readonly path: string;
  readonly bytes: Bytes;
  readonly pe: PeImage;
  readonly root: MetadataRoot;
  readonly stream: TableStream;
  readonly strings: StringHeap;
  readonly blobs: BlobHeap;
  readonly guids: GuidHeap;
  readonly userStrings: UserStringHeap;
  readonly tables: readonly Table[];

  constructor(name: string, data: Uint8Array, path = name) {
    this.name = name;
    this.path = path;
    this.bytes = new Bytes(path, data);
    this.pe = readPe(this.bytes);
    const cli = readCliHeader(this.bytes, this.pe);
    this.root = readMetadataRoot(this.bytes, cli);
    this.stream = readTableStream(this.bytes, this.root.tables);
    this.tables = this.stream.tables;
    this.strings = new StringHeap(this.bytes, this.root.strings);
    this.blobs = new BlobHeap(this.bytes, this.root.blob);
    this.guids = new GuidHeap(this.bytes, this.root.guid);
    this.userStrings = new UserStringHeap(this.bytes, this.root.userStrings);
  }

  table(id: TableId): Table {
    return this.tables[id]!;
  }

  rows(id: TableId): number {
    return this.tables[id]!.rows;
  }

  /** File offset of a row, or of its table when there is no such row. */
  rowOffset(table: TableId, row: number): number {
    const t = this.tables[table]!;
    return row >= 1 && row <= t.rows ? t.offset + (row - 1) * t.rowSize : t.offset;
  }

  fail(table: TableId, row: number, detail: string): never {
    return this.bytes.fail(TABLE_NAMES[table]!, this.rowOffset(table, row), detail);
  }

  value(table: TableId, row: number, column: number): number {
    return this.tables[table]!.value(row, column);
  }

  string(table: TableId, row: number, column: number): string {
    return this.strings.get(this.value(table, row, column));
  }

  blob(table: TableId, row: number, column: number): BlobRange {
    return this.blobs.get(this.value(table, row, column));
  }

  guid(table: TableId, row: number, column: number): string | null {
    return this.guids.get(this.value(table, row, column));
  }

  /** A simple table index (0 = null); fails when it points past the target table. */
  ref(table: TableId, row: number, column: number, target: TableId): number {
    const value = this.value(table, row, column);
    if (value > this.rows(target)) this.fail(table, row, `${this.#column(table, column)} points at ${TABLE_NAMES[target]} row ${value}, past its ${this.rows(target)} rows`);
    return value;
  }

  /** A coded index (§II.24.2.6): its table by the tag bits and the row (0 = null). */
  coded(table: TableId, row: number, column: number, coded: CodedIndex): CodedRef {
    const ref = this.decodeCoded(this.value(table, row, column), coded);
    return typeof ref === 'string' ? this.fail(table, row, `${this.#column(table, column)}: ${ref}`) : ref;
  }

  /** Decodes a coded index value read anywhere; a string says what is wrong with it. */
  decodeCoded(value: number, coded: CodedIndex): CodedRef | string {
    const tag = value & ((1 << coded.bits) - 1);
    const target = coded.tables[tag];
    if (target === undefined || target === null) return `${coded.name} tag ${tag} names no table`;
    const row = value >>> coded.bits;
    if (row > this.rows(target)) return `${coded.name} points at ${TABLE_NAMES[target]} row ${row}, past its ${this.rows(target)} rows`;
    return { table: target, row };
  }

  /**
   * The rows of a list column (TypeDef.FieldList, TypeDef.MethodList, MethodDef.ParamList,
   * EventMap.EventList, PropertyMap.PropertyList): from this row's index up to the next row's,
   * or to the end of the target table for the last row (§II.22.37). Through the Ptr table when
   * the file has one (the #- form).
   */
  list(table: TableId, row: number, column: number, target: TableId): number[] {
    const pointer = POINTER_TABLE[target];
    const indirect = pointer !== undefined && this.rows(pointer) > 0;
    // Through a Ptr table the list indexes that table, which then gives the target's rows.
    const listed = indirect ? pointer : target;
    const count = this.rows(listed);
    const first = this.value(table, row, column);
    const next = row < this.rows(table) ? this.value(table, row + 1, column) : count + 1;
    const name = this.#column(table, column);
    if (first < 1 || first > count + 1) this.fail(table, row, `${name} ${first} is outside ${TABLE_NAMES[listed]} (${count} rows)`);
    if (next < first || next > count + 1) this.fail(table, row, `${name} runs from ${first} to ${next}, outside ${TABLE_NAMES[listed]} (${count} rows)`);
    const rows: number[] = [];
    for (let i = first; i < next; i++) rows.push(indirect ? this.ref(pointer, i, 0, target) : i);
    return rows;
  }

  #column(table: TableId, column: number): string {
    return `${TABLE_NAMES[table]}.${this.tables[table]!.columns[column]?.name ?? column}`;
  }
}
