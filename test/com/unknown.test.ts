// IUnknown's rules, checked through the raw vtable as a native caller sees them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObject, E_NOINTERFACE, E_POINTER, IInspectable, isWindows, RO_E_CLOSED, S_OK } from '../../lib/com/index.js';
import { liveComObjects, nativeMemoryInUse } from '../../lib/diagnostics/index.js';
import { ICalculator, INamed, NamedCalculator } from '../support/interfaces.js';
import koffi from 'koffi';
import { addRef, IID, Memory, queryInterface, readPointer, release, vtableSlot } from '../support/native.js';

const qiProto = koffi.proto('__stdcall', null, 'int32_t', ['void *', 'void *', 'void *']);
const releaseProto = koffi.proto('__stdcall', null, 'uint32_t', ['void *']);


const test = suite('IUnknown');
// COM objects other suites keep alive (under Wine the Windows tests run first) are not this test's.
let base = 0;
test.before.each(() => {
  base = liveComObjects();
});
const memory = new Memory();
test.after.each(() => memory.free());

/** Creates an object and returns its first interface pointer, owned by the test. */
function make(): bigint {
  return createObject(new NamedCalculator()).detach();
}

function qi(self: bigint, iid: string): { hr: number; ptr: bigint | null } {
  const out = memory.alloc(8, 0xcc);
  const hr = queryInterface(self, memory.guid(iid), out);
  return { hr, ptr: readPointer(out) };
}

test('QueryInterface for IUnknown returns the same pointer from every interface (identity)', () => {
  const calc = make();
  const named = qi(calc, INamed.iid.toString()).ptr!;
  assert.is.not(named, calc, 'INamed and ICalculator are different pointers');
  const a = qi(calc, IID.IUnknown);
  const b = qi(named, IID.IUnknown);
  assert.is(a.hr, S_OK);
  assert.is(b.hr, S_OK);
  assert.is(a.ptr, b.ptr);
  const c = qi(a.ptr!, IID.IUnknown);
  assert.is(c.ptr, a.ptr, 'QI of IUnknown for IUnknown is reflexive');
  for (const p of [a.ptr!, b.ptr!, c.ptr!, named, calc]) release(p);
  assert.is(liveComObjects(), base);
});

test('QueryInterface is symmetric and transitive across interfaces', () => {
  const calc = make();
  const named = qi(calc, INamed.iid.toString());
  const inspectable = qi(named.ptr!, IID.IInspectable);
  const back = qi(inspectable.ptr!, ICalculator.iid.toString());
  assert.is(named.hr, S_OK);
  assert.is(inspectable.hr, S_OK);
  assert.is(inspectable.ptr, named.ptr, 'IInspectable is answered by the interface deriving from it');
  assert.is(back.ptr, calc);
  for (const p of [named.ptr!, inspectable.ptr!, back.ptr!, calc]) release(p);
});

test('an unknown IID gives E_NOINTERFACE and sets *ppv to NULL', () => {
  const calc = make();
  const result = qi(calc, '01234567-89ab-cdef-0123-456789abcdef');
  assert.is(result.hr, E_NOINTERFACE);
  assert.is(result.ptr, null, '*ppv was 0xcccc… before the call');
  assert.is(release(calc), 0);
});

test('a NULL ppv gives E_POINTER, a NULL riid E_POINTER with *ppv cleared', () => {
  const calc = make();
  assert.is(queryInterface(calc, memory.guid(IID.IUnknown), null), E_POINTER);
  const out = memory.alloc(8, 0xcc);
  assert.is(queryInterface(calc, 0n as unknown as bigint, out), E_POINTER);
  assert.is(readPointer(out), null);
  release(calc);
});

test('AddRef and Release return the count; the object is freed at zero', () => {
  const before = nativeMemoryInUse();
  const calc = make();
  assert.is(liveComObjects(), base + 1);
  assert.is(addRef(calc), 2);
  assert.is(addRef(calc), 3);
  const named = qi(calc, INamed.iid.toString()).ptr!;
  assert.is(release(named), 3, 'references are counted per object, not per interface');
  assert.is(release(calc), 2);
  assert.is(release(calc), 1);
  assert.is(release(calc), 0);
  assert.is(liveComObjects(), base);
  assert.equal(nativeMemoryInUse(), before, 'the object block is freed');
});

test('a stale pointer reaching the vtable after the last Release fails instead of crashing', () => {
  const calc = make();
  // What a native caller holding a dangling pointer ends up calling: the shared vtable's code
  // with a `this` that no longer belongs to any object. (Reading the freed block itself would be
  // undefined behaviour in C++ too, so the test keeps the function pointers from before.)
  const qiFn = vtableSlot(calc, 0);
  const releaseFn = vtableSlot(calc, 2);
  assert.is(release(calc), 0);
  const out = memory.alloc(8, 0xcc);
  const hr = koffi.call(qiFn, qiProto, calc, memory.guid(IID.IUnknown), out) as number;
  assert.is(hr, RO_E_CLOSED);
  assert.is(readPointer(out), null);
  assert.is(koffi.call(releaseFn, releaseProto, calc), 0, 'an extra Release is ignored');
});

test('objects are agile: IAgileObject is answered with the identity pointer', () => {
  const calc = make();
  const agile = qi(calc, IID.IAgileObject);
  assert.is(agile.hr, S_OK);
  assert.is(agile.ptr, qi(calc, IID.IUnknown).ptr);
  release(agile.ptr!);
  release(agile.ptr!);
  const notAgile = createObject(new NamedCalculator(), undefined, { agile: false });
  const raw = notAgile.pointer;
  assert.is(qi(raw, IID.IAgileObject).hr, E_NOINTERFACE);
  notAgile.dispose();
  release(calc);
});

test('IMarshal is the free-threaded marshaler on Windows, absent elsewhere', () => {
  const calc = make();
  const marshal = qi(calc, IID.IMarshal);
  if (isWindows) {
    assert.is(marshal.hr, S_OK);
    const identity = qi(marshal.ptr!, IID.IUnknown);
    assert.is(identity.ptr, qi(calc, IID.IUnknown).ptr, 'the aggregated marshaler delegates IUnknown to the outer object');
  } else {
    assert.is(marshal.hr, E_NOINTERFACE);
  }
  while (release(calc) > 0);
  assert.is(liveComObjects(), base);
});

test('interfaces list must be non-empty and hold interfaces', () => {
  assert.throws(() => createObject({}, []), /non-empty array/);
  assert.throws(() => createObject({}, [{} as never]), /must be an interface/);
  assert.throws(() => createObject(null as never, [ICalculator]), /must be an object/);
  assert.throws(() => createObject({}), /static `interfaces`/);
  assert.ok(IInspectable.slotCount === 6);
});

test.run();
