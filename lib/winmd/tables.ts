// The #~ stream (ECMA-335 §II.24.2.6): heap size flags, the Valid and Sorted masks, row counts,
// and from them the width of every column and the place of every table.
import type { Bytes } from './bytes.js';
import { type ColumnType, SCHEMA, TABLE_COUNT, TABLE_NAMES, type TableId } from './schema.js';
import type { Stream } from './streams.js';

/** HeapSizes bits (§II.24.2.6): a set bit makes that heap's indexes 4 bytes wide. */
const HEAP_STRING_4 = 0x01;
const HEAP_GUID_4 = 0x02;
const HEAP_BLOB_4 = 0x04;
/** Not in ECMA-335: the CLR writes a 4-byte value after the row counts when this bit is set. */
const HEAP_EXTRA_DATA = 0x40;

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  /** Offset in the row and width in bytes (2 or 4 for indexes, §II.24.2.6). */
  readonly offset: number;
  readonly size: 1 | 2 | 4;
}

/** One table's rows in the file: `rows` rows of `rowSize` bytes from `offset`. */
export class Table {
  readonly id: TableId;
  readonly name: string;
  readonly rows: number;
  readonly rowSize: number;
  /** File offset of row 1. */
  readonly offset: number;
  readonly columns: readonly Column[];
  readonly #bytes: Bytes;

  constructor(bytes: Bytes, id: TableId, rows: number, columns: readonly Column[], offset: number) {
    this.#bytes = bytes;
    this.id = id;
    this.name = TABLE_NAMES[id]!;
    this.rows = rows;
    this.columns = columns;
    this.rowSize = columns.reduce((sum, c) => sum + c.size, 0);
    this.offset = offset;
  }

  /** File offset of row `row` (1-based); fails for a row the table does not have. */
  rowOffset(row: number): number {
    if (!(row >= 1 && row <= this.rows)) this.#bytes.fail(this.name, this.offset, `row ${row} does not exist (the table has ${this.rows} rows)`);
    return this.offset + (row - 1) * this.rowSize;
  }

  /** The raw value of a column of row `row` (1-based). */
  value(row: number, column: number): number {
    const c = this.columns[column]!;
    const at = this.rowOffset(row) + c.offset;
    const data = this.#bytes.data;
    // The whole table was checked to lie inside the #~ stream when the stream was read.
    if (c.size === 2) return data[at]! | (data[at + 1]! << 8);
    if (c.size === 4) return (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;
    return data[at]!;
  }
}

export interface TableStream {
  readonly majorVersion: number;
  readonly minorVersion: number;
  readonly heapSizes: number;
  readonly valid: bigint;
  readonly sorted: bigint;
  /** Every table, present or not (an absent table has 0 rows), by table number. */
  readonly tables: readonly Table[];
}

export function readTableStream(bytes: Bytes, stream: Stream): TableStream {
  const where = stream.name;
  const start = stream.offset;
  const end = stream.offset + stream.size;
  if (stream.size < 24) bytes.fail(where, start, `stream of ${stream.size} bytes is too short for its header`);
  const majorVersion = bytes.u8(where, start + 4);
  const minorVersion = bytes.u8(where, start + 5);
  const heapSizes = bytes.u8(where, start + 6);
  const valid = bytes.u64(where, start + 8);
  const sorted = bytes.u64(where, start + 16);

  const rows = new Array<number>(TABLE_COUNT).fill(0);
  let at = start + 24;
  for (let id = 0; id < 64; id++) {
    if ((valid & (1n << BigInt(id))) === 0n) continue;
    if (id >= TABLE_COUNT) bytes.fail(where, start + 8, `Valid mask names table 0x${id.toString(16)}, which ECMA-335 does not define`);
    if (at + 4 > end) bytes.fail(where, at, 'row counts run past the end of the stream');
    rows[id] = bytes.u32(where, at);
    at += 4;
  }
  if (heapSizes & HEAP_EXTRA_DATA) {
    if (at + 4 > end) bytes.fail(where, at, 'extra data runs past the end of the stream');
    at += 4;
  }

  const heapWidth = (bit: number): 2 | 4 => (heapSizes & bit ? 4 : 2);
  const tableWidth = (id: TableId): 2 | 4 => (rows[id]! < 0x10000 ? 2 : 4);
  const width = (type: ColumnType): 1 | 2 | 4 => {
    switch (type.kind) {
      case 'fixed':
        return type.size;
      case 'string':
        return heapWidth(HEAP_STRING_4);
      case 'guid':
        return heapWidth(HEAP_GUID_4);
      case 'blob':
        return heapWidth(HEAP_BLOB_4);
      case 'table':
        return tableWidth(type.table);
      case 'coded': {
        // Small when every table it can point to has fewer than 2^(16 - tag bits) rows.
        const most = Math.max(...type.coded.tables.map((id) => (id === null ? 0 : rows[id]!)));
        return most < 2 ** (16 - type.coded.bits) ? 2 : 4;
      }
    }
  };

  const tables: Table[] = [];
  for (let id = 0; id < TABLE_COUNT; id++) {
    let offset = 0;
    const columns = SCHEMA[id]!.map((schema) => {
      const size = width(schema.type);
      const column = { name: schema.name, type: schema.type, offset, size };
      offset += size;
      return column;
    });
    const table = new Table(bytes, id as TableId, rows[id]!, columns, at);
    const size = table.rows * table.rowSize;
    if (size > end - at) bytes.fail(TABLE_NAMES[id]!, at, `${table.rows} rows of ${table.rowSize} bytes run past the end of the ${where} stream (${end - at} bytes left)`);
    at += size;
    tables.push(table);
  }
  return { majorVersion, minorVersion, heapSizes, valid, sorted, tables };
}
