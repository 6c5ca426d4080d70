// Field table (ECMA-335 §II.22.15): Flags, Name, Signature, read by SignedRow.
import { TableId } from '../schema.js';
import { SignedRow } from './row.js';

export class FieldRow extends SignedRow {
  get table(): TableId {
    return TableId.Field;
  }
}
