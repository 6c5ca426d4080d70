// AssemblyRef table (ECMA-335 §II.22.5).
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class AssemblyRefRow extends Row {
  get table(): TableId {
    return TableId.AssemblyRef;
  }

  version(): string {
    return [0, 1, 2, 3].map((c) => this.raw(c)).join('.');
  }
  flags(): number {
    return this.raw(4);
  }
  name(): string {
    return this.string(6);
  }
}
