// MemberRef table (ECMA-335 §II.22.25).
import type { BlobRange } from '../heaps.js';
import type { CodedRef } from '../file.js';
import { Coded, TableId } from '../schema.js';
import { Row } from './row.js';

export class MemberRefRow extends Row {
  get table(): TableId {
    return TableId.MemberRef;
  }

  /** MemberRefParent: TypeDef, TypeRef, ModuleRef, MethodDef or TypeSpec. */
  parent(): CodedRef {
    return this.coded(0, Coded.MemberRefParent);
  }
  name(): string {
    return this.string(1);
  }
  /** MethodRefSig (§II.23.2.2) or FieldSig. */
  signature(): BlobRange {
    return this.blob(2);
  }
}
