// Property table (ECMA-335 §II.22.34).
import type { BlobRange } from '../heaps.js';
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class PropertyRow extends Row {
  get table(): TableId {
    return TableId.Property;
  }

  flags(): number {
    return this.raw(0);
  }
  name(): string {
    return this.string(1);
  }
  /** PropertySig (§II.23.2.5). */
  signature(): BlobRange {
    return this.blob(2);
  }
}
