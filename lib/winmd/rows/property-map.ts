// PropertyMap table (ECMA-335 §II.22.35).
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class PropertyMapRow extends Row {
  get table(): TableId {
    return TableId.PropertyMap;
  }

  parent(): number {
    return this.ref(0, TableId.TypeDef);
  }
  properties(): number[] {
    return this.list(1, TableId.Property);
  }
}
