// Method signatures in SDK-header notation, parsed by winbg itself: every accepted form, and
// every rejected one as a TypeError naming the method and parameter — never a koffi crash.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defineInterface, IInspectable, IUnknown } from '../../lib/com/index.js';
import { parseSignature, type ParamSpec, type ParsedSignature } from '../../lib/com/signature.js';

const WHERE = 'IFoo.Method';
const INTERFACES = new Set(['IFoo', 'IBar']);
const INTERFACE = { kind: 'interface' } as const;
const parse = (text: string): ParsedSignature => parseSignature(text, WHERE, (name) => (INTERFACES.has(name) ? INTERFACE : undefined));
/** The one parameter of `text`. */
const param = (text: string): ParamSpec => {
  const { params } = parse(`HRESULT (${text})`);
  assert.is(params.length, 1, `one parameter in ${text}`);
  return params[0]!;
};
const spec = (fields: Partial<ParamSpec> & Pick<ParamSpec, 'kind' | 'native'>): ParamSpec => ({
  name: 'x', direction: 'in', interfaceName: null, optional: false, ...fields,
});
const HRESULT = { kind: 'hresult', native: 'int32_t' } as const;

/** Asserts a TypeError whose message contains every one of `parts`. */
function rejects(action: () => unknown, ...parts: string[]): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  assert.instance(caught, TypeError, `expected a TypeError mentioning ${parts.join(', ')}`);
  for (const part of parts) {
    assert.ok((caught as Error).message.includes(part), `${JSON.stringify((caught as Error).message)} mentions ${JSON.stringify(part)}`);
  }
}

// ---------------------------------------------------------------------------------------------

const forms = suite('parseSignature: overall forms');

forms('HRESULT spelled out, unnamed method', () => {
  assert.equal(parse('HRESULT (int32_t x)'), { name: null, returns: HRESULT, params: [spec({ kind: 'value', native: 'int32_t' })] });
});

forms('HRESULT implied when the return type is left out', () => {
  assert.equal(parse('(int32_t x)'), parse('HRESULT (int32_t x)'));
  assert.equal(parse('Add(int32_t x)'), { name: 'Add', returns: HRESULT, params: [spec({ kind: 'value', native: 'int32_t' })] });
});

forms('named method with a return type', () => {
  const parsed = parse('HRESULT Add(int32_t a, int32_t b, _Out_ int32_t *sum)');
  assert.is(parsed.name, 'Add');
  assert.equal(parsed.returns, HRESULT);
  assert.equal(parsed.params.map((p) => [p.name, p.direction]), [['a', 'in'], ['b', 'in'], ['sum', 'out']]);
});

forms('calling-convention macros are ignored', () => {
  assert.equal(parse('HRESULT STDMETHODCALLTYPE Add(int32_t x)'), parse('HRESULT Add(int32_t x)'));
  assert.equal(parse('HRESULT __stdcall (int32_t x)'), parse('HRESULT (int32_t x)'));
});

forms('unnamed parameters are called arg<index>', () => {
  const parsed = parse('HRESULT (int32_t, HSTRING, _Out_ IFoo **)');
  assert.equal(parsed.params.map((p) => p.name), ['arg0', 'arg1', 'arg2']);
  assert.equal(parsed.params.map((p) => p.kind), ['value', 'hstring', 'interface']);
});

forms("'(void)' and '()' have no parameters", () => {
  for (const text of ['HRESULT (void)', 'HRESULT ()', 'HRESULT ( void )', '()', 'ULONG (  )']) {
    assert.equal(parse(text).params, [], text);
  }
});

forms('whitespace and pointer spacing do not matter', () => {
  assert.equal(parse('HRESULT(_Out_ IFoo**x)'), parse('HRESULT ( _Out_ IFoo * * x )'));
  assert.equal(parse('HRESULT(int32_t*x)').params, [spec({ kind: 'pointer', native: 'void *' })]);
});

forms('return kinds: HRESULT, a value, void, a pointer', () => {
  assert.equal(parse('HRESULT ()').returns, HRESULT);
  assert.equal(parse('ULONG ()').returns, { kind: 'value', native: 'uint32_t' });
  assert.equal(parse('ULONG AddRef()').returns, { kind: 'value', native: 'uint32_t' });
  assert.equal(parse('int64_t ()').returns, { kind: 'value', native: 'int64_t' });
  assert.equal(parse('BOOL ()').returns, { kind: 'value', native: 'int32_t' });
  assert.equal(parse('double ()').returns, { kind: 'value', native: 'double' });
  assert.equal(parse('void ()').returns, { kind: 'void', native: 'void' });
  assert.equal(parse('void Close(void)').returns, { kind: 'void', native: 'void' });
  assert.equal(parse('void *()').returns, { kind: 'pointer', native: 'void *' });
  assert.equal(parse('IFoo *Get()').returns, { kind: 'pointer', native: 'void *' });
  assert.equal(parse('const WCHAR *Name()').returns, { kind: 'pointer', native: 'void *' });
});

forms.run();

// ---------------------------------------------------------------------------------------------

const kinds = suite('parseSignature: in-parameter kinds');

kinds('value: primitives in koffi spelling', () => {
  const cases: [string, string][] = [
    ['int32_t', 'int32_t'], ['uint8_t', 'uint8_t'], ['int64_t', 'int64_t'], ['uint64_t', 'uint64_t'], ['int', 'int32_t'],
    ['double', 'double'], ['float', 'float'], ['bool', 'bool'], ['char16_t', 'uint16_t'], ['ULONG', 'uint32_t'],
    ['DWORD', 'uint32_t'], ['BOOL', 'int32_t'], ['BOOLEAN', 'uint8_t'], ['LONGLONG', 'int64_t'], ['WCHAR', 'uint16_t'],
    ['HRESULT', 'int32_t'],
  ];
  for (const [type, native] of cases) assert.equal(param(`${type} x`), spec({ kind: 'value', native }), type);
  assert.equal(param('const int32_t x'), spec({ kind: 'value', native: 'int32_t' }), 'const is ignored');
});

kinds('pointer: void *, and pointers to values, strings, GUID pointers and interface pointers', () => {
  for (const text of ['void *x', 'const void *x', 'int32_t *x', 'uint8_t **x', 'IFoo **x', 'HSTRING *x', 'GUID **x', 'void **x']) {
    assert.equal(param(text), spec({ kind: 'pointer', native: 'void *' }), text);
  }
});

kinds('hstring: HSTRING by value', () => {
  assert.equal(param('HSTRING x'), spec({ kind: 'hstring', native: 'void *' }));
  assert.equal(param('_In_ HSTRING x'), spec({ kind: 'hstring', native: 'void *' }));
});

kinds("guid: REFIID and friends, 'const GUID *' and friends", () => {
  for (const text of ['REFIID x', 'REFGUID x', 'REFCLSID x', 'const GUID *x', 'GUID *x', 'const IID *x', 'const CLSID *x']) {
    assert.equal(param(text), spec({ kind: 'guid', native: 'void *' }), text);
  }
});

kinds("interface: 'IFoo *' with the interface's name", () => {
  assert.equal(param('IFoo *x'), spec({ kind: 'interface', native: 'void *', interfaceName: 'IFoo' }));
  assert.equal(param('IBar *x'), spec({ kind: 'interface', native: 'void *', interfaceName: 'IBar' }));
  assert.equal(param('_In_opt_ IFoo *x'), spec({ kind: 'interface', native: 'void *', interfaceName: 'IFoo', optional: true }));
});

kinds('interface names are looked up with the callback', () => {
  const asked: string[] = [];
  const parsed = parseSignature('HRESULT (IKnown *a)', WHERE, (name) => (asked.push(name), name === 'IKnown' ? INTERFACE : undefined));
  assert.is(parsed.params[0]!.kind, 'interface');
  assert.ok(asked.includes('IKnown'));
  rejects(() => parseSignature('HRESULT (IKnown *a)', WHERE, () => undefined), WHERE, 'parameter 1', 'IKnown');
});

kinds('wstring: LPCWSTR and PCWSTR', () => {
  assert.equal(param('LPCWSTR x'), spec({ kind: 'wstring', native: 'void *' }));
  assert.equal(param('PCWSTR x'), spec({ kind: 'wstring', native: 'void *' }));
});

kinds.run();

// ---------------------------------------------------------------------------------------------

const outs = suite('parseSignature: out and in/out parameters');

outs('_Out_ int32_t * is an out value', () => {
  assert.equal(param('_Out_ int32_t *x'), spec({ kind: 'value', native: 'int32_t', direction: 'out' }));
  assert.equal(param('_Out_ ULONG *x'), spec({ kind: 'value', native: 'uint32_t', direction: 'out' }));
  assert.equal(param('_Out_ double *x'), spec({ kind: 'value', native: 'double', direction: 'out' }));
});

outs('_Out_ IFoo ** is an out interface', () => {
  assert.equal(param('_Out_ IFoo **x'), spec({ kind: 'interface', native: 'void *', interfaceName: 'IFoo', direction: 'out' }));
  assert.equal(param('_COM_Outptr_ IBar **x'), spec({ kind: 'interface', native: 'void *', interfaceName: 'IBar', direction: 'out' }));
});

outs('_Out_ void ** is an out pointer', () => {
  assert.equal(param('_Out_ void **x'), spec({ kind: 'pointer', native: 'void *', direction: 'out' }));
  assert.equal(param('_COM_Outptr_ void **x'), spec({ kind: 'pointer', native: 'void *', direction: 'out' }));
  assert.equal(param('_Outptr_ void **x'), spec({ kind: 'pointer', native: 'void *', direction: 'out' }));
});

outs('_Out_ HSTRING * is an out string', () => {
  assert.equal(param('_Out_ HSTRING *x'), spec({ kind: 'hstring', native: 'void *', direction: 'out' }));
});

outs('_Out_ GUID * is an out GUID', () => {
  assert.equal(param('_Out_ GUID *x'), spec({ kind: 'guid', native: 'void *', direction: 'out' }));
  assert.equal(param('_Out_ IID *x'), spec({ kind: 'guid', native: 'void *', direction: 'out' }));
});

outs('_Out_opt_ and _Outptr_result_maybenull_ are out parameters; only _opt_ is optional', () => {
  assert.equal(param('_Out_opt_ int32_t *x'), spec({ kind: 'value', native: 'int32_t', direction: 'out', optional: true }));
  assert.equal(
    param('_Outptr_result_maybenull_ IFoo **x'),
    spec({ kind: 'interface', native: 'void *', interfaceName: 'IFoo', direction: 'out' }),
  );
});

outs('_Inout_ is passed as a raw pointer in-parameter', () => {
  assert.equal(param('_Inout_ int32_t *x'), spec({ kind: 'pointer', native: 'void *' }));
  assert.equal(param('_Inout_ HSTRING *x'), spec({ kind: 'pointer', native: 'void *' }));
  assert.equal(param('_Inout_ IFoo **x'), spec({ kind: 'pointer', native: 'void *' }));
});

outs('a realistic mixed signature', () => {
  const parsed = parse('HRESULT Run(REFIID riid, _In_ HSTRING name, IFoo *sender, LPCWSTR path, _Out_ IBar **result, _Out_ GUID *id)');
  assert.equal(
    parsed.params.map((p) => `${p.name}:${p.direction}:${p.kind}:${p.interfaceName ?? '-'}`),
    ['riid:in:guid:-', 'name:in:hstring:-', 'sender:in:interface:IFoo', 'path:in:wstring:-', 'result:out:interface:IBar', 'id:out:guid:-'],
  );
});

outs.run();

// ---------------------------------------------------------------------------------------------

const errors = suite('parseSignature: errors');

errors('an unknown type names the method, the parameter position and the type', () => {
  rejects(() => parse('HRESULT (int32_t a, NOPE b)'), WHERE, 'parameter 2', 'NOPE');
  rejects(() => parse('HRESULT (const NOPE *x)'), WHERE, 'parameter 1', 'NOPE');
  rejects(() => parse('HRESULT (_Out_ NOPE **x)'), WHERE, 'parameter 1', 'NOPE');
  rejects(() => parse('HRESULT (void x)'), WHERE, 'parameter 1', 'void');
  rejects(() => parse('HRESULT (_Out_ LPCWSTR *x)'), WHERE, 'parameter 1', 'LPCWSTR');
});

errors('an unknown return type', () => {
  rejects(() => parse('NOPE Method(int32_t a)'), WHERE, 'NOPE');
  rejects(() => parse('unsigned long Method()'), WHERE);
});

errors('_Out_ or _Inout_ of a non-pointer', () => {
  rejects(() => parse('HRESULT (int32_t a, _Out_ int32_t b)'), WHERE, 'parameter 2', '_Out_', 'pointer');
  rejects(() => parse('HRESULT (_Out_ HSTRING s)'), WHERE, 'parameter 1', '_Out_');
  rejects(() => parse('HRESULT (_Out_ REFIID riid)'), WHERE, 'parameter 1', '_Out_');
  rejects(() => parse('HRESULT (_Inout_ int32_t x)'), WHERE, 'parameter 1', '_Inout_');
});

errors('an unknown annotation', () => {
  rejects(() => parse('HRESULT (_Outt_ int32_t *x)'), WHERE, 'parameter 1', '_Outt_');
  rejects(() => parse('HRESULT (int32_t a, _Reserved_ void *b)'), WHERE, 'parameter 2', '_Reserved_');
});

errors('garbage where a parameter should be', () => {
  rejects(() => parse('HRESULT (int32_t a b c)'), WHERE, 'parameter 1');
  rejects(() => parse('HRESULT (int32_t 1a)'), WHERE, 'parameter 1');
  rejects(() => parse('HRESULT (int32_t a,)'), WHERE, 'parameter 2');
  rejects(() => parse('HRESULT (int32_t a, , int32_t b)'), WHERE, 'parameter 2');
  rejects(() => parse('HRESULT (REFIID &riid)'), WHERE, 'parameter 1');
  rejects(() => parse('HRESULT (int32_t (*fn)(int))'), WHERE, 'parameter 1');
  rejects(() => parse('HRESULT (int32_t a[4])'), WHERE, 'parameter 1');
  rejects(() => parse('HRESULT (_Out_)'), WHERE, 'parameter 1');
  rejects(() => parse('HRESULT (*)'), WHERE, 'parameter 1');
});

errors('missing or misplaced parentheses', () => {
  rejects(() => parse('HRESULT Method'), WHERE, '"HRESULT Method"');
  rejects(() => parse('HRESULT (int32_t a'), WHERE);
  rejects(() => parse('HRESULT int32_t a)'), WHERE);
  rejects(() => parse('HRESULT )int32_t a('), WHERE);
  rejects(() => parse('HRESULT (int32_t a) const'), WHERE);
  rejects(() => parse(''), WHERE);
});

errors('garbage before the parentheses', () => {
  rejects(() => parse('HRESULT WINAPI Method()'), WHERE);
  rejects(() => parse('1HRESULT ()'), WHERE);
});

errors('a signature that is not a string', () => {
  for (const value of [42, null, undefined, { text: 'HRESULT ()' }]) {
    rejects(() => parseSignature(value as never, WHERE, () => undefined), WHERE, 'string');
  }
});

errors.run();

// ---------------------------------------------------------------------------------------------

const definitions = suite('defineInterface validation');
const IID = (n: number): string => `5c0b8a3e-7f21-4d6a-9b1e-2d4f6a8c${n.toString(16).padStart(4, '0')}`;

definitions('the name must be an identifier', () => {
  for (const name of ['', '1IFoo', 'I Foo', 'IFoo*', 42, null]) {
    rejects(() => defineInterface({ name: name as never, iid: IID(1), base: IUnknown, methods: {} }), 'name');
  }
});

definitions('the base must be an interface', () => {
  for (const base of [null, undefined, {}, 'IUnknown', IUnknown.iid]) {
    rejects(() => defineInterface({ name: 'ISigBadBase', iid: IID(2), base: base as never, methods: {} }), 'ISigBadBase', 'base');
  }
});

definitions('methods must be an object; the definition must be an object', () => {
  rejects(() => defineInterface({ name: 'ISigBadMethods', iid: IID(3), base: IUnknown, methods: null as never }), 'ISigBadMethods', 'methods');
  rejects(() => defineInterface(null as never), 'defineInterface');
});

definitions('a malformed IID is a TypeError showing it', () => {
  rejects(() => defineInterface({ name: 'ISigBadIid', iid: 'not-an-iid', base: IUnknown, methods: {} }), 'not-an-iid');
});

definitions('a bad signature is reported when .methods is first read, as a TypeError', () => {
  // koffi itself would take the process down on some malformed prototypes; this must not reach it.
  const IBad = defineInterface({
    name: 'ISigBadSignature',
    iid: IID(4),
    base: IInspectable,
    methods: { Fine: 'HRESULT (int32_t a)', Broken: 'HRESULT (const NOPE *x)' },
  });
  assert.is(IBad.slotCount, 8, 'defining the interface does not parse its signatures');
  rejects(() => IBad.methods, 'ISigBadSignature.Broken', 'parameter 1', 'NOPE');
  rejects(() => IBad.methods, 'ISigBadSignature.Broken', 'parameter 1'); // not cached as half-parsed
  rejects(() => IBad.allMethods, 'ISigBadSignature.Broken');
});

definitions('other malformed signatures fail lazily as TypeErrors too', () => {
  const cases = ['HRESULT (int32_t a', 'HRESULT (_Bogus_ int32_t *a)', 'HRESULT (_Out_ int32_t a)', 'NOPE Broken()', 'HRESULT (int32_t a b c)'];
  cases.forEach((signature, index) => {
    const iface = defineInterface({ name: `ISigLazy${index}`, iid: IID(16 + index), base: IUnknown, methods: { Broken: signature } });
    rejects(() => iface.methods, `ISigLazy${index}.Broken`);
  });
});

definitions('signatures may name an interface defined later (parsed lazily)', () => {
  const IFirst = defineInterface({
    name: 'ISigForwardFirst',
    iid: IID(5),
    base: IUnknown,
    methods: { GetSecond: 'HRESULT (_Out_ ISigForwardSecond **second)', Self: 'HRESULT (ISigForwardFirst *self)' },
  });
  defineInterface({ name: 'ISigForwardSecond', iid: IID(6), base: IUnknown, methods: {} });
  const [getSecond, self] = IFirst.methods;
  assert.equal([getSecond!.slot, self!.slot], [3, 4]);
  assert.is(getSecond!.signature.params[0]!.kind, 'interface');
  assert.is(getSecond!.signature.params[0]!.interfaceName, 'ISigForwardSecond');
  assert.is(self!.signature.params[0]!.interfaceName, 'ISigForwardFirst');
});

definitions.run();

const returns = suite('parseSignature: return types');
const noInterfaces = (): undefined => undefined;

returns('a lone type word before the parentheses is a return type, not a method name', () => {
  assert.throws(() => parseSignature('HSTRING ()', 'IX.M', noInterfaces), /return type "HSTRING" is not supported/);
  assert.throws(() => parseSignature('GUID ()', 'IX.M', noInterfaces), /not supported/);
  assert.is(parseSignature('ULONG ()', 'IX.M', noInterfaces).returns.kind, 'value');
  assert.is(parseSignature('Name ()', 'IX.M', noInterfaces).name, 'Name');
});

returns('a pointer return type must name a known type', () => {
  assert.throws(() => parseSignature('NOPE *Get()', 'IX.Get', noInterfaces), /unknown return type "NOPE \*"/);
  assert.is(parseSignature('void *Get()', 'IX.Get', noInterfaces).returns.kind, 'pointer');
});

returns.run();
