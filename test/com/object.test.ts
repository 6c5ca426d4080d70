// JS objects called through their vtables by a native caller: argument conversion, out
// parameters, and the one guard that turns every exception into an HRESULT.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ComError, createHString, createObject, Guid, deleteHString, E_FAIL, E_INVALIDARG, E_NOTIMPL, E_POINTER, readHString, REGDB_E_CLASSNOTREG, S_OK, setErrorReporter, takeHString, type Com,
} from '../../lib/com/index.js';
import { liveComObjects } from '../../lib/diagnostics/index.js';
import koffi from 'koffi';
import { IContainer, ICalculator, INamed, type Named, type SequentialStream } from '../support/interfaces.js';
import { callSlot, Memory, readBytes, readInt32, readPointer, readUint32, release } from '../support/native.js';
import { MemoryStream } from '../support/stream.js';

class Calculator {
  static interfaces = [ICalculator];
  calls = 0;
  Add(a: number, b: number): number {
    this.calls++;
    return a + b;
  }
  Divide(a: number, b: number): [number, number] {
    if (b === 0) throw new ComError(E_INVALIDARG, 'division by zero');
    return [Math.trunc(a / b), a % b];
  }
  Fail(code: number): void {
    if (code === 1) throw new Error('plain JS error');
    if (code === 2) throw 'a thrown string';
    throw new ComError(code);
  }
  Echo(text: string): string {
    return `<${text}>`;
  }
  Length(text: string): number {
    return text.length;
  }
}

// ICalculator's slots after IUnknown's three.
const ADD = 3, DIVIDE = 4, FAIL = 5, ECHO = 6, LENGTH = 7;

const test = suite('calls through the vtable');
// COM objects other suites keep alive (under Wine the Windows tests run first) are not this test's.
let base = 0;
test.before.each(() => {
  base = liveComObjects();
});
const memory = new Memory();
test.after.each(() => memory.free());

test('in-parameters arrive as JS values, the return value fills the out-parameter', () => {
  const impl = new Calculator();
  const calc = createObject(impl).detach();
  const sum = memory.alloc(4, 0xcc);
  assert.is(callSlot(calc, ADD, 'int32_t', ['int32_t', 'int32_t', 'void *'], 40, 2, sum), S_OK);
  assert.is(readInt32(sum), 42);
  assert.is(callSlot(calc, ADD, 'int32_t', ['int32_t', 'int32_t', 'void *'], -5, -7, sum), S_OK);
  assert.is(readInt32(sum), -12);
  assert.is(impl.calls, 2);
  release(calc);
});

test('several out-parameters come from an array, in order', () => {
  const calc = createObject(new Calculator()).detach();
  const q = memory.alloc(4), r = memory.alloc(4);
  assert.is(callSlot(calc, DIVIDE, 'int32_t', ['int32_t', 'int32_t', 'void *', 'void *'], 17, 5, q, r), S_OK);
  assert.is(readInt32(q), 3);
  assert.is(readInt32(r), 2);
  release(calc);
});

test('a thrown ComError returns its HRESULT and zeroes the out-parameters', () => {
  const calc = createObject(new Calculator()).detach();
  const q = memory.alloc(4, 0xcc), r = memory.alloc(4, 0xcc);
  assert.is(callSlot(calc, DIVIDE, 'int32_t', ['int32_t', 'int32_t', 'void *', 'void *'], 1, 0, q, r), E_INVALIDARG);
  assert.is(readInt32(q), 0);
  assert.is(readInt32(r), 0);
  assert.is(callSlot(calc, FAIL, 'int32_t', ['int32_t'], REGDB_E_CLASSNOTREG), REGDB_E_CLASSNOTREG);
  release(calc);
});

test('any other exception becomes E_FAIL, never a crash and never S_OK', () => {
  const seen: unknown[] = [];
  const previous = setErrorReporter((error) => seen.push(error));
  try {
    const calc = createObject(new Calculator()).detach();
    assert.is(callSlot(calc, FAIL, 'int32_t', ['int32_t'], 1), E_FAIL);
    assert.is(callSlot(calc, FAIL, 'int32_t', ['int32_t'], 2), E_FAIL);
    assert.is(callSlot(calc, FAIL, 'int32_t', ['int32_t'], 0), E_FAIL, 'a ComError with a success code is still a failure');
    assert.is(seen.length, 3, 'the reporter sees each error');
    assert.instance(seen[0], Error);
    assert.is(seen[1], 'a thrown string');
    release(calc);
  } finally {
    setErrorReporter(previous);
  }
});

test('a throwing error reporter does not break the guard', () => {
  const previous = setErrorReporter(() => {
    throw new Error('reporter failed');
  });
  try {
    const calc = createObject(new Calculator()).detach();
    assert.is(callSlot(calc, FAIL, 'int32_t', ['int32_t'], 1), E_FAIL);
    release(calc);
  } finally {
    setErrorReporter(previous);
  }
});

test('a NULL out-pointer gives E_POINTER without calling the implementation', () => {
  const impl = new Calculator();
  const calc = createObject(impl).detach();
  assert.is(callSlot(calc, ADD, 'int32_t', ['int32_t', 'int32_t', 'void *'], 1, 2, null), E_POINTER);
  assert.is(impl.calls, 0);
  release(calc);
});

test('a method the JS object lacks gives E_NOTIMPL', () => {
  const calc = createObject({ Add: (a: number, b: number) => a + b }, [ICalculator]).detach();
  assert.is(callSlot(calc, FAIL, 'int32_t', ['int32_t'], 0), E_NOTIMPL);
  const out = memory.alloc(4);
  assert.is(callSlot(calc, LENGTH, 'int32_t', ['void *', 'void *'], null, out), E_NOTIMPL);
  release(calc);
});

test('a wrong out value (string for an int) becomes E_FAIL, not garbage', () => {
  const calc = createObject({ Add: () => 'not a number' }, [ICalculator]).detach();
  const out = memory.alloc(4, 0xcc);
  assert.is(callSlot(calc, ADD, 'int32_t', ['int32_t', 'int32_t', 'void *'], 1, 2, out), E_FAIL);
  assert.is(readInt32(out), 0);
  const calc2 = createObject({ Divide: () => 7 }, [ICalculator]).detach();
  const q = memory.alloc(4), r = memory.alloc(4);
  assert.is(callSlot(calc2, DIVIDE, 'int32_t', ['int32_t', 'int32_t', 'void *', 'void *'], 1, 1, q, r), E_FAIL);
  release(calc);
  release(calc2);
});

test('an async method with out-parameters is refused with E_NOTIMPL', () => {
  const calc = createObject({ Add: async () => 3 }, [ICalculator]).detach();
  const out = memory.alloc(4);
  assert.is(callSlot(calc, ADD, 'int32_t', ['int32_t', 'int32_t', 'void *'], 1, 2, out), E_NOTIMPL);
  release(calc);
});

test('an async method without out-parameters reports a later rejection', async () => {
  const seen: unknown[] = [];
  const previous = setErrorReporter((error, where) => seen.push([error, where]));
  try {
    const calc = createObject({ Fail: async () => { throw new Error('later'); } }, [ICalculator]).detach();
    assert.is(callSlot(calc, FAIL, 'int32_t', ['int32_t'], 0), S_OK, 'COM returns before the promise settles');
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.is(seen.length, 1);
    assert.is((seen[0] as [Error, string])[1], 'ICalculator.Fail');
    release(calc);
  } finally {
    setErrorReporter(previous);
  }
});

test('HSTRING in is borrowed, HSTRING out is a new string the caller owns', () => {
  const calc = createObject(new Calculator()).detach();
  const input = createHString('héllo 😀\0end');
  const out = memory.alloc(8);
  assert.is(callSlot(calc, ECHO, 'int32_t', ['void *', 'void *'], input, out), S_OK);
  const result = readPointer(out);
  assert.is.not(result, input);
  assert.is(readHString(input), 'héllo 😀\0end', 'the callee did not delete the caller\'s string');
  assert.is(takeHString(result), '<héllo 😀\0end>');
  deleteHString(input);
  const length = memory.alloc(4);
  assert.is(callSlot(calc, LENGTH, 'int32_t', ['void *', 'void *'], null, length), S_OK, 'NULL is the empty string');
  assert.is(readUint32(length), 0);
  release(calc);
});

class Person implements Named {
  static interfaces = [INamed];
  constructor(public name: string) {}
  get_Name(): string {
    return this.name;
  }
  put_Name(name: string): void {
    this.name = name;
  }
}

class Box {
  static interfaces = [IContainer];
  item: Com<Named> | null = null;
  Put(item: Com<Named> | null): void {
    this.item?.dispose();
    this.item = item; // kept: the wrapper holds its own reference
  }
  Get(): Com<Named> | null {
    return this.item;
  }
}

test('interface pointers in are wrapped with a reference of their own; out pointers are AddRef\'d', () => {
  const box = new Box();
  const container = createObject(box).detach();
  const person = createObject<Named>(new Person('Ada'));
  assert.is(callSlot(container, 3, 'int32_t', ['void *'], person.pointer), S_OK);
  assert.ok(box.item);
  assert.is(box.item!.get_Name(), 'Ada', 'the JS side calls back through the vtable');
  const out = memory.alloc(8);
  assert.is(callSlot(container, 4, 'int32_t', ['void *'], out), S_OK);
  const got = readPointer(out)!;
  assert.is(got, person.pointer, 'the same interface pointer comes back');
  release(got); // the caller's reference from the out-parameter
  person.dispose();
  assert.is(liveComObjects(), base + 2, 'Box still holds the person');
  assert.is(callSlot(container, 3, 'int32_t', ['void *'], null), S_OK);
  assert.is(box.item, null);
  assert.is(liveComObjects(), base + 1, 'the person died with its last reference');
  release(container);
  assert.is(liveComObjects(), base);
});

test('returning a plain JS object for an interface out-parameter makes it a COM object', () => {
  const container = createObject({ Get: () => new Person('Grace') }, [IContainer]).detach();
  const out = memory.alloc(8);
  assert.is(callSlot(container, 4, 'int32_t', ['void *'], out), S_OK);
  const ptr = readPointer(out)!;
  const name = memory.alloc(8);
  assert.is(callSlot(ptr, 6, 'int32_t', ['void *'], name), S_OK, 'INamed::get_Name after IInspectable\'s slots');
  assert.is(takeHString(readPointer(name)), 'Grace');
  assert.is(release(ptr), 0);
  release(container);
  assert.is(liveComObjects(), base);
});

test('ComError carries hex, name and meaning for a failure seen through a ComPtr', () => {
  using calc = createObject<import('../support/interfaces.js').Calculator>(new Calculator());
  try {
    calc.Divide(1, 0);
    assert.unreachable('Divide(1, 0) should throw');
  } catch (error) {
    assert.instance(error, ComError);
    assert.is((error as ComError).hresult, E_INVALIDARG);
    assert.match((error as ComError).message, /0x80070057 E_INVALIDARG/);
    assert.match((error as ComError).message, /ICalculator\.Divide/);
  }
});

test.run();

const optional = suite('optional out-parameters');

optional('an _Out_opt_ parameter may be NULL; it is written when given', () => {
  const stream = new MemoryStream(Guid.parse('00000000-0000-0000-0000-000000000001'));
  const ptr = createObject(stream).detach();
  const mem = new Memory();
  const data = mem.alloc(4);
  koffi.encode(data, 0, 'uint8_t', new Uint8Array([9, 8, 7, 6]), 4);
  assert.is(callSlot(ptr, 4, 'int32_t', ['void *', 'uint32_t', 'void *'], data, 4, null), S_OK, 'Write with pcbWritten NULL');
  const count = mem.alloc(4, 0xcc);
  const target = mem.alloc(4);
  assert.is(callSlot(ptr, 3, 'int32_t', ['void *', 'uint32_t', 'void *'], target, 4, count), S_OK);
  assert.is(readUint32(count), 4);
  assert.equal([...readBytes(target, 4)], [9, 8, 7, 6]);
  assert.is(callSlot(ptr, 3, 'int32_t', ['void *', 'uint32_t', 'void *'], target, 4, count), S_OK);
  assert.is(readUint32(count), 0, 'at the end of the stream');
  mem.free();
  release(ptr);
});

optional('through a ComPtr, buffers are passed in place', () => {
  using stream = createObject<SequentialStream>(new MemoryStream(Guid.parse('00000000-0000-0000-0000-000000000001')));
  assert.is(stream.Write(new Uint8Array([1, 2, 3]), 3), 3);
  const target = new Uint8Array(8);
  assert.is(stream.Read(target, 8), 3);
  assert.equal([...target.subarray(0, 3)], [1, 2, 3]);
  assert.throws(() => stream.Write('text' as never, 4), /must be a pointer \(bigint\), a buffer or null/);
});

optional.run();
