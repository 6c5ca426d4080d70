// TypeRef table (ECMA-335 §II.22.38).
import type { CodedRef } from '../file.js';
import { Coded, TableId } from '../schema.js';
import { Row } from './row.js';

export class TypeRefRow extends Row {
  get table(): TableId {
    return TableId.TypeRef;
  }

  resolutionScope(): CodedRef {
    return this.coded(0, Coded.ResolutionScope);
  }
  name(): string {
    return this.string(1);
  }
  namespace(): string {
    return this.string(2);
  }
}
