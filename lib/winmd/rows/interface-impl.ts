// InterfaceImpl table (ECMA-335 §II.22.23).
import type { CodedRef } from '../file.js';
import { Coded, TableId } from '../schema.js';
import { Row } from './row.js';

export class InterfaceImplRow extends Row {
  get table(): TableId {
    return TableId.InterfaceImpl;
  }

  class(): number {
    return this.ref(0, TableId.TypeDef);
  }
  interface(): CodedRef {
    return this.coded(1, Coded.TypeDefOrRef);
  }
}
