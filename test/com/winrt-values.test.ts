// The value shapes WinRT adds to COM: structs and GUIDs by value, booleans, and the three array
// patterns (PassArray, FillArray, ReceiveArray), in both directions through real vtables.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ComError, createObject, defineInterface, defineStruct, E_INVALIDARG, Guid, IInspectable, S_OK, type Com,
} from '../../lib/com/index.js';
import { liveComObjects, nativeMemoryInUse } from '../../lib/diagnostics/index.js';
import { callSlot, Memory, readInt32, readPointer, readUint32, release } from '../support/native.js';
import { INamed, type Named } from '../support/interfaces.js';
import koffi from 'koffi';

interface Point { X: number; Y: number }
const Point = defineStruct<Point>('Test.Point', { X: 'float', Y: 'float' });
const Segment = defineStruct<{ From: Point; To: Point; Id: Guid }>('Test.Segment', { From: Point, To: Point, Id: 'GUID' });

interface Shapes {
  Move(p: Point, dx: number): Point;
  IsOrigin(p: Point): boolean;
  Negate(value: boolean): boolean;
  EchoGuid(id: Guid): Guid;
  Sum(values: number[]): number;
  Join(parts: string[]): string;
  Names(): string[];
  Points(): Point[];
  FillSquares(items: number[]): void;
  FillNames(items: string[]): void;
  Reverse(segment: { From: Point; To: Point; Id: Guid }): { From: Point; To: Point; Id: Guid };
  People(): Com<Named>[];
}

const IShapes = defineInterface<Shapes>({
  name: 'IShapes',
  iid: 'c2f1e0d3-1111-4a2b-9c8d-7e6f5a4b3c01',
  base: IInspectable,
  methods: {
    Move: 'HRESULT (Test.Point p, float dx, _Out_ Test.Point *result)',
    IsOrigin: 'HRESULT (Test.Point p, _Out_ bool *result)',
    Negate: 'HRESULT (bool value, _Out_ bool *result)',
    EchoGuid: 'HRESULT (GUID id, _Out_ GUID *result)',
    Sum: 'HRESULT (int32_t[] values, _Out_ int32_t *sum)',
    Join: 'HRESULT (HSTRING[] parts, _Out_ HSTRING *joined)',
    Names: 'HRESULT (_Out_ HSTRING[] *names)',
    Points: 'HRESULT (_Out_ Test.Point[] *points)',
    FillSquares: 'HRESULT (_Out_ int32_t[] items)',
    FillNames: 'HRESULT (_Out_ HSTRING[] items)',
    Reverse: 'HRESULT (Test.Segment segment, _Out_ Test.Segment *result)',
    People: 'HRESULT (_Out_ INamed[] *people)',
  },
});

class Person implements Named {
  static interfaces = [INamed];
  constructor(public name: string) {}
  get_Name(): string { return this.name; }
  put_Name(name: string): void { this.name = name; }
}

class ShapesImpl implements Shapes {
  static interfaces = [IShapes];
  seen: unknown[] = [];
  Move(p: Point, dx: number): Point { return { X: p.X + dx, Y: p.Y }; }
  IsOrigin(p: Point): boolean { return p.X === 0 && p.Y === 0; }
  Negate(value: boolean): boolean { this.seen.push(value); return !value; }
  EchoGuid(id: Guid): Guid { this.seen.push(id); return id; }
  Sum(values: number[]): number { return values.reduce((a, b) => a + b, 0); }
  Join(parts: string[]): string { return parts.join('|'); }
  Names(): string[] { return ['ada', '', 'grâce 😀']; }
  Points(): Point[] { return [{ X: 1, Y: 2 }, { X: 3.5, Y: -4 }]; }
  FillSquares(items: number[]): void { for (let i = 0; i < items.length; i++) items[i] = i * i; }
  FillNames(items: string[]): void { for (let i = 0; i < items.length; i++) items[i] = `n${i}`; }
  Reverse(s: { From: Point; To: Point; Id: Guid }): { From: Point; To: Point; Id: Guid } { return { From: s.To, To: s.From, Id: s.Id }; }
  People(): Com<Named>[] { return [new Person('a'), new Person('b')] as never; }
}

const test = suite('WinRT values');
// COM objects other suites keep alive (under Wine the Windows tests run first) are not this test's.
let base = 0;
test.before.each(() => {
  base = liveComObjects();
});

test('structs by value, in and out, nested, with a GUID field', () => {
  using shapes = createObject<Shapes>(new ShapesImpl());
  assert.equal(shapes.Move({ X: 1.5, Y: 2 }, 2), { X: 3.5, Y: 2 });
  assert.is(shapes.IsOrigin({ X: 0, Y: 0 }), true);
  assert.is(shapes.IsOrigin({ X: 0, Y: 1 }), false);
  const id = Guid.parse('01234567-89ab-cdef-0123-456789abcdef');
  const reversed = shapes.Reverse({ From: { X: 1, Y: 2 }, To: { X: 3, Y: 4 }, Id: id });
  assert.equal(reversed.From, { X: 3, Y: 4 });
  assert.equal(reversed.To, { X: 1, Y: 2 });
  assert.ok(reversed.Id.equals(id));
  assert.throws(() => shapes.Move({ X: 1 } as never, 1), /Test\.Point needs field Y/);
});

test('booleans are JS booleans both ways', () => {
  const impl = new ShapesImpl();
  using shapes = createObject<Shapes>(impl);
  assert.is(shapes.Negate(true), false);
  assert.is(shapes.Negate(false), true);
  assert.equal(impl.seen, [true, false]);
});

test('GUID by value', () => {
  using shapes = createObject<Shapes>(new ShapesImpl());
  const id = Guid.parse('{AF86E2E0-B12D-4C6A-9C5A-D7AA65101E90}');
  const echoed = shapes.EchoGuid(id);
  assert.instance(echoed, Guid);
  assert.is(echoed.toString(), id.toString());
  assert.is(shapes.EchoGuid('00000000-0000-0000-C000-000000000046' as never).toString(), '00000000-0000-0000-C000-000000000046');
});

test('PassArray: values and strings reach the callee; empty arrays are (0, NULL)', () => {
  using shapes = createObject<Shapes>(new ShapesImpl());
  assert.is(shapes.Sum([1, 2, 3, 4]), 10);
  assert.is(shapes.Sum([]), 0);
  assert.is(shapes.Join(['a', '', 'ü 😀']), 'a||ü 😀');
  assert.throws(() => shapes.Sum('1,2' as never), /argument 1 \(values\) must be an array/);
  assert.throws(() => shapes.Join(['a', 1 as never]), /\[1\] must be a string/);
});

test('ReceiveArray: the callee allocates, the caller takes the elements and frees the array', () => {
  using shapes = createObject<Shapes>(new ShapesImpl());
  assert.equal(shapes.Names(), ['ada', '', 'grâce 😀']);
  assert.equal(shapes.Points(), [{ X: 1, Y: 2 }, { X: 3.5, Y: -4 }]);
  const people = shapes.People();
  assert.equal(people.map((p) => p.get_Name()), ['a', 'b']);
  people.forEach((p) => p.dispose());
});

test('FillArray: the caller\'s array is filled in place', () => {
  using shapes = createObject<Shapes>(new ShapesImpl());
  const squares = new Array<number>(5).fill(-1);
  shapes.FillSquares(squares);
  assert.equal(squares, [0, 1, 4, 9, 16]);
  const names = new Array<string>(3);
  shapes.FillNames(names);
  assert.equal(names, ['n0', 'n1', 'n2']);
});

test('native layout: a PassArray is (UINT32 length, T *items); a ReceiveArray (UINT32 *length, T **items)', () => {
  const memory = new Memory();
  const self = createObject(new ShapesImpl(), [IShapes]).detach();
  const items = memory.alloc(12);
  koffi.encode(items, 0, 'int32_t', new Int32Array([5, 6, 7]), 3);
  const sum = memory.alloc(4);
  // IShapes slots: IInspectable's six, then Move 6, IsOrigin 7, Negate 8, EchoGuid 9, Sum 10, Join 11, Names 12.
  assert.is(callSlot(self, 10, 'int32_t', ['uint32_t', 'void *', 'void *'], 3, items, sum), S_OK);
  assert.is(readInt32(sum), 18);
  const length = memory.alloc(4), array = memory.alloc(8);
  assert.is(callSlot(self, 12, 'int32_t', ['void *', 'void *'], length, array), S_OK);
  assert.is(readUint32(length), 3);
  const handles = koffi.decode(readPointer(array)!, 'void *', 3) as (bigint | null)[];
  assert.is(handles[1], null, 'the empty string is a null HSTRING');
  assert.is(callSlot(self, 12, 'int32_t', ['void *', 'void *'], length, null), -2147467261 /* E_POINTER */);
  memory.free();
  release(self);
});

test('a failing ReceiveArray method leaves (0, NULL) and leaks nothing', () => {
  const before = nativeMemoryInUse();
  const self = createObject({ Names: () => { throw new ComError(E_INVALIDARG); } }, [IShapes]).detach();
  const memory = new Memory();
  const length = memory.alloc(4, 0xcc), array = memory.alloc(8, 0xcc);
  assert.is(callSlot(self, 12, 'int32_t', ['void *', 'void *'], length, array), E_INVALIDARG);
  assert.is(readUint32(length), 0);
  assert.is(readPointer(array), null);
  memory.free();
  release(self);
  assert.is(liveComObjects(), base);
  assert.equal(nativeMemoryInUse(), before);
});

test('arrays leave no native memory or strings behind', () => {
  using shapes = createObject<Shapes>(new ShapesImpl());
  shapes.Join(['warm', 'up']);
  const before = nativeMemoryInUse();
  for (let i = 0; i < 200; i++) {
    shapes.Join(['x', 'y', 'z']);
    shapes.Names();
    shapes.FillNames(new Array<string>(4));
    shapes.Points();
  }
  assert.equal(nativeMemoryInUse(), before);
});

test.run();
