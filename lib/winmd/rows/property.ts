// Property table (ECMA-335 §II.22.34): Flags, Name, Signature, read by SignedRow.
import { TableId } from '../schema.js';
import { SignedRow } from './row.js';

export class PropertyRow extends SignedRow {
  get table(): TableId {
    return TableId.Property;
  }
}
