// Event table (ECMA-335 §II.22.13).
import type { CodedRef } from '../file.js';
import { Coded, TableId } from '../schema.js';
import { Row } from './row.js';

export class EventRow extends Row {
  get table(): TableId {
    return TableId.Event;
  }

  flags(): number {
    return this.raw(0);
  }
  name(): string {
    return this.string(1);
  }
  /** The delegate type: TypeDefOrRef. */
  type(): CodedRef {
    return this.coded(2, Coded.TypeDefOrRef);
  }
}
