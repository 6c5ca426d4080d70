// ComPtr: calling interfaces through their vtables, with ownership that cannot leak or double-free.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComError, ComPtr, createObject, E_NOINTERFACE, E_POINTER, IInspectable, IUnknown, type Com } from '../../lib/com/index.js';
import { liveComObjects, liveComPtrs } from '../../lib/diagnostics/index.js';
import { ICalculator, IMissing, INamed, type Calculator, type Named } from '../support/interfaces.js';
import { addRef, collectGarbage, release } from '../support/native.js';

class Impl {
  static interfaces = [ICalculator, INamed];
  name = 'impl';
  Add(a: number, b: number): number {
    return a + b;
  }
  Divide(a: number, b: number): [number, number] {
    return [Math.trunc(a / b), a % b];
  }
  Echo(text: string): string {
    return text.toUpperCase();
  }
  get_Name(): string {
    return this.name;
  }
  put_Name(value: string): void {
    this.name = value;
  }
}

/** The object's reference count, read the way native code can: AddRef then Release. */
function refs(ptr: bigint): number {
  addRef(ptr);
  return release(ptr);
}

const test = suite('ComPtr');
// COM objects other suites keep alive (under Wine the Windows tests run first) are not this test's.
let base = 0;
test.before.each(() => {
  base = liveComObjects();
});

test('methods call the vtable and return out-parameters', () => {
  using calc = createObject<Calculator>(new Impl());
  assert.is(calc.Add(2, 3), 5);
  assert.equal(calc.Divide(17, 5), [3, 2], 'two out-parameters come back as an array');
  assert.is(calc.Echo('straße 😀'), 'STRASSE 😀');
});

test('dispose releases exactly once; use after dispose is a ComError', () => {
  const calc = createObject<Calculator>(new Impl());
  const raw = calc.pointer;
  addRef(raw);
  assert.is(refs(raw), 2);
  calc.dispose();
  assert.is(refs(raw), 1);
  calc.dispose();
  calc[Symbol.dispose]();
  assert.is(refs(raw), 1, 'a second dispose did not release again');
  assert.ok(calc.disposed);
  assert.throws(() => calc.Add(1, 2), (error: unknown) => error instanceof ComError && error.hresult === E_POINTER);
  assert.is(release(raw), 0);
});

test('`using` releases at the end of the scope', () => {
  const before = liveComObjects();
  {
    using calc = createObject<Calculator>(new Impl());
    assert.is(calc.Add(1, 1), 2);
    assert.is(liveComObjects(), before + 1);
  }
  assert.is(liveComObjects(), before);
});

test('as() queries a new ComPtr; tryAs() returns null for a missing interface', () => {
  using calc = createObject<Calculator>(new Impl());
  using named = calc.as<Named>(INamed);
  assert.is(named.get_Name(), 'impl');
  named.put_Name('renamed');
  assert.is(named.get_Name(), 'renamed');
  assert.is(calc.tryAs(IMissing), null);
  assert.ok(calc.equals(named), 'both point to the same object');
  using other = createObject<Calculator>(new Impl());
  assert.not.ok(calc.equals(other));
});

test('as() for a missing interface throws ComError E_NOINTERFACE naming both interfaces', () => {
  using calc = createObject<Calculator>(new Impl());
  try {
    calc.as(IMissing);
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ComError);
    assert.is((error as ComError).hresult, E_NOINTERFACE);
    assert.match((error as ComError).message, /ICalculator/);
    assert.match((error as ComError).message, /IMissing/);
  }
});

test('attach takes over a reference; copyFrom adds one (borrow, its old name, too)', () => {
  const calc = createObject<Calculator>(new Impl());
  const raw = calc.detach();
  assert.ok(calc.disposed, 'detach leaves the wrapper empty');
  const copied = ComPtr.copyFrom(raw, ICalculator);
  assert.is(refs(raw), 2);
  copied.dispose();
  const old = ComPtr.borrow(raw, ICalculator);
  assert.is(refs(raw), 2, 'the deprecated borrow is copyFrom');
  old.dispose();
  const attached = ComPtr.attach(raw, ICalculator);
  assert.is(refs(raw), 1);
  attached.dispose();
  assert.is(liveComObjects(), base);
});

test('clone() is a second owner', () => {
  const calc = createObject<Calculator>(new Impl());
  const copy = calc.clone();
  calc.dispose();
  assert.is(copy.Add(20, 22), 42);
  copy.dispose();
  assert.is(liveComObjects(), base);
});

test('implementation gives back the JS object behind a pointer of this process', () => {
  const impl = new Impl();
  using calc = createObject<Calculator>(impl);
  using unknown = calc.as(IUnknown);
  assert.is(unknown.implementation, impl);
});

test('bad arguments are validation errors that name the argument', () => {
  using calc = createObject<Calculator>(new Impl());
  assert.throws(() => calc.Add('1' as never, 2), /ICalculator\.Add: argument 1 \(a\) must be a number, got string/);
  assert.throws(() => calc.Echo(42 as never), /ICalculator\.Echo: argument 1 \(text\) must be a string/);
  assert.throws(() => (calc.Add as (...a: unknown[]) => unknown)(1, 2, 3), /takes 2 arguments, got 3/);
  assert.throws(() => ComPtr.attach(0n, ICalculator), /non-null interface pointer/);
  assert.throws(() => ComPtr.attach(null as never, ICalculator), /non-null interface pointer/);
  assert.throws(() => calc.as({} as never), /expected an interface/);
});

test('IInspectable-derived wrappers expose only their own methods', () => {
  using calc = createObject<Calculator>(new Impl());
  using named = calc.as(INamed) as Com<Named> & Record<string, unknown>;
  assert.type(named.get_Name, 'function');
  assert.is(named.GetIids, undefined);
  assert.is(named.QueryInterface, undefined);
  assert.ok(INamed.extends(IInspectable));
});

/**
 * With `raw` held by the test, by `calc` and by one forgotten wrapper (3 references): disposes
 * `calc`, then collects garbage until the finalizer has released the forgotten one. False (the
 * test's reference released, nothing more to check) where there is no GC hook to force it.
 */
async function collectForgotten(calc: Com<Calculator>, raw: bigint): Promise<boolean> {
  assert.is(refs(raw), 3);
  calc.dispose();
  if (!collectGarbage()) {
    // Without a GC hook the finalizer cannot be forced; the count must still be right.
    assert.is(refs(raw), 2);
    release(raw);
    return false;
  }
  for (let i = 0; i < 50 && refs(raw) > 1; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    collectGarbage();
  }
  return true;
}

test('wrappers made in one synchronous run: the disposed are released once, a forgotten one by the garbage collector', async () => {
  // More than the 4096 new wrappers the ComPtr layer holds before registering them for finalization.
  const calc = createObject<Calculator>(new Impl());
  const raw = calc.pointer;
  addRef(raw);
  for (let i = 0; i < 5000; i++) ComPtr.copyFrom(raw, ICalculator).dispose();
  assert.is(refs(raw), 2, 'every disposed wrapper gave its reference back, once');
  (function forget(): void {
    for (let i = 0; i < 5000; i++) {
      const wrapper = ComPtr.copyFrom(raw, ICalculator);
      if (i !== 2500) wrapper.dispose(); // the 2501st is forgotten
    }
  })();
  if (!(await collectForgotten(calc, raw))) return;
  assert.is(refs(raw), 1, 'the forgotten one was released by its finalizer, and no disposed one again');
  assert.is(release(raw), 0);
});

test('a forgotten ComPtr is released once by the garbage collector', async () => {
  const calc = createObject<Calculator>(new Impl());
  const raw = calc.pointer;
  addRef(raw); // the test's own reference, to observe the count
  const wrappers = liveComPtrs();
  (function forget(): void {
    const lost = ComPtr.copyFrom(raw, ICalculator); // never disposed
    assert.is(lost.Add(1, 1), 2);
  })();
  if (!(await collectForgotten(calc, raw))) return;
  assert.is(refs(raw), 1, 'the finalizer released the forgotten reference, and only it');
  assert.ok(liveComPtrs() <= wrappers - 1, 'the forgotten wrapper is no longer counted');
  assert.is(release(raw), 0);
});

test.run();

const asyncCalls = suite('ComPtr.callAsync');

asyncCalls('runs the call on a koffi thread; the JS object is called back on this thread', async () => {
  const impl = new Impl();
  using calc = createObject<Calculator>(impl);
  const pending = calc.callAsync('Add', 20, 22);
  assert.instance(pending, Promise);
  assert.is(await pending, 42);
  assert.equal(await calc.callAsync('Divide', 17, 5), [3, 2]);
  assert.is(await calc.callAsync('Echo', 'async 😀'), 'ASYNC 😀');
});

asyncCalls('several calls in flight at once all complete', async () => {
  using calc = createObject<Calculator>(new Impl());
  const sums = await Promise.all(Array.from({ length: 20 }, (_, i) => calc.callAsync('Add', i, i)));
  assert.equal(sums, Array.from({ length: 20 }, (_, i) => 2 * i));
});

asyncCalls('a failure rejects with the ComError; bad arguments reject before the call', async () => {
  using calc = createObject<Calculator>({ Divide: () => { throw new ComError(E_NOINTERFACE); } }, [ICalculator]);
  try {
    await calc.callAsync('Divide', 1, 0);
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ComError);
    assert.is((error as ComError).hresult, E_NOINTERFACE);
  }
  await calc.callAsync('Add', 'x' as never, 1).then(
    () => assert.unreachable(),
    (error: unknown) => assert.match(String(error), /argument 1 \(a\) must be a number/),
  );
  await calc.callAsync('Nope' as never).then(() => assert.unreachable(), (error: unknown) => assert.match(String(error), /has no method Nope/));
});

asyncCalls.run();
