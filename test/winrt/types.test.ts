// WinRT type names, signatures and pinterface IIDs. The expected IIDs are the ones Windows'
// own headers give these instantiations; the descriptors are written by hand here with the
// real parameterized IIDs, so the check does not depend on the generator.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObject, E_NOTIMPL, Guid, IInspectable } from '../../lib/com/index.js';
import { callSlot } from '../support/native.js';
import { descriptorOf, formatTypeName, guidOf, parseTypeName, registeredTypeNames, registerTypes, registerTypesText, resolveType, signatureOf } from '../../lib/winrt/types.js';
import { iidFromSignature } from '../../lib/winrt/signature.js';

registerTypes('Test.Types', {
  'IIterable`1': { kind: 'interface', iid: 'FAA585EA-6214-4217-AFDA-7F46DE5869B3', generics: ['T'], methods: [['First', [], 'Test.Types.IIterator`1<T>']] },
  'IIterator`1': {
    kind: 'interface', iid: '6A79E863-4300-459A-9966-CBB660963EE1', generics: ['T'],
    methods: [['get_Current', [], 'T'], ['get_HasCurrent', [], 'Boolean'], ['MoveNext', [], 'Boolean'], ['GetMany', [['items', 'T', 'fill']], 'UInt32']],
  },
  'IKeyValuePair`2': { kind: 'interface', iid: '02B51929-C1C4-4A7E-8940-0312B5C18500', generics: ['K', 'V'], methods: [['get_Key', [], 'K'], ['get_Value', [], 'V']] },
  Color: { kind: 'enum', type: 'Int32', values: { Red: 0, Green: 1 } },
  Size: { kind: 'struct', fields: [['Width', 'Single'], ['Height', 'Single']] },
  IShape: { kind: 'interface', iid: '11111111-2222-3333-4444-555555555555', methods: [['get_Size', [], 'Test.Types.Size'], ['put_Color', [['value', 'Test.Types.Color']]]] },
  Shape: { kind: 'class', default: 'Test.Types.IShape', interfaces: ['Test.Types.IShape'], activatable: true },
  IPartial: { kind: 'interface', iid: '22222222-2222-3333-4444-555555555555', methods: [['UsesMissing', [['x', 'Test.Missing.Thing']]], ['Works', [], 'Int32']] },
  Handler: { kind: 'delegate', iid: '99999999-8888-7777-6666-555555555555', params: [['sender', 'Object'], ['size', 'Test.Types.Size']] },
});

const names = suite('WinRT type names');

names('parse and format, with arity, nesting and spaces', () => {
  const parsed = parseTypeName('Windows.Foundation.Collections.IMapView`2<Guid, Windows.Foundation.IReference`1<Int32>>');
  assert.is(parsed.name, 'Windows.Foundation.Collections.IMapView`2');
  assert.is(parsed.args.length, 2);
  assert.is(parsed.args[1]!.args[0]!.name, 'Int32');
  assert.is(formatTypeName(parsed), 'Windows.Foundation.Collections.IMapView`2<Guid, Windows.Foundation.IReference`1<Int32>>');
  assert.is(formatTypeName(parseTypeName('IVector<String>')), 'IVector`1<String>', 'the arity is implied');
  assert.ok(parseTypeName('Int32[]').array);
});

names('malformed names are TypeErrors naming the input and position', () => {
  assert.throws(() => parseTypeName('IVector<'), /Invalid WinRT type name "IVector<": expected a name at position 8/);
  assert.throws(() => parseTypeName('IMap`2<String>'), /takes 2 type arguments, got 1/);
  assert.throws(() => parseTypeName('A B'), /unexpected text/);
  assert.throws(() => parseTypeName(''), /expected a name/);
  assert.throws(() => parseTypeName(42 as never), /expected a WinRT type name/);
});

const iids = suite('pinterface IIDs');

names.run();

iids('instantiations get the IIDs Windows gives them', () => {
  assert.is(guidOf('Test.Types.IIterable`1<String>').toString(), 'E2FCC7C1-3BFC-5A0B-B2B0-72E769D1CB7E');
  assert.is(guidOf('Test.Types.IIterable<Test.Types.IKeyValuePair<Guid, Object>>').toString(), 'F3B20528-E3B3-5331-B2D0-0C2623AEE785');
});

iids('signatures of every kind', () => {
  assert.is(signatureOf('Int32'), 'i4');
  assert.is(signatureOf('Object'), 'cinterface(IInspectable)');
  assert.is(signatureOf('Test.Types.Color'), 'enum(Test.Types.Color;i4)');
  assert.is(signatureOf('Test.Types.Size'), 'struct(Test.Types.Size;f4;f4)');
  assert.is(signatureOf('Test.Types.IShape'), '{11111111-2222-3333-4444-555555555555}');
  assert.is(signatureOf('Test.Types.Shape'), 'rc(Test.Types.Shape;{11111111-2222-3333-4444-555555555555})');
  assert.is(signatureOf('Test.Types.Handler'), 'delegate({99999999-8888-7777-6666-555555555555})');
  assert.is(signatureOf('Test.Types.IIterable`1<Test.Types.Shape>'), 'pinterface({faa585ea-6214-4217-afda-7f46de5869b3};rc(Test.Types.Shape;{11111111-2222-3333-4444-555555555555}))');
});

iids('guidOf: classes give their default interface, enums and structs their signature GUID', () => {
  assert.is(guidOf('Test.Types.Shape').toString(), '11111111-2222-3333-4444-555555555555');
  assert.is(guidOf('Test.Types.Size').toString(), iidFromSignature('struct(Test.Types.Size;f4;f4)').toString());
  assert.throws(() => guidOf('Int32'), /primitive type: it has no GUID/);
  assert.throws(() => guidOf('Test.Types.Nope'), /Unknown WinRT type Test\.Types\.Nope: no projection of Test\.Types is loaded/);
  assert.throws(() => guidOf('Test.Types.IIterable`1'), /takes 1 type argument, got 0/);
});

iids.run();

const interfaces = suite('interfaces from descriptors');

interfaces('an instantiated generic is a COM interface with its IID, methods and slot order', () => {
  const iterator = resolveType('Test.Types.IIterator`1<String>');
  assert.is(iterator.kind, 'interface');
  const iface = (iterator as { iface: import('../../lib/com/index.js').ComInterface }).iface;
  assert.is(iface.name, 'Test.Types.IIterator`1<String>');
  assert.ok(iface.base === IInspectable);
  assert.equal(iface.methods.map((m) => [m.name, m.slot]), [['get_Current', 6], ['get_HasCurrent', 7], ['MoveNext', 8], ['GetMany', 9]]);
  assert.equal(iface.methods[0]!.signature.params.map((p) => [p.kind, p.direction]), [['hstring', 'out']]);
  assert.equal(iface.methods[3]!.signature.params.map((p) => [p.kind, p.array]), [['array', 'fill'], ['value', undefined]]);
  assert.ok(resolveType('Test.Types.IIterator`1<String>') === iterator, 'instantiations are cached');
});

interfaces('a JS object implements an instantiated generic interface and is called through it', () => {
  const iface = (resolveType('Test.Types.IIterator`1<Test.Types.Size>') as { iface: import('../../lib/com/index.js').ComInterface<any> }).iface;
  const sizes = [{ Width: 1, Height: 2 }, { Width: 3, Height: 4 }];
  let index = 0;
  using iterator = createObject<any>({
    get_Current: () => sizes[index],
    get_HasCurrent: () => index < sizes.length,
    MoveNext: () => ++index < sizes.length,
    GetMany: (items: unknown[]) => {
      let n = 0;
      for (; n < items.length && index < sizes.length; n++, index++) items[n] = sizes[index];
      return n;
    },
  }, [iface]);
  assert.equal(iterator.get_Current(), { Width: 1, Height: 2 });
  assert.is(iterator.MoveNext(), true);
  assert.is(iterator.MoveNext(), false);
  index = 0;
  const items = new Array(3);
  assert.is(iterator.GetMany(items), 2);
  assert.equal(items.slice(0, 2), sizes);
  assert.ok(Guid.parse(iface.iid.toString()).equals(guidOf('Test.Types.IIterator`1<Test.Types.Size>')));
});

interfaces('a delegate is an IUnknown-based interface with Invoke', () => {
  const handler = resolveType('Test.Types.Handler') as { iface: import('../../lib/com/index.js').ComInterface<any> };
  assert.equal(handler.iface.methods.map((m) => [m.name, m.slot]), [['Invoke', 3]]);
  const seen: unknown[] = [];
  using delegate = createObject<any>({ Invoke: (sender: unknown, size: unknown) => seen.push(sender, size) }, [handler.iface]);
  delegate.Invoke(null, { Width: 5, Height: 6 });
  assert.equal(seen, [null, { Width: 5, Height: 6 }]);
});

interfaces('a method using a type that is not projected keeps its slot and explains itself', () => {
  const partial = (resolveType('Test.Types.IPartial') as { iface: import('../../lib/com/index.js').ComInterface<any> }).iface;
  assert.equal(partial.methods.map((m) => [m.name, m.slot]), [['UsesMissing', 6], ['Works', 7]]);
  using object = createObject<any>({ Works: () => 42 }, [partial]);
  assert.is(object.Works(), 42, 'the slot after the placeholder is in place');
  assert.throws(() => object.UsesMissing(1), /IPartial\.UsesMissing: it uses Test\.Missing\.Thing, which is not projected \(add Test\.Missing to the projection/);
  const raw = object.pointer;
  assert.is(callSlot(raw, 6, 'int32_t', ['int32_t'], 1), E_NOTIMPL, 'a native caller gets E_NOTIMPL from the JS implementation');
});

interfaces.run();

const text = suite('descriptors registered as JSON text');

text('a type given as text is parsed on its first lookup, and resolves like the same record', () => {
  registerTypes('Test.Text', {
    Color: '{"kind":"enum","type":"UInt32","values":{"Red":0,"Blue":2}}',
    IPainter: '{"kind":"interface","iid":"33333333-2222-3333-4444-555555555555","methods":[["Paint",[["color","Test.Text.Color"]],"Test.Text.Color"]]}',
    Broken: '{"kind":',
    NotAType: '[1, 2]',
  });
  // Listed without being parsed: the broken ones throw only when looked up.
  const listed = registeredTypeNames();
  for (const name of ['Color', 'IPainter', 'Broken', 'NotAType']) assert.ok(listed.includes(`Test.Text.${name}`), name);
  const color = resolveType('Test.Text.Color');
  assert.is(color.kind, 'enum');
  assert.is(color.kind === 'enum' && color.native, 'uint32_t');
  const painter = resolveType('Test.Text.IPainter');
  assert.is(painter.kind === 'interface' && painter.iface.methods[0]!.unavailable, undefined, 'the method refers to a type given as text');
  assert.equal(descriptorOf('Test.Text.Color'), { kind: 'enum', type: 'UInt32', values: { Red: 0, Blue: 2 } });
  assert.throws(() => resolveType('Test.Text.Broken'), /The descriptor registered for Test\.Text\.Broken is not valid JSON/);
  assert.throws(() => descriptorOf('Test.Text.NotAType'), /Test\.Text\.NotAType is not a type descriptor/);
  assert.throws(() => resolveType('Test.Text.Missing'), /Unknown WinRT type Test\.Text\.Missing: no projection of Test\.Text is loaded/);
});

text('resolving an interface looks up none of the types its methods use: they are looked up when its methods are parsed', () => {
  const looked: string[] = [];
  registerTypes('Test.Lazy', {
    get Color(): string {
      looked.push('Color');
      return '{"kind":"enum","type":"Int32","values":{"Red":0}}';
    },
    IPainter: '{"kind":"interface","iid":"33333333-2222-3333-4444-666666666666","methods":[["Paint",[["color","Test.Lazy.Color"]]],["Mix",[],"Test.Lazy.Missing"]]}',
  });
  const painter = resolveType('Test.Lazy.IPainter');
  assert.is(painter.kind === 'interface' && painter.iface.slotCount, 8, 'IInspectable\'s six slots and its two');
  assert.equal(looked, [], 'Color not looked up yet');
  const [paint, mix] = painter.kind === 'interface' ? painter.iface.methods : [];
  assert.equal(looked, ['Color']);
  assert.is(paint!.unavailable, undefined);
  assert.match(mix!.unavailable ?? '', /Test\.Lazy\.Missing, which is not projected/, 'a method using a type not projected is still a placeholder');
});

text('a later registration of a type replaces an earlier one, text or record', () => {
  registerTypes('Test.Later', { Mode: '{"kind":"enum","type":"Int32","values":{"A":0}}', Kept: { kind: 'enum', type: 'Int32', values: { K: 1 } } });
  assert.equal(descriptorOf('Test.Later.Mode'), { kind: 'enum', type: 'Int32', values: { A: 0 } });
  registerTypes('Test.Later', { Mode: { kind: 'enum', type: 'Int32', values: { B: 1 } } });
  assert.equal(descriptorOf('Test.Later.Mode'), { kind: 'enum', type: 'Int32', values: { B: 1 } });
  registerTypes('Test.Later', { Mode: '{"kind":"enum","type":"Int32","values":{"C":2}}' });
  assert.equal(descriptorOf('Test.Later.Mode'), { kind: 'enum', type: 'Int32', values: { C: 2 } });
  assert.equal(descriptorOf('Test.Later.Kept'), { kind: 'enum', type: 'Int32', values: { K: 1 } }, 'the other types stay');
});

text('a namespace registered as one text (registerTypesText): each type found and parsed on its first lookup, replaced by a later registration of it', () => {
  registerTypesText('Test.Whole', [
    'Color {"kind":"enum","type":"UInt32","values":{"Red":0,"Blue":2}}',
    'IPainter {"kind":"interface","iid":"33333333-2222-3333-4444-777777777777","methods":[["Paint",[["color","Test.Whole.Color"]],"Test.Whole.Color"]]}',
    'Broken {"kind":',
  ].join('\n'));
  const listed = registeredTypeNames();
  for (const name of ['Color', 'IPainter', 'Broken']) assert.ok(listed.includes(`Test.Whole.${name}`), name);
  assert.equal(descriptorOf('Test.Whole.Color'), { kind: 'enum', type: 'UInt32', values: { Red: 0, Blue: 2 } });
  const painter = resolveType('Test.Whole.IPainter');
  assert.is(painter.kind === 'interface' && painter.iface.methods[0]!.unavailable, undefined);
  assert.throws(() => resolveType('Test.Whole.Broken'), /The descriptor registered for Test\.Whole\.Broken is not valid JSON/);
  assert.is(descriptorOf('Test.Whole.Colo'), undefined, 'a prefix of a name is not the name');
  assert.is(descriptorOf('Test.Whole.Missing'), undefined);
  registerTypes('Test.Whole', { Color: { kind: 'enum', type: 'Int32', values: { Green: 1 } } });
  assert.equal(descriptorOf('Test.Whole.Color'), { kind: 'enum', type: 'Int32', values: { Green: 1 } }, 'a record after the text');
  registerTypesText('Test.Whole', 'Color {"kind":"enum","type":"Int32","values":{"Cyan":3}}');
  assert.equal(descriptorOf('Test.Whole.Color'), { kind: 'enum', type: 'Int32', values: { Cyan: 3 } }, 'a text after the record');
  assert.ok(descriptorOf('Test.Whole.IPainter'), 'the other types stay');
  assert.throws(() => registerTypesText('Test.Whole', '{"kind":"enum"}'), /registerTypesText\("Test\.Whole"\): text must hold a type a line/);
  assert.throws(() => registerTypesText('Test..Whole', ''), /registerTypesText: namespace must be a dotted name/);
});

text('bad arguments are TypeErrors naming them', () => {
  assert.throws(() => registerTypes('', {}), /namespace must be a dotted name/);
  assert.throws(() => registerTypes('Test..Twice', {}), /namespace must be a dotted name.*"Test\.\.Twice"/);
  assert.throws(() => registerTypes('Test.Null', null as never), /registerTypes\("Test\.Null"\): types must be a record of descriptors by name, got null/);
  assert.throws(() => registerTypes('Test.Text', '{}' as never), /got string/);
  assert.throws(() => registerTypes('Test.Array', [] as never), /got an array/);
});

text.run();
