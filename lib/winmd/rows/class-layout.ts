// ClassLayout table (ECMA-335 §II.22.8).
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class ClassLayoutRow extends Row {
  get table(): TableId {
    return TableId.ClassLayout;
  }

  packingSize(): number {
    return this.raw(0);
  }
  classSize(): number {
    return this.raw(1);
  }
  parent(): number {
    return this.ref(2, TableId.TypeDef);
  }
}
