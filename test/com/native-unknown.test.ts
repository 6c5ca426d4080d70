// The native IUnknown (lib/ffi/native-unknown.ts): AddRef, Release and QueryInterface of JS COM
// objects are machine code, answered on the caller's thread even while the JS thread is blocked.
// Native threads here are koffi's own worker threads: `fn.async(...)` runs a native function on
// one of them. While the JS thread waits in Atomics.wait, nothing queued to it can run; the
// counts and out-parameters read right after the wait (before the event loop turns) show what
// the native code did meanwhile. With koffi callbacks for IUnknown those calls would still be
// waiting for the JS thread.
import koffi from 'koffi';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComPtr, createObject, E_NOINTERFACE, E_POINTER, IUnknown, RO_E_CLOSED, S_OK } from '../../lib/com/index.js';
import { liveComObjects, registeredCallbacks } from '../../lib/diagnostics/index.js';
import { referenceCount } from '../../lib/com/object.js';
import { nativeUnknown, nativeUnknownUnavailable } from '../../lib/ffi/native-unknown.js';
import { identityAddress } from '../../lib/ffi/vtable.js';
import { IContainer, INamed, type Calculator, type Container, NamedCalculator } from '../support/interfaces.js';
import { blockUntil, IID, Memory, readPointer, release, settledCount, vtableSlot } from '../support/native.js';


type Async = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };
const countProto = koffi.proto('__stdcall', null, 'uint32_t', ['void *']);
const qiProto = koffi.proto('__stdcall', null, 'int32_t', ['void *', 'void *', 'void *']);
const slot = (self: bigint, index: number, proto: unknown): Async => koffi.decode(vtableSlot(self, index), proto as never) as Async;

/** Runs `count` calls of `fn` on koffi's worker threads; resolves with their results. */
function onWorkers(count: number, fn: Async, ...args: unknown[]): Promise<unknown[]> {
  return Promise.all(Array.from({ length: count }, () => new Promise((resolve, reject) => {
    fn.async(...args, (error: unknown, result: unknown) => (error ? reject(error) : resolve(result)));
  })));
}

const supported = (process.arch === 'x64' || process.arch === 'arm64') && process.env.WINBG_NATIVE_UNKNOWN !== '0';
const test = suite('native IUnknown');
let base = 0;
// After the garbage of earlier tests is collected, or it could be collected mid-test.
test.before.each(async () => {
  base = await settledCount(liveComObjects);
});
const memory = new Memory();
test.after.each(() => memory.free());

test('x86-64 and arm64 get the machine code; the three slots are it, not registered callbacks', () => {
  if (!supported) {
    assert.ok(nativeUnknownUnavailable(), 'says why it is unavailable');
    return;
  }
  assert.is(nativeUnknownUnavailable(), null, 'loaded');
  const code = nativeUnknown()!;
  using calc = createObject<Calculator>(new NamedCalculator());
  using named = calc.as(INamed);
  for (const ptr of [calc.pointer, named.pointer]) {
    assert.equal([0, 1, 2].map((i) => vtableSlot(ptr, i)), [...code.slots], 'QueryInterface, AddRef and Release are the native code');
  }
  const callbacks = registeredCallbacks();
  for (let i = 0; i < 100; i++) createObject(new NamedCalculator()).dispose();
  assert.is(registeredCallbacks(), callbacks, 'objects register no callbacks');
});

test('identityAddress: the IUnknown address from any interface, as a number, in one call; its reference released again', () => {
  using calc = createObject<Calculator>(new NamedCalculator());
  using named = calc.as(INamed);
  const counted = referenceCount(calc.pointer);
  for (const ptr of [calc.pointer, named.pointer]) {
    const identity = identityAddress(ptr, IUnknown.iid.bytes);
    assert.type(identity, 'number', 'a number: the cheaper Map key');
    assert.is(BigInt(identity), calc.pointer, 'the IUnknown of the object');
    assert.is(referenceCount(calc.pointer), counted, 'the reference QueryInterface added is released');
  }
});

/**
 * An object of koffi callbacks whose QueryInterface returns `hr` and writes `result` ('self': the
 * object's own address; null: nothing), and whose AddRef and Release count, each on its own.
 */
function brokenObject(hr: number, result: bigint | 'self' | null, run: (object: bigint, calls: () => { addRefs: number; releases: number }) => void): void {
  const calls = { addRefs: 0, releases: 0 };
  const qi = koffi.register((self: unknown, _iid: unknown, ppv: unknown): number => {
    if (result !== null) koffi.encode(ppv as bigint, 0, 'void *', result === 'self' ? (self as bigint) : result);
    return hr;
  }, koffi.pointer(qiProto));
  const addRef = koffi.register((_self: unknown): number => ++calls.addRefs, koffi.pointer(countProto));
  const releaseFn = koffi.register((_self: unknown): number => ++calls.releases, koffi.pointer(countProto));
  try {
    const vtable = memory.alloc(24);
    for (const [i, fn] of [qi, addRef, releaseFn].entries()) koffi.encode(vtable, i * 8, 'void *', fn);
    const object = memory.alloc(8);
    koffi.encode(object, 0, 'void *', vtable);
    run(object, () => ({ ...calls }));
  } finally {
    koffi.unregister(qi);
    koffi.unregister(addRef);
    koffi.unregister(releaseFn);
  }
}

test('identityAddress: a refusal is its HRESULT, negative, with nothing released; a success with a NULL result is E_POINTER', () => {
  const none = { addRefs: 0, releases: 0 };
  brokenObject(E_NOINTERFACE, 0n, (object, calls) => {
    assert.is(identityAddress(object, IUnknown.iid.bytes), E_NOINTERFACE);
    assert.equal(calls(), none, 'nothing to release');
  });
  brokenObject(0x8007000e | 0 /* E_OUTOFMEMORY */, null, (object, calls) => {
    assert.is(identityAddress(object, IUnknown.iid.bytes), 0x8007000e | 0, 'any failed HRESULT, sign-extended');
    assert.equal(calls(), none);
  });
  brokenObject(S_OK, null, (object, calls) => {
    assert.is(identityAddress(object, IUnknown.iid.bytes), E_POINTER);
    assert.equal(calls(), none, 'nothing to release');
  });
  brokenObject(S_OK, 0n, (object, calls) => {
    assert.is(identityAddress(object, IUnknown.iid.bytes), E_POINTER);
    assert.equal(calls(), none);
  });
  brokenObject(S_OK, 'self', (object, calls) => {
    assert.is(identityAddress(object, IUnknown.iid.bytes), Number(object), 'what QueryInterface wrote');
    assert.equal(calls(), { addRefs: 0, releases: 1 }, 'released once, through the slot 2 of what it returned');
  });
});

test('AddRef from 8 native threads while the JS thread is blocked: all counted, at once', async () => {
  if (!supported) return;
  const calc = createObject<Calculator>(new NamedCalculator());
  const ptr = calc.pointer;
  const addRef = slot(ptr, 1, countProto);
  const done = onWorkers(8, addRef, ptr);
  blockUntil(() => referenceCount(ptr) === 9, 'the eight AddRefs happen');
  assert.is(referenceCount(ptr), 9, 'the eight AddRefs happened while the JS thread was blocked');
  const counts = (await done) as number[];
  assert.equal([...counts].sort((a, b) => a - b), [2, 3, 4, 5, 6, 7, 8, 9], 'each AddRef returned a distinct new count');
  for (let i = 0; i < 8; i++) release(ptr);
  assert.is(referenceCount(ptr), 1);
  calc.dispose();
  assert.is(liveComObjects(), base);
});

test('QueryInterface from 8 native threads while the JS thread is blocked: identity, E_NOINTERFACE with NULL, E_POINTER', async () => {
  if (!supported) return;
  const calc = createObject<Calculator>(new NamedCalculator());
  const ptr = calc.pointer;
  const qi = slot(ptr, 0, qiProto);
  const iidNamed = memory.guid(INamed.iid.toString());
  const iidUnknown = memory.guid(IID.IUnknown);
  const iidMissing = memory.guid('01234567-89ab-cdef-0123-456789abcdef');
  const outs = Array.from({ length: 8 }, () => memory.alloc(8, 0xcc));
  const results = Promise.all(outs.map((out, i) => new Promise<number>((resolve, reject) => {
    const iid = i < 3 ? iidNamed : i < 6 ? iidUnknown : iidMissing;
    qi.async(ptr, iid, out, (error: unknown, hr: number) => (error ? reject(error) : resolve(hr)));
  })));
  const nullPpv = onWorkers(2, qi, ptr, iidUnknown, null);
  const garbage = 0xccccccccccccccccn;
  blockUntil(() => outs.every((out) => readPointer(out) !== garbage), 'the eight QueryInterface calls write *ppv');
  const named = calc.as(INamed);
  const identity = calc.as(IUnknown);
  const got = outs.map(readPointer);
  assert.equal(got.slice(0, 3), [named.pointer, named.pointer, named.pointer], 'INamed, written while the JS thread was blocked');
  assert.equal(got.slice(3, 6), [identity.pointer, identity.pointer, identity.pointer], 'the one IUnknown identity');
  assert.equal(got.slice(6), [null, null], 'an unknown IID leaves *ppv NULL');
  assert.is(referenceCount(ptr), 1 + 6 + 2, 'six successful QIs and the two wrappers hold references');
  assert.equal(await results, [S_OK, S_OK, S_OK, S_OK, S_OK, S_OK, E_NOINTERFACE, E_NOINTERFACE]);
  assert.equal(await nullPpv, [E_POINTER, E_POINTER]);
  for (const p of got.slice(0, 6)) release(p!);
  named.dispose();
  identity.dispose();
  calc.dispose();
  assert.is(liveComObjects(), base);
});

test('the last Release on a native thread while the JS thread is blocked; clean-up once it is free; a stale call fails', async () => {
  if (!supported) return;
  const ptr = createObject(new NamedCalculator()).detach();
  const releaseFn = slot(ptr, 2, countProto);
  const qi = slot(ptr, 0, qiProto);
  const done = onWorkers(1, releaseFn, ptr);
  blockUntil(() => referenceCount(ptr) === 0, 'the Release happens');
  // Released, not yet freed: the JS thread has not run since. A stale QueryInterface or Release
  // (a caller's bug) is refused instead of resurrecting the object.
  const out = memory.alloc(8, 0xcc);
  assert.is(koffi.call(vtableSlot(ptr, 0), qiProto, ptr, memory.guid(IID.IUnknown), out) as number, RO_E_CLOSED);
  assert.is(readPointer(out), null);
  assert.is(koffi.call(vtableSlot(ptr, 2), countProto, ptr) as number, 0, 'an extra Release is ignored');
  assert.equal(await done, [0]);
  assert.is(liveComObjects(), base, 'freed by the JS thread');
  void qi;
});

test('release of an object a native thread took over, the JS wrapper disposed first', async () => {
  if (!supported) return;
  const calc = createObject<Calculator>(new NamedCalculator());
  const ptr = calc.pointer;
  const addRef = slot(ptr, 1, countProto);
  await onWorkers(4, addRef, ptr);
  calc.dispose();
  assert.is(liveComObjects(), base + 1, 'native references keep it alive');
  assert.is(calc.disposed, true);
  const releaseFn = slot(ptr, 2, countProto);
  const counts = (await onWorkers(4, releaseFn, ptr)) as number[];
  assert.equal([...counts].sort(), [0, 1, 2, 3]);
  assert.is(liveComObjects(), base);
});

test('a ComPtr of another interface passed for IFoo* is QueryInterfaced for IFoo, and released after the call', () => {
  let received: unknown = null;
  const container = createObject<Container>({
    Put(item: ComPtr<any> | null) {
      received = item?.interface.name;
      // Call the interface it declares: a wrong pointer would reach ICalculator's slots.
      received = `${received}:${(item as unknown as { get_Name(): string }).get_Name()}`;
      item?.dispose();
    },
    Get: () => null,
  }, [IContainer]);
  using calc = createObject<Calculator>(new NamedCalculator());
  const before = referenceCount(calc.pointer);
  container.Put(calc as never);
  assert.is(received, 'INamed:both');
  assert.is(referenceCount(calc.pointer), before, 'the queried INamed was released after the call');
  container.dispose();
});

test.run();
