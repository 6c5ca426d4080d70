// Signature blobs (ECMA-335 §II.23.2) decoded from hand-made bytes, with a stand-in for the file's
// TypeDef/TypeRef tables: TypeDefOrRefEncoded values name the types in NAMES.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BlobReader } from '../../lib/winmd/blob.js';
import { type NamedTypeSig, type TypeSig, formatType } from '../../lib/winmd/index.js';
import { readFieldSig, readMethodSig, readPropertySig, readType, type SignatureContext } from '../../lib/winmd/signatures.js';
import { blobOf, winmdErrorOf } from '../support/winmd.js';

/** TypeRef rows 1…: the encoded value is row << 2 | 1 (§II.23.2.8). */
const NAMES = ['System.Runtime.CompilerServices.IsConst', 'Windows.Foundation.IAsyncOperation`1', 'System.Guid', 'Test.Modifier'];
const ref = (row: number): number => (row << 2) | 1;
const IS_CONST = ref(1);
const ASYNC_OPERATION = ref(2);
const GUID = ref(3);
const MODIFIER = ref(4);

const context: SignatureContext = {
  typeDefOrRef(encoded: number, isValueType: boolean, _depth: number, reader: BlobReader): TypeSig {
    const fullName = NAMES[(encoded >> 2) - 1];
    if ((encoded & 3) !== 1 || !fullName) return reader.fail(`test context: no type ${encoded}`);
    const dot = fullName.lastIndexOf('.');
    return { kind: 'named', namespace: fullName.slice(0, dot), name: fullName.slice(dot + 1), fullName, isValueType };
  },
};

const named = (fullName: string, isValueType = false): NamedTypeSig => {
  const dot = fullName.lastIndexOf('.');
  return { kind: 'named', namespace: fullName.slice(0, dot), name: fullName.slice(dot + 1), fullName, isValueType };
};
const method = (bytes: number[]) => readMethodSig(blobOf(bytes), context);
const type = (bytes: number[]): TypeSig => readType(blobOf(bytes), context);

function rejects(run: () => unknown, pattern: RegExp, offset?: number): void {
  const error = winmdErrorOf(run);
  assert.match(error.message, pattern);
  assert.is(error.where, '#Blob');
  if (offset !== undefined) assert.is(error.offset, offset);
}

// ---------------------------------------------------------------------------------------------

const types = suite('Type (§II.23.2.12)');

types('every primitive element type has its WinRT name', () => {
  const expected: [number, string][] = [
    [0x02, 'Boolean'], [0x03, 'Char16'], [0x04, 'Int8'], [0x05, 'UInt8'], [0x06, 'Int16'], [0x07, 'UInt16'],
    [0x08, 'Int32'], [0x09, 'UInt32'], [0x0a, 'Int64'], [0x0b, 'UInt64'], [0x0c, 'Single'], [0x0d, 'Double'],
    [0x0e, 'String'], [0x18, 'IntPtr'], [0x19, 'UIntPtr'], [0x1c, 'Object'],
  ];
  for (const [code, name] of expected) assert.equal(type([code]), { kind: 'primitive', name }, `0x${code.toString(16)}`);
});

types('CLASS and VALUETYPE name a type and say which it is', () => {
  assert.equal(type([0x12, ASYNC_OPERATION]), named('Windows.Foundation.IAsyncOperation`1'));
  assert.equal(type([0x11, GUID]), named('System.Guid', true));
});

types('GENERICINST: the generic type and its arguments', () => {
  const sig = type([0x15, 0x12, ASYNC_OPERATION, 2, 0x0e, 0x15, 0x12, ASYNC_OPERATION, 1, 0x11, GUID]);
  assert.equal(sig, {
    kind: 'generic',
    type: named('Windows.Foundation.IAsyncOperation`1'),
    args: [{ kind: 'primitive', name: 'String' }, { kind: 'generic', type: named('Windows.Foundation.IAsyncOperation`1'), args: [named('System.Guid', true)] }],
  });
  assert.is(formatType(sig), 'Windows.Foundation.IAsyncOperation`1<String, Windows.Foundation.IAsyncOperation`1<System.Guid>>');
});

types('VAR and MVAR keep their index; formatType names VARs', () => {
  assert.equal(type([0x13, 1]), { kind: 'var', index: 1 });
  assert.equal(type([0x1e, 0x80, 0x80]), { kind: 'mvar', index: 128 });
  assert.is(formatType({ kind: 'var', index: 1 }, ['K', 'V']), 'V');
});

types('SZARRAY has no rank; ARRAY keeps its shape, with signed lower bounds', () => {
  assert.equal(type([0x1d, 0x05]), { kind: 'array', element: { kind: 'primitive', name: 'UInt8' } });
  const shaped = type([0x14, 0x08, 2, 2, 3, 4, 1, 0x7b]);
  assert.equal(shaped, { kind: 'array', element: { kind: 'primitive', name: 'Int32' }, rank: 2, sizes: [3, 4], lowerBounds: [-3] });
  assert.is(formatType(shaped), 'Int32[,]');
});

types('PTR (also to void) and BYREF', () => {
  assert.equal(type([0x0f, 0x01]), { kind: 'pointer', type: { kind: 'primitive', name: 'Void' } });
  assert.equal(type([0x10, 0x0f, 0x08]), { kind: 'byref', type: { kind: 'pointer', type: { kind: 'primitive', name: 'Int32' } } });
});

types('custom modifiers are kept; modreq IsConst sets isConst', () => {
  const constRef = type([0x1f, IS_CONST, 0x10, 0x11, GUID]);
  assert.equal(constRef, {
    kind: 'byref',
    type: named('System.Guid', true),
    modifiers: [{ required: true, type: named('System.Runtime.CompilerServices.IsConst') }],
    isConst: true,
  });
  assert.is(formatType(constRef), 'const ref System.Guid');
  const optional = type([0x20, MODIFIER, 0x08]);
  assert.equal(optional, { kind: 'primitive', name: 'Int32', modifiers: [{ required: false, type: named('Test.Modifier') }] });
  assert.is(optional.isConst, undefined);
  // A modifier inside a type (SZARRAY CustomMod* Type) belongs to the element.
  const array = type([0x1d, 0x20, IS_CONST, 0x08]);
  assert.is(array.kind === 'array' && array.element.isConst, true);
});

types('unsupported and malformed types are WinmdErrors at their offset', () => {
  rejects(() => type([0x16]), /element type 0x16 is not supported/, 0); // TYPEDBYREF
  rejects(() => type([0x1b, 0x00]), /element type 0x1b/, 0); // FNPTR
  rejects(() => type([0x1d, 0x99]), /element type 0x99/, 1);
  rejects(() => type([0x15, 0x08]), /GENERICINST of 0x8/);
  rejects(() => type([0x15, 0x12, ASYNC_OPERATION, 0]), /no type arguments/);
  rejects(() => type([0x15, 0x12, ASYNC_OPERATION, 5, 0x08]), /generic argument count 5/);
  rejects(() => type([0x14, 0x08, 0]), /rank 0/);
  rejects(() => type([0x12, ref(9)]), /test context: no type/);
  rejects(() => type([0x1d]), /past the end|ends early/);
});

types('nesting deeper than the limit fails instead of recursing without end', () => {
  rejects(() => type([...new Array(200).fill(0x1d), 0x08]), /nests deeper than 64/);
  assert.is(formatType(type([...new Array(60).fill(0x1d), 0x08])), `Int32${'[]'.repeat(60)}`);
});

types.run();

// ---------------------------------------------------------------------------------------------

const methods = suite('MethodDefSig / MethodRefSig (§II.23.2.1)');

methods('HASTHIS, void return, parameters', () => {
  const sig = method([0x20, 2, 0x01, 0x08, 0x0e]);
  assert.is(sig.hasThis, true);
  assert.is(sig.explicitThis, false);
  assert.is(sig.genericParamCount, 0);
  assert.is(sig.returnType, null);
  assert.equal(sig.params, [{ kind: 'primitive', name: 'Int32' }, { kind: 'primitive', name: 'String' }]);
});

methods('static (no HASTHIS) with a return type', () => {
  const sig = method([0x00, 0, 0x12, ASYNC_OPERATION]);
  assert.is(sig.hasThis, false);
  assert.equal(sig.returnType, named('Windows.Foundation.IAsyncOperation`1'));
  assert.equal(sig.params, []);
});

methods('GENERIC: the generic parameter count comes before the parameter count', () => {
  const sig = method([0x30, 2, 1, 0x1e, 0, 0x13, 1]);
  assert.is(sig.genericParamCount, 2);
  assert.equal(sig.returnType, { kind: 'mvar', index: 0 });
  assert.equal(sig.params, [{ kind: 'var', index: 1 }]);
});

methods('a const by-reference parameter', () => {
  const sig = method([0x20, 1, 0x02, 0x1f, IS_CONST, 0x10, 0x11, GUID]);
  assert.is(sig.returnType?.kind === 'primitive' && sig.returnType.name, 'Boolean');
  assert.is(sig.params[0]?.isConst, true);
  assert.is(sig.params[0]?.kind, 'byref');
});

methods('VARARG: the SENTINEL marks where the fixed parameters end', () => {
  const sig = method([0x05, 2, 0x01, 0x08, 0x41, 0x0e]);
  assert.is(sig.sentinel, 1);
  assert.is(sig.params.length, 2);
});

methods('malformed method signatures', () => {
  rejects(() => method([0x06, 0, 0x08]), /not a method's/, 0);
  rejects(() => method([0x20, 1, 0x01, 0x01]), /parameter of type void/, 3);
  rejects(() => method([0x20, 3, 0x01, 0x08]), /parameter count 3/);
  rejects(() => method([0x20, 1, 0x01]), /ends early|past the end/);
  rejects(() => method([]), /past the end/);
});

methods.run();

// ---------------------------------------------------------------------------------------------

const others = suite('FieldSig and PropertySig (§II.23.2.4, §II.23.2.5)');

others('FieldSig', () => {
  assert.equal(readFieldSig(blobOf([0x06, 0x0c]), context), { kind: 'primitive', name: 'Single' });
  assert.equal(readFieldSig(blobOf([0x06, 0x11, GUID]), context), named('System.Guid', true));
  rejects(() => readFieldSig(blobOf([0x08, 0x0c]), context), /not FIELD/, 0);
});

others('PropertySig', () => {
  const sig = readPropertySig(blobOf([0x28, 0, 0x0e]), context);
  assert.is(sig.hasThis, true);
  assert.equal(sig.type, { kind: 'primitive', name: 'String' });
  assert.equal(sig.params, []);
  rejects(() => readPropertySig(blobOf([0x06, 0, 0x0e]), context), /not PROPERTY/, 0);
});

others.run();
