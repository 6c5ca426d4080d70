// CustomAttribute table (ECMA-335 §II.22.10).
import type { BlobRange } from '../heaps.js';
import type { CodedRef } from '../file.js';
import { Coded, TableId } from '../schema.js';
import { Row } from './row.js';

export class CustomAttributeRow extends Row {
  get table(): TableId {
    return TableId.CustomAttribute;
  }

  parent(): CodedRef {
    return this.coded(0, Coded.HasCustomAttribute);
  }
  /** The constructor: a MethodDef or a MemberRef (CustomAttributeType). */
  constructorRef(): CodedRef {
    return this.coded(1, Coded.CustomAttributeType);
  }
  /** The value blob (§II.23.3). */
  value(): BlobRange {
    return this.blob(2);
  }
}
