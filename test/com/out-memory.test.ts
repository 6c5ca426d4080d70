// Out-parameters written by native code (winbgtest's values object, C) into winbg's reusable
// out-memory: every kind, through the compiled callers and through the general path; a callee
// that writes its out-parameter and then calls back into JS, which calls the same method again
// (the nested call must not overwrite the outer one's result); concurrent asynchronous calls, each
// with memory of its own; a failed call whose callee set its interface out-parameter anyway.
import { spawnSync } from 'node:child_process';
import koffi from 'koffi';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComError, ComPtr, createHString, createObject, defineInterface, defineStruct, deleteHString, Guid, IInspectable, type Com } from '../../lib/com/index.js';
import { setCompiling } from '../../lib/com/compile.js';
import { OutLayout, outCell } from '../../lib/com/out-memory.js';
import { reenterCallback, valuesObject, winbgtest, winbgtestMissing } from '../support/winbgtest.js';

const lib = winbgtest();
// As in native-threads.test: our CI builds winbgtest, so a missing one there is a failure.
const required = process.env.CI === 'true' && (process.platform === 'linux' || process.env.WINBG_UNDER_WINE === '1');
const test = suite('out-parameters from native code');
const it = lib ? test : required ? test : test.skip;
if (!lib) console.log(`  (${required ? 'FAILING' : 'skipped'}: ${winbgtestMissing})`);

const Rect = defineStruct<{ X: number; Y: number; Width: number; Height: number }>('winbg.test.OutRect', { X: 'float', Y: 'float', Width: 'float', Height: 'float' });
const SLOTS = ['int32', 'add', 'double', 'guid', 'rect', 'string', 'object', 'array', 'set_string', 'reenter', 'fail_object'];

interface Values {
  GetInt32(): number;
  Add(a: number, b: number): number;
  GetDouble(): number;
  GetGuid(): Guid;
  GetRect(): { X: number; Y: number; Width: number; Height: number };
  GetString(): string;
  GetObject(): Com;
  GetArray(): number[];
  SetString(text: string): void;
  Reenter(): number;
  FailWithObject(): Com;
}

/** The same interface twice: one defined while compiled callers are on, one while they are off. */
function valuesInterface(name: string, iid: string): ReturnType<typeof defineInterface<Values>> {
  return defineInterface<Values>({
    name,
    iid,
    base: IInspectable,
    types: { OutRect: Rect },
    methods: {
      GetInt32: 'HRESULT (_Out_ int32_t *value)',
      Add: 'HRESULT (int32_t a, int32_t b, _Out_ int32_t *sum)',
      GetDouble: 'HRESULT (_Out_ double *value)',
      GetGuid: 'HRESULT (_Out_ GUID *value)',
      GetRect: 'HRESULT (_Out_ OutRect *value)',
      GetString: 'HRESULT (_Out_ HSTRING *value)',
      GetObject: 'HRESULT (_Out_ IUnknown **value)',
      GetArray: 'HRESULT (_Out_ int32_t[] *value)',
      SetString: 'HRESULT (HSTRING value)',
      Reenter: 'HRESULT (_Out_ int32_t *value)',
      FailWithObject: 'HRESULT (_Out_ IUnknown **value)',
    },
  });
}
const ICompiled = valuesInterface('IOutValuesCompiled', 'b0c1d2e3-0001-4a5b-8c6d-7e8f90a1b2c3'); // made for this test
const IGeneral = valuesInterface('IOutValuesGeneral', 'b0c1d2e3-0002-4a5b-8c6d-7e8f90a1b2c3');

/** Runs `body` with a values object typed as `iface`, compiled callers on or off. */
function withValues(iface: typeof ICompiled, compiled: boolean, body: (values: Com<Values>, inner: bigint) => void, reenter?: unknown): void {
  setCompiling(compiled);
  const inner = lib!.nativeObjectCreate();
  const object = valuesObject(lib!, SLOTS, { text: 'from C \u{1F600}', object: inner, reenter, createString: createHString, deleteString: deleteHString });
  try {
    const values = ComPtr.copyFrom(object.self, iface);
    try {
      body(values, inner);
    } finally {
      values.dispose();
    }
  } finally {
    setCompiling(true);
    object.dispose();
    unknownSlot(inner, 2);
  }
}

const countProto = koffi.proto('__stdcall', null, 'uint32_t', ['void *']);
/** AddRef (1) or Release (2) of a native object, through its vtable. */
const unknownSlot = (object: bigint, index: 1 | 2): number => koffi.call(koffi.decode(koffi.decode(object, 'void *'), index * 8, 'void *'), countProto, object) as number;

/** The reference count of a native object (AddRef then Release, both return the count). */
function refsOf(object: bigint): number {
  unknownSlot(object, 1);
  return unknownSlot(object, 2);
}

for (const [label, iface, compiled] of [['compiled', ICompiled, true], ['general path', IGeneral, false]] as const) {
  it(`${label}: numbers, GUID, struct, HSTRING, interface and ReceiveArray outs, as the C callee wrote them`, () => {
    withValues(iface, compiled, (values, inner) => {
      assert.is(values.GetInt32(), 1);
      assert.is(values.GetInt32(), 2, 'the callee counts: a fresh value, not the memory of the last call');
      assert.is(values.Add(40, 2), 42);
      assert.is(values.GetDouble(), 2.5);
      assert.is(values.GetGuid().toString(), '14C5882B-35D3-41BE-86B2-5506269B97E6');
      const first = values.GetGuid();
      values.GetGuid();
      assert.is(first.toString(), '14C5882B-35D3-41BE-86B2-5506269B97E6', 'a Guid keeps its bytes after the next call (a copy)');
      assert.equal(values.GetRect(), { X: 1, Y: 2, Width: 2, Height: 4 });
      assert.is(values.GetString(), 'from C \u{1F600}');
      assert.is(values.GetString(), 'from C \u{1F600}', 'each call duplicates the callee\'s string, and the caller deletes its copy');
      const before = refsOf(inner);
      const object = values.GetObject();
      assert.is(refsOf(inner), before + 1, 'the interface out-parameter is the caller\'s reference');
      assert.is(object.identity(), inner);
      object.dispose();
      assert.is(refsOf(inner), before);
      assert.equal(values.GetArray(), [2, 3, 4, 5]);
      values.SetString('to C');
      assert.throws(() => (values as unknown as { Add(...a: unknown[]): number }).Add(1, 2, 3), /takes 2 arguments, got 3/);
      assert.throws(() => (values as unknown as { Add(...a: unknown[]): number }).Add('1', 2), /argument 1 \(a\) must be a number, got string/);
    });
  });

  it(`${label}: a callee that writes its out-parameter, then calls JS, which calls the same method: each call reads its own value`, () => {
    const seen: number[] = [];
    let values: Com<Values> | null = null;
    let nest = false;
    const callback = koffi.register((_self: unknown, depth: number): number => {
      if (nest && depth < 4) seen.push(values!.Reenter());
      return 0;
    }, koffi.pointer(reenterCallback));
    try {
      withValues(iface, compiled, (object) => {
        values = object;
        assert.is(object.Reenter(), 100, 'a first call, not nested: the method has reusable out-memory from here on');
        nest = true;
        seen.push(object.Reenter());
      }, callback);
    } finally {
      koffi.unregister(callback);
    }
    // Innermost first: depth 4 returns first, the outermost call (depth 1) last.
    assert.equal(seen, [400, 300, 200, 100]);
  });

  it(`${label}: a failed call releases the interface its callee set anyway, and says which call failed`, () => {
    withValues(iface, compiled, (values, inner) => {
      const before = refsOf(inner);
      const error = (() => {
        try {
          values.FailWithObject();
        } catch (caught) {
          return caught;
        }
        return null;
      })();
      assert.instance(error, ComError);
      assert.is((error as ComError).hresult, 0x80004005 | 0);
      assert.match((error as ComError).message, /FailWithObject/);
      assert.is(refsOf(inner), before, 'no reference leaked');
    });
  });
}

it('asynchronous calls on koffi worker threads: each has out-memory of its own', async () => {
  setCompiling(true);
  const inner = lib!.nativeObjectCreate();
  const object = valuesObject(lib!, SLOTS, { object: inner });
  const values = ComPtr.copyFrom(object.self, ICompiled);
  try {
    const sums = await Promise.all(Array.from({ length: 32 }, (_, i) => values.callAsync('Add', i, 1000)));
    assert.equal(sums, Array.from({ length: 32 }, (_, i) => i + 1000));
    assert.is(values.Add(1, 2), 3, 'the synchronous caller still has its memory');
  } finally {
    values.dispose();
    object.dispose();
    unknownSlot(inner, 2);
  }
});

test('each kind of out-memory is cleared before a call, by the general path and by the compiled code, every byte of it', () => {
  const Odd = defineStruct('winbg.test.OutClear', { A: 'int32_t', B: 'uint8_t', C: 'GUID', D: 'uint16_t' }); // 24 bytes, a tail of 3 past the last 8
  const IClear = defineInterface({
    name: 'IOutClear', iid: '0f6a63a2-2a31-4c39-9a38-5b1c3e7d9c10', base: IInspectable, // made for this test
    types: { OutClear: Odd },
    methods: { Get: 'HRESULT (_Out_ GUID *g, _Out_ OutClear *s, _Out_ int32_t *i, _Out_ double *d, _Out_ HSTRING *h, _Out_ bool *b)' },
  });
  const cells = IClear.methods[0]!.signature.params.map((param) => outCell(param));
  for (const way of ['clear', 'clearCode'] as const) {
    const views = new OutLayout(cells).allocate();
    for (const view of views) new Uint8Array(view.buffer).fill(0xff);
    cells.forEach((cell, i) => {
      if (way === 'clear') cell.clear(views[i]!);
      else new Function('v', cell.clearCode('v'))(views[i]);
    });
    views.forEach((view, i) => {
      const bytes = new Uint8Array(view.buffer, view.byteOffset, cells[i]!.size);
      assert.ok(bytes.every((b) => b === 0), `${way}: parameter ${i} (${cells[i]!.size} bytes) all zero: ${Array.from(bytes)}`);
    });
  }
});

test('a struct read from its bytes is what koffi decodes from them: every field type, padding, nesting, GUID', () => {
  const Inner = defineStruct('winbg.test.OutInner', { B: 'bool', Id: 'GUID', D: 'double' });
  const Mixed = defineStruct('winbg.test.OutMixed', {
    A: 'int8_t', B: 'uint8_t', C: 'int16_t', D: 'uint16_t', E: 'int32_t', F: 'uint32_t', G: 'int64_t', H: 'uint64_t',
    I: 'float', J: 'double', K: 'bool', L: 'HSTRING', M: Inner, N: 'uint8_t',
  });
  const value = {
    A: -5, B: 250, C: -30000, D: 60000, E: -2e9, F: 4e9, G: -(2n ** 62n), H: 2n ** 63n + 5n, I: 1.5, J: Math.PI, K: true,
    L: 0x1234_5678_9abcn, M: { B: true, Id: { Data1: 0x14c5882b, Data2: 0x35d3, Data3: 0x41be, Data4: [0x86, 0xb2, 0x55, 0x06, 0x26, 0x9b, 0x97, 0xe6] }, D: -0.25 }, N: 7,
  };
  const bytes = new Uint8Array(Mixed.size);
  koffi.encode(bytes, Mixed.native, value);
  assert.equal(Mixed.readRaw(bytes), koffi.decode(bytes, Mixed.native));
  const zero = new Uint8Array(Mixed.size);
  // koffi gives 64-bit zeros as numbers and a null pointer as null; toJS makes both sides one value.
  assert.equal(Mixed.toJS(Mixed.readRaw(zero)), Mixed.toJS(koffi.decode(zero, Mixed.native)));
  assert.is((Mixed.readRaw(zero) as { L: unknown }).L, null, 'a null HSTRING reads as null');
});

for (const compiled of [false, true]) test(`a struct read ${compiled ? 'by its compiled reader' : 'by the loop (where code is not compiled)'} is what koffi decodes, a field named __proto__ included`, () => {
  setCompiling(compiled);
  try {
    // JSON.parse makes __proto__ an own key, as field lists read from metadata do (a literal would set the prototype).
    const Odd = defineStruct(`winbg.test.OutOdd${compiled}`, JSON.parse('{ "__proto__": "int32_t", "Flag": "bool", "Wide": "uint64_t", "Id": "GUID" }'));
    const bytes = new Uint8Array(Odd.size);
    const value = { Flag: true, Wide: 2n ** 64n - 1n, Id: { Data1: 1, Data2: 2, Data3: 3, Data4: [4, 5, 6, 7, 8, 9, 10, 11] } };
    Object.defineProperty(value, '__proto__', { value: -7, enumerable: true });
    koffi.encode(bytes, Odd.native, value);
    const raw = Odd.readRaw(bytes) as Record<string, unknown>;
    const decoded = koffi.decode(bytes, Odd.native) as Record<string, unknown>;
    // koffi's own record loses the __proto__ field (it assigns it, which sets the prototype).
    assert.equal([raw.Flag, raw.Wide, raw.Id], [decoded.Flag, decoded.Wide, decoded.Id]);
    assert.is(Object.getOwnPropertyDescriptor(raw, '__proto__')?.value, -7, 'an own field, not the prototype');
    assert.is(Object.getPrototypeOf(raw), Object.prototype);
  } finally {
    setCompiling(true);
  }
});

interface Shapes {
  Sizes(): [bigint, number, bigint | null];
  Pair(): [number, boolean];
  Returned(): [number, number];
}
class ShapesImpl {
  Sizes(): [bigint, number, bigint | null] {
    return [2n ** 64n - 2n, 12345, null];
  }
  Pair(): [number, boolean] {
    return [-1, true];
  }
}
for (const [label, compiled] of [['compiled', true], ['general path', false]] as const) {
  test(`${label}: uint64, size_t and void ** outs; several outs at once`, () => {
    setCompiling(compiled);
    try {
      const IShapes = defineInterface<Shapes>({
        name: `IOutShapes${compiled ? 'Compiled' : 'General'}`,
        iid: compiled ? 'b0c1d2e3-0003-4a5b-8c6d-7e8f90a1b2c3' : 'b0c1d2e3-0004-4a5b-8c6d-7e8f90a1b2c3',
        base: IInspectable,
        methods: {
          Sizes: 'HRESULT (_Out_ uint64_t *wide, _Out_ size_t *size, _Out_ void **nothing)',
          Pair: 'HRESULT (_Out_ int8_t *small, _Out_ bool *flag)',
        },
      });
      using shapes = createObject<Shapes>(new ShapesImpl(), [IShapes]);
      assert.equal(shapes.Sizes(), [2n ** 64n - 2n, 12345, null]);
      assert.equal(shapes.Pair(), [-1, true]);
    } finally {
      setCompiling(true);
    }
  });
}

// Node's --disallow-code-generation-from-strings refuses `new Function`, as a content security
// policy does: winbg must then call through its general path, with the same results.
// Not under qemu-user (scripts/arm64.mjs sets QEMU_LD_PREFIX): its node is an arm64 binary that
// only qemu can start, so this process cannot spawn it; nor under Wine.
const isNode = process.release?.name === 'node' && !('Bun' in globalThis) && !('Deno' in globalThis) && process.env.WINBG_UNDER_WINE !== '1' && process.env.QEMU_LD_PREFIX === undefined;
(isNode ? test : test.skip)('where code generation is refused (node --disallow-code-generation-from-strings), calls take the general path', () => {
  const script = `
    const { createObject, defineInterface, defineStruct, IInspectable } = await import(${JSON.stringify(new URL('../../lib/com/index.js', import.meta.url).href)});
    let refused = false;
    try { new Function('return 1'); } catch { refused = true; }
    const Point = defineStruct('winbg.test.CspPoint', { X: 'float', Y: 'float' });
    const I = defineInterface({ name: 'ICspValues', iid: 'b0c1d2e3-0005-4a5b-8c6d-7e8f90a1b2c3', base: IInspectable, types: { CspPoint: Point },
      methods: { Add: 'HRESULT (int32_t a, int32_t b, _Out_ int32_t *sum)', Name: 'HRESULT (_Out_ HSTRING *name)', Where: 'HRESULT (_Out_ CspPoint *p)' } });
    const values = createObject({ Add: (a, b) => a + b, Name: () => 'csp', Where: () => ({ X: 1.5, Y: -2 }) }, [I]);
    process.stdout.write(JSON.stringify({ refused, sum: values.Add(2, 3), name: values.Name(), where: values.Where() }));
    values.dispose();`;
  const child = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(child.status, 0, child.stderr);
  assert.equal(JSON.parse(child.stdout), { refused: true, sum: 5, name: 'csp', where: { X: 1.5, Y: -2 } });
});

it('a disposed ComPtr refuses the call before anything reaches native code', () => {
  const object = valuesObject(lib!, SLOTS, {});
  const values = ComPtr.copyFrom(object.self, ICompiled);
  values.dispose();
  try {
    assert.throws(() => values.GetInt32(), (error: unknown) => error instanceof ComError && /disposed/.test(error.message));
  } finally {
    object.dispose();
  }
});

test.run();
