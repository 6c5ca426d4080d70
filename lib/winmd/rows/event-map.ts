// EventMap table (ECMA-335 §II.22.12).
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class EventMapRow extends Row {
  get table(): TableId {
    return TableId.EventMap;
  }

  parent(): number {
    return this.ref(0, TableId.TypeDef);
  }
  events(): number[] {
    return this.list(1, TableId.Event);
  }
}
