// Constant table (ECMA-335 §II.22.9).
import type { BlobRange } from '../heaps.js';
import type { CodedRef } from '../file.js';
import { Coded, TableId } from '../schema.js';
import { Row } from './row.js';

export class ConstantRow extends Row {
  get table(): TableId {
    return TableId.Constant;
  }

  /** The ELEMENT_TYPE of the value (§II.23.1.16). */
  type(): number {
    return this.raw(0);
  }
  parent(): CodedRef {
    return this.coded(2, Coded.HasConstant);
  }
  value(): BlobRange {
    return this.blob(3);
  }
}
