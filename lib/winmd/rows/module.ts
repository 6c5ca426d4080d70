// Module table (ECMA-335 §II.22.30).
import { TableId } from '../schema.js';
import { Row } from './row.js';

export class ModuleRow extends Row {
  get table(): TableId {
    return TableId.Module;
  }

  name(): string {
    return this.string(1);
  }
  mvid(): string | null {
    return this.guid(2);
  }
}
