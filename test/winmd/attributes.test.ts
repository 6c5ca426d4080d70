// Custom attribute value blobs (ECMA-335 §II.23.3) from hand-made bytes, and what the WinRT
// attributes mean (winrt-attributes.ts) for each constructor form.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type AttributeContext, type AttributeArg, readAttributeValue, parseTypeName } from '../../lib/winmd/attributes.js';
import { type NamedTypeSig, type PrimitiveName, type TypeSig } from '../../lib/winmd/index.js';
import * as winrt from '../../lib/winmd/winrt-attributes.js';
import { blobOf, winmdErrorOf } from '../support/winmd.js';

const named = (fullName: string, isValueType = false): NamedTypeSig => {
  const dot = fullName.lastIndexOf('.');
  return { kind: 'named', namespace: fullName.slice(0, dot), name: fullName.slice(dot + 1), fullName, isValueType };
};
const p = (name: PrimitiveName): TypeSig => ({ kind: 'primitive', name });

/** Knows one enum, Test.Flags, as UInt16 (so that Int32 is visibly a default elsewhere). */
const context: AttributeContext = {
  enumUnderlying: (type) => (type.fullName === 'Test.Flags' ? 'UInt16' : null),
  typeFromName: (name) => {
    const parsed = parseTypeName(name);
    return parsed && { kind: 'named', ...parsed, fullName: parsed.namespace ? `${parsed.namespace}.${parsed.name}` : parsed.name, isValueType: false };
  },
};

/** SerString of ASCII text: a compressed length (1 or 2 bytes here) and the bytes. */
const ser = (text: string): number[] => [...(text.length < 0x80 ? [text.length] : [0x80 | (text.length >> 8), text.length & 0xff]), ...[...text].map((c) => c.charCodeAt(0))];
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const decode = (params: TypeSig[], body: number[], named = [0, 0]) => readAttributeValue(blobOf([0x01, 0x00, ...body, ...named]), params, context);
const values = (args: readonly AttributeArg[]): unknown[] => args.map((a) => a.value);

function rejects(run: () => unknown, pattern: RegExp): void {
  assert.match(winmdErrorOf(run).message, pattern);
}

// ---------------------------------------------------------------------------------------------

const fixed = suite('custom attribute fixed arguments');

fixed('primitives, in the constructor parameters order', () => {
  const { args } = decode(
    [p('Boolean'), p('Char16'), p('Int8'), p('UInt8'), p('Int16'), p('UInt16'), p('Int32'), p('UInt32'), p('Int64'), p('UInt64'), p('Single'), p('Double')],
    [
      ...[1, 0x41, 0, 0xff, 0x7f, 0xfe, 0xff, 0x34, 0x12], // Boolean, Char16, Int8, UInt8, Int16, UInt16
      ...u32(0xfffffffd), ...u32(0xfffffffe), // Int32, UInt32
      ...u32(0xffffffff), ...u32(0xffffffff), ...u32(0), ...u32(0x80808080), // Int64, UInt64
      ...[0x00, 0x00, 0xc0, 0x3f], ...[0, 0, 0, 0, 0, 0, 0xf0, 0xbf], // Single 1.5, Double -1
    ],
  );
  assert.equal(values(args), [true, 'A', -1, 0x7f, -2, 0x1234, -3, 0xfffffffe, -1n, 0x8080808000000000n, 1.5, -1]);
  assert.equal(args[0]!.type, { kind: 'primitive', name: 'Boolean' });
});

fixed('strings: SerString, 0xFF is null, UTF-8', () => {
  const { args } = decode([p('String'), p('String'), p('String')], [...ser('abc'), 0xff, 3, 0xe2, 0x82, 0xac]);
  assert.equal(values(args), ['abc', null, '€']);
});

fixed('System.Type: a plain or assembly-qualified name becomes a named type', () => {
  const { args } = decode([named('System.Type'), named('System.Type'), named('System.Type')], [
    ...ser('Windows.Foundation.IUriRuntimeClassFactory'),
    ...ser('Windows.Foundation.Uri, Windows.Foundation, Version=255.255.255.255, Culture=neutral, PublicKeyToken=null, ContentType=WindowsRuntime'),
    ...ser('Test.Generic`1[[System.String]]'),
  ]);
  assert.equal(args[0]!.type, { kind: 'type' });
  assert.equal(values(args), [named('Windows.Foundation.IUriRuntimeClassFactory'), named('Windows.Foundation.Uri'), 'Test.Generic`1[[System.String]]']);
});

fixed('enums: the underlying type from the context, else Int32', () => {
  const { args } = decode([named('Test.Flags', true), named('Test.Unknown', true)], [0x02, 0x01, ...u32(0xfffffffe)]);
  assert.equal(args[0], { type: { kind: 'enum', type: named('Test.Flags', true), underlying: 'UInt16' }, value: 0x102 });
  assert.equal(args[1], { type: { kind: 'enum', type: named('Test.Unknown', true), underlying: 'Int32' }, value: -2 });
});

fixed('arrays: a count, the elements, or 0xFFFFFFFF for null', () => {
  const { args } = decode([{ kind: 'array', element: p('UInt16') }, { kind: 'array', element: p('String') }], [...u32(2), 1, 0, 2, 0, ...u32(0xffffffff)]);
  assert.equal(values(args), [[1, 2], null]);
  rejects(() => decode([{ kind: 'array', element: p('UInt8') }], [...u32(1000), 1]), /array element count 1000/);
});

fixed('System.Object: a boxed value carries its own type', () => {
  const { args } = decode([p('Object')], [0x08, ...u32(7)]);
  assert.equal(args[0], { type: { kind: 'object' }, value: { type: { kind: 'primitive', name: 'Int32' }, value: 7 } });
});

fixed('no arguments: the prolog and a zero count, or an empty blob', () => {
  assert.equal(decode([], []), { args: [], named: [] });
  assert.equal(readAttributeValue(blobOf([]), [], context), { args: [], named: [] });
});

fixed('malformed blobs are WinmdErrors', () => {
  rejects(() => readAttributeValue(blobOf([0x02, 0x00, 0, 0]), [], context), /prolog is 0x2/);
  rejects(() => decode([p('UInt32')], [1, 2]), /past the end/);
  rejects(() => decode([p('String')], [5, 0x41]), /string of 5 bytes/);
  rejects(() => decode([p('IntPtr')], [0, 0, 0, 0]), /cannot take a custom attribute argument/);
  rejects(() => decode([{ kind: 'byref', type: p('Int32') }], [0, 0, 0, 0]), /kind byref/);
  rejects(() => decode([], [], [0x10, 0]), /named argument count 16/);
});

fixed.run();

// ---------------------------------------------------------------------------------------------

const namedArgs = suite('custom attribute named arguments');

namedArgs('FIELD and PROPERTY with their FieldOrPropType', () => {
  const { named: list } = decode([], [], [
    3, 0,
    0x54, 0x02, ...ser('AllowMultiple'), 1,
    0x53, 0x55, ...ser('Test.Flags, Test'), ...ser('Kind'), 5, 0,
    0x54, 0x1d, 0x0e, ...ser('Names'), ...u32(2), ...ser('a'), 0xff,
  ]);
  assert.equal(list, [
    { name: 'AllowMultiple', target: 'property', type: { kind: 'primitive', name: 'Boolean' }, value: true },
    { name: 'Kind', target: 'field', type: { kind: 'enum', type: named('Test.Flags'), underlying: 'UInt16' }, value: 5 },
    { name: 'Names', target: 'property', type: { kind: 'array', element: { kind: 'primitive', name: 'String' } }, value: ['a', null] },
  ]);
});

namedArgs('System.Type and boxed named arguments', () => {
  const { named: list } = decode([], [], [2, 0, 0x54, 0x50, ...ser('T'), ...ser('Test.Type'), 0x53, 0x51, ...ser('O'), 0x0e, ...ser('x')]);
  assert.equal(list[0]!.value, named('Test.Type'));
  assert.equal(list[1]!.value, { type: { kind: 'primitive', name: 'String' }, value: 'x' });
});

namedArgs('malformed named arguments', () => {
  rejects(() => decode([], [], [1, 0, 0x52, 0x02, ...ser('X'), 1]), /neither FIELD nor PROPERTY/);
  rejects(() => decode([], [], [1, 0, 0x54, 0x12, ...ser('X'), 1]), /0x12 is not a custom attribute argument type/);
  rejects(() => decode([], [], [1, 0, 0x54, 0x02, 0xff, 1]), /null name/);
  rejects(() => decode([], [], [1, 0, 0x54, ...new Array(20).fill(0x1d), 0x02, ...ser('X'), 0]), /nest too deeply/);
});

namedArgs.run();

// ---------------------------------------------------------------------------------------------

const meaning = suite('WinRT attribute meanings');

const NS = 'Windows.Foundation.Metadata.';
const uint = (value: number): AttributeArg => ({ type: { kind: 'primitive', name: 'UInt32' }, value });
const str = (value: string): AttributeArg => ({ type: { kind: 'primitive', name: 'String' }, value });
const typeArg = (fullName: string): AttributeArg => ({ type: { kind: 'type' }, value: named(fullName) });
const enumArg = (name: string, value: number): AttributeArg => ({ type: { kind: 'enum', type: named(NS + name, true), underlying: 'Int32' }, value });
const attr = (name: string, ...args: AttributeArg[]): winrt.AttributeLike => ({ name: NS + name, args, named: [] });

meaning('GuidAttribute becomes the canonical GUID, leading zeros kept', () => {
  const bytes = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08].map((b) => ({ type: { kind: 'primitive', name: 'UInt8' }, value: b }) as AttributeArg);
  const guid = attr('GuidAttribute', uint(0x5a648006), { type: { kind: 'primitive', name: 'UInt16' }, value: 0x843a }, { type: { kind: 'primitive', name: 'UInt16' }, value: 0x0da9 }, ...bytes);
  assert.is(winrt.guidOf([guid]), '5A648006-843A-0DA9-0102-030405060708');
  assert.is(winrt.guidOf([]), null);
});

meaning('ActivatableAttribute: version, contract, factory and platform forms', () => {
  const list = winrt.activatableOf([
    attr('ActivatableAttribute', uint(0x06020000)),
    attr('ActivatableAttribute', uint(0x10000), str('Windows.Foundation.UniversalApiContract')),
    attr('ActivatableAttribute', typeArg('Test.IFactory'), uint(0x20000), str('Test.Contract')),
    attr('ActivatableAttribute', uint(0x06030000), enumArg('Platform', 1)),
    attr('StaticAttribute', typeArg('Test.IStatics'), uint(1)),
  ]);
  assert.equal(list, [
    { version: 0x06020000 },
    { version: 0x10000, contract: 'Windows.Foundation.UniversalApiContract' },
    { version: 0x20000, factory: named('Test.IFactory'), contract: 'Test.Contract' },
    { version: 0x06030000, platform: 'WindowsPhone' },
  ]);
});

meaning('StaticAttribute and ComposableAttribute', () => {
  assert.equal(winrt.staticsOf([attr('StaticAttribute', typeArg('Test.IStatics'), uint(0x30000), str('Test.Contract'))]), [
    { type: named('Test.IStatics'), version: 0x30000, contract: 'Test.Contract' },
  ]);
  assert.equal(winrt.composableOf([attr('ComposableAttribute', typeArg('Test.IFactory'), enumArg('CompositionType', 1), uint(0x10000), enumArg('Platform', 0))]), [
    { type: named('Test.IFactory'), compositionType: 'Protected', version: 0x10000, platform: 'Windows' },
  ]);
  assert.equal(winrt.composableOf([attr('ComposableAttribute', typeArg('Test.IFactory'), enumArg('CompositionType', 2), uint(1), str('C'))])[0]?.compositionType, 'Public');
  assert.equal(winrt.composableOf([attr('ComposableAttribute', typeArg('Test.IFactory'), enumArg('CompositionType', 9), uint(1))])[0]?.compositionType, 9);
});

meaning('Version, ContractVersion (all three forms), ExclusiveTo, Overload', () => {
  assert.is(winrt.versionOf([attr('VersionAttribute', uint(0x06020000), enumArg('Platform', 0))]), 0x06020000);
  assert.is(winrt.versionOf([attr('ContractVersionAttribute', uint(1))]), null);
  assert.equal(winrt.contractVersionOf([attr('ContractVersionAttribute', uint(0x50000))]), { version: 0x50000 });
  assert.equal(winrt.contractVersionOf([attr('ContractVersionAttribute', typeArg('Test.Contract'), uint(0x10000))]), { contract: 'Test.Contract', version: 0x10000 });
  assert.equal(winrt.contractVersionOf([attr('ContractVersionAttribute', str('Test.Contract'), uint(0x20000))]), { contract: 'Test.Contract', version: 0x20000 });
  assert.equal(winrt.exclusiveToOf([attr('ExclusiveToAttribute', typeArg('Test.Class'))]), named('Test.Class'));
  assert.is(winrt.overloadOf([attr('OverloadAttribute', str('RequestAsyncSimple'))]), 'RequestAsyncSimple');
  assert.is(winrt.overloadOf([attr('DefaultOverloadAttribute')]), null);
});

meaning('Deprecated, MarshalingBehavior, Threading', () => {
  assert.equal(winrt.deprecatedOf([attr('DeprecatedAttribute', str('Use X.'), enumArg('DeprecationType', 1), uint(0x20000), str('Test.Contract'))]), [
    { message: 'Use X.', type: 'Remove', version: 0x20000, contract: 'Test.Contract' },
  ]);
  assert.equal(winrt.deprecatedOf([attr('DeprecatedAttribute', str('Old.'), enumArg('DeprecationType', 0), uint(0x06020000), enumArg('Platform', 0))]), [
    { message: 'Old.', type: 'Deprecate', version: 0x06020000, platform: 'Windows' },
  ]);
  assert.is(winrt.marshalingBehaviorOf([attr('MarshalingBehaviorAttribute', enumArg('MarshalingType', 2))]), 'Agile');
  assert.is(winrt.marshalingBehaviorOf([attr('MarshalingBehaviorAttribute', enumArg('MarshalingType', 3))]), 'Standard');
  assert.is(winrt.threadingOf([attr('ThreadingAttribute', enumArg('ThreadingModel', 1))]), 'STA');
  assert.is(winrt.threadingOf([attr('ThreadingAttribute', enumArg('ThreadingModel', 3))]), 'Both');
  assert.is(winrt.threadingOf([]), null);
});

meaning.run();
