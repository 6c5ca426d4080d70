// MethodSemantics table (ECMA-335 §II.22.28).
import type { CodedRef } from '../file.js';
import { Coded, TableId } from '../schema.js';
import { Row } from './row.js';

export class MethodSemanticsRow extends Row {
  get table(): TableId {
    return TableId.MethodSemantics;
  }

  /** Setter 0x1, Getter 0x2, Other 0x4, AddOn 0x8, RemoveOn 0x10, Fire 0x20 (§II.23.1.12). */
  semantics(): number {
    return this.raw(0);
  }
  method(): number {
    return this.ref(1, TableId.MethodDef);
  }
  /** HasSemantics: the Event or Property. */
  association(): CodedRef {
    return this.coded(2, Coded.HasSemantics);
  }
}
