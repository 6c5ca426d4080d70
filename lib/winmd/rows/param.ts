// Param table (ECMA-335 §II.22.33).
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class ParamRow extends Row {
  get table(): TableId {
    return TableId.Param;
  }

  flags(): number {
    return this.raw(0);
  }
  /** 0 for the return value, else the 1-based parameter position. */
  sequence(): number {
    return this.raw(1);
  }
  name(): string {
    return this.string(2);
  }
}
