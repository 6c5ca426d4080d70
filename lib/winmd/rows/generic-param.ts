// GenericParam table (ECMA-335 §II.22.20).
import type { CodedRef } from '../file.js';
import { Coded, TableId } from '../schema.js';
import { Row } from './row.js';

export class GenericParamRow extends Row {
  get table(): TableId {
    return TableId.GenericParam;
  }

  number(): number {
    return this.raw(0);
  }
  flags(): number {
    return this.raw(1);
  }
  /** TypeOrMethodDef. */
  owner(): CodedRef {
    return this.coded(2, Coded.TypeOrMethodDef);
  }
  name(): string {
    return this.string(3);
  }
}
