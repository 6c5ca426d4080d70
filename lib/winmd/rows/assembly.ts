// Assembly table (ECMA-335 §II.22.2).
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class AssemblyRow extends Row {
  get table(): TableId {
    return TableId.Assembly;
  }

  version(): string {
    return [1, 2, 3, 4].map((c) => this.raw(c)).join('.');
  }
  flags(): number {
    return this.raw(5);
  }
  name(): string {
    return this.string(7);
  }
}
