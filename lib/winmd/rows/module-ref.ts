// ModuleRef table (ECMA-335 §II.22.31).
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class ModuleRefRow extends Row {
  get table(): TableId {
    return TableId.ModuleRef;
  }

  name(): string {
    return this.string(0);
  }
}
