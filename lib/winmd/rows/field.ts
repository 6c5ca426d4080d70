// Field table (ECMA-335 §II.22.15).
import type { BlobRange } from '../heaps.js';
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class FieldRow extends Row {
  get table(): TableId {
    return TableId.Field;
  }

  flags(): number {
    return this.raw(0);
  }
  name(): string {
    return this.string(1);
  }
  /** FieldSig (§II.23.2.4). */
  signature(): BlobRange {
    return this.blob(2);
  }
}
