// TypeSpec table (ECMA-335 §II.22.39).
import type { BlobRange } from '../heaps.js';
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class TypeSpecRow extends Row {
  get table(): TableId {
    return TableId.TypeSpec;
  }

  /** A TypeSpec blob (§II.23.2.14). */
  signature(): BlobRange {
    return this.blob(0);
  }
}
