// The base of the per-table accessors in this folder: a row of one table of one file, and typed
// reads of its columns by column number (the order of ECMA-335 §II.22 and schema.ts).
import type { BlobRange } from '../heaps.js';
import type { CodedIndex, TableId } from '../schema.js';
import type { CodedRef, WinmdFile } from '../file.js';

export abstract class Row {
  // `declare`: plain assignments in the constructor; defined class fields cost more here, and
  // rows are made by the hundred thousand.
  declare readonly file: WinmdFile;
  /** 1-based row number. */
  declare readonly row: number;
  abstract get table(): TableId;

  constructor(file: WinmdFile, row: number) {
    this.file = file;
    this.row = row;
  }

  protected raw(column: number): number {
    return this.file.value(this.table, this.row, column);
  }
  protected string(column: number): string {
    return this.file.string(this.table, this.row, column);
  }
  protected blob(column: number): BlobRange {
    return this.file.blob(this.table, this.row, column);
  }
  protected guid(column: number): string | null {
    return this.file.guid(this.table, this.row, column);
  }
  protected ref(column: number, target: TableId): number {
    return this.file.ref(this.table, this.row, column, target);
  }
  protected coded(column: number, coded: CodedIndex): CodedRef {
    return this.file.coded(this.table, this.row, column, coded);
  }
  protected list(column: number, target: TableId): number[] {
    return this.file.list(this.table, this.row, column, target);
  }
}

/**
 * A row whose first three columns are Flags, Name and a Signature blob: Field (§II.22.15) and
 * Property (§II.22.34).
 */
export abstract class SignedRow extends Row {
  flags(): number {
    return this.raw(0);
  }
  name(): string {
    return this.string(1);
  }
  /** The signature blob: a FieldSig (§II.23.2.4) or a PropertySig (§II.23.2.5). */
  signature(): BlobRange {
    return this.blob(2);
  }
}
