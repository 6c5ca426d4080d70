// MethodImpl table (ECMA-335 §II.22.27).
import type { CodedRef } from '../file.js';
import { Coded, TableId } from '../schema.js';
import { Row } from './row.js';

export class MethodImplRow extends Row {
  get table(): TableId {
    return TableId.MethodImpl;
  }

  class(): number {
    return this.ref(0, TableId.TypeDef);
  }
  body(): CodedRef {
    return this.coded(1, Coded.MethodDefOrRef);
  }
  declaration(): CodedRef {
    return this.coded(2, Coded.MethodDefOrRef);
  }
}
