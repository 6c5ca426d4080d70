// MethodDef table (ECMA-335 §II.22.26).
import type { BlobRange } from '../heaps.js';
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class MethodDefRow extends Row {
  get table(): TableId {
    return TableId.MethodDef;
  }

  rva(): number {
    return this.raw(0);
  }
  implFlags(): number {
    return this.raw(1);
  }
  flags(): number {
    return this.raw(2);
  }
  name(): string {
    return this.string(3);
  }
  /** MethodDefSig (§II.23.2.1). */
  signature(): BlobRange {
    return this.blob(4);
  }
  params(): number[] {
    return this.list(5, TableId.Param);
  }
}
