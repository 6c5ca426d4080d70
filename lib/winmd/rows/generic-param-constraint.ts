// GenericParamConstraint table (ECMA-335 §II.22.21).
import type { CodedRef } from '../file.js';
import { Coded, TableId } from '../schema.js';
import { Row } from './row.js';

export class GenericParamConstraintRow extends Row {
  get table(): TableId {
    return TableId.GenericParamConstraint;
  }

  owner(): number {
    return this.ref(0, TableId.GenericParam);
  }
  constraint(): CodedRef {
    return this.coded(1, Coded.TypeDefOrRef);
  }
}
