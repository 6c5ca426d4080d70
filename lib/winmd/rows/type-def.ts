// TypeDef table (ECMA-335 §II.22.37).
import type { CodedRef } from '../file.js';
import { Coded, TableId } from '../schema.js';
import { Row } from './row.js';

export class TypeDefRow extends Row {
  get table(): TableId {
    return TableId.TypeDef;
  }

  flags(): number {
    return this.raw(0);
  }
  name(): string {
    return this.string(1);
  }
  namespace(): string {
    return this.string(2);
  }
  /** TypeDefOrRef; row 0 when the type extends nothing (interfaces, System.Object). */
  extends(): CodedRef {
    return this.coded(3, Coded.TypeDefOrRef);
  }
  /** Field rows owned by this type. */
  fields(): number[] {
    return this.list(4, TableId.Field);
  }
  /** MethodDef rows owned by this type, in table order (the vtable order for interfaces). */
  methods(): number[] {
    return this.list(5, TableId.MethodDef);
  }
}
