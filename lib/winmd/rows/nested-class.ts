// NestedClass table (ECMA-335 §II.22.32).
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class NestedClassRow extends Row {
  get table(): TableId {
    return TableId.NestedClass;
  }

  nested(): number {
    return this.ref(0, TableId.TypeDef);
  }
  enclosing(): number {
    return this.ref(1, TableId.TypeDef);
  }
}
