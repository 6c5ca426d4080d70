// IClassFactory for JS classes, called as COM calls it (unknwn.idl).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ClassFactory, CLASS_E_NOAGGREGATION, createObject, E_NOINTERFACE, IClassFactory, S_OK } from '../../lib/com/index.js';
import { liveComObjects } from '../../lib/diagnostics/index.js';
import { ICalculator, IMissing, INamed } from '../support/interfaces.js';
import { callSlot, IID, Memory, readInt32, readPointer, release } from '../support/native.js';

class Adder {
  static interfaces = [ICalculator];
  Add(a: number, b: number): number {
    return a + b;
  }
}

const test = suite('IClassFactory');
// COM objects other suites keep alive (under Wine the Windows tests run first) are not this test's.
let base = 0;
test.before.each(() => {
  base = liveComObjects();
});
const memory = new Memory();
test.after.each(() => memory.free());

function factory(created: object[] = [], locks: boolean[] = []): bigint {
  return createObject(new ClassFactory({
    create: () => new Adder(),
    interfaces: [ICalculator],
    onCreate: (impl) => created.push(impl),
    onLock: (locked) => locks.push(locked),
  }), [IClassFactory]).detach();
}

// IClassFactory slots: CreateInstance 3, LockServer 4.
function createInstance(self: bigint, outer: bigint | null, iid: string): { hr: number; ptr: bigint | null } {
  const out = memory.alloc(8, 0xcc);
  const hr = callSlot(self, 3, 'int32_t', ['void *', 'void *', 'void *'], outer, memory.guid(iid), out) as number;
  return { hr, ptr: readPointer(out) };
}

test('CreateInstance makes a new object and returns the requested interface', () => {
  const created: object[] = [];
  const cf = factory(created);
  const a = createInstance(cf, null, ICalculator.iid.toString());
  const b = createInstance(cf, null, IID.IUnknown);
  assert.is(a.hr, S_OK);
  assert.is(b.hr, S_OK);
  assert.is(created.length, 2);
  assert.is.not(created[0], created[1], 'each call makes a new object');
  const sum = memory.alloc(4);
  assert.is(callSlot(a.ptr!, 3, 'int32_t', ['int32_t', 'int32_t', 'void *'], 2, 40, sum), S_OK);
  assert.is(readInt32(sum), 42);
  assert.is(release(a.ptr!), 0, 'the caller holds the only reference');
  assert.is(release(b.ptr!), 0);
  release(cf);
  assert.is(liveComObjects(), base);
});

test('an outer unknown is refused with CLASS_E_NOAGGREGATION and *ppv NULL', () => {
  const created: object[] = [];
  const cf = factory(created);
  const outer = createObject(new Adder()).detach();
  const result = createInstance(cf, outer, IID.IUnknown);
  assert.is(result.hr, CLASS_E_NOAGGREGATION);
  assert.is(result.ptr, null);
  assert.is(created.length, 0);
  assert.is(release(outer), 0, 'the factory did not keep the outer object');
  release(cf);
});

test('an interface the class lacks gives E_NOINTERFACE and the object does not leak', () => {
  const cf = factory();
  const before = liveComObjects();
  const result = createInstance(cf, null, IMissing.iid.toString());
  assert.is(result.hr, E_NOINTERFACE);
  assert.is(result.ptr, null);
  assert.is(liveComObjects(), before);
  const inspectable = createInstance(cf, null, INamed.iid.toString());
  assert.is(inspectable.hr, E_NOINTERFACE);
  release(cf);
});

test('LockServer is counted and reported', () => {
  const locks: boolean[] = [];
  const impl = new ClassFactory({ create: () => new Adder(), interfaces: [ICalculator], onLock: (l) => locks.push(l) });
  const cf = createObject(impl, [IClassFactory]).detach();
  assert.is(callSlot(cf, 4, 'int32_t', ['int32_t'], 1), S_OK);
  assert.is(callSlot(cf, 4, 'int32_t', ['int32_t'], 1), S_OK);
  assert.is(impl.locks, 2);
  assert.is(callSlot(cf, 4, 'int32_t', ['int32_t'], 0), S_OK);
  assert.is(impl.locks, 1);
  assert.is(callSlot(cf, 4, 'int32_t', ['int32_t'], 0), S_OK);
  assert.is(callSlot(cf, 4, 'int32_t', ['int32_t'], 0), S_OK, 'an unlock too many is harmless');
  assert.is(impl.locks, 0, 'and not counted');
  assert.equal(locks, [true, true, false, false]);
  release(cf);
});

test('a throwing create() is an HRESULT for the caller', () => {
  const cf = createObject(new ClassFactory({ create: () => { throw new Error('no'); }, interfaces: [ICalculator] }), [IClassFactory]).detach();
  assert.ok(createInstance(cf, null, IID.IUnknown).hr < 0);
  release(cf);
});

test('the definition is validated', () => {
  assert.throws(() => new ClassFactory({} as never), /create must be a function/);
  assert.throws(() => new ClassFactory({ create: () => ({}), interfaces: [] }), /interfaces must list/);
});

test.run();
