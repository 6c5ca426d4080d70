// The projection end to end without Windows: a runtime class implemented in JS and registered as
// its activation factory (as the portable host does), used through the generated projection —
// so every call crosses real vtables both ways.
import { inspect } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import '../../lib/generated/index.js';
import { ComError, ComPtr, createObject, E_BOUNDS, E_INVALIDARG, type Com } from '../../lib/com/index.js';
import { setCompiling } from '../../lib/com/compile.js';
import { collectGarbage, settledCount } from '../support/native.js';
import { liveComObjects } from '../../lib/diagnostics/index.js';
import { Windows_Foundation_Collections as Collections } from '../../lib/generated/index.js';
import {
  asPromise, box, fromPromise, project, registerActivationFactory, resolveType, WinRTObject, type ResolvedInterface,
} from '../../lib/winrt/index.js';
import { identityEntries, toABI } from '../../lib/winrt/projection.js';

/** The COM interface of a projected interface type, by name. */
const ifaceOf = (name: string): never => (resolveType(name) as ResolvedInterface).iface as never;

const CollectionChange = Collections.CollectionChange;

/** Windows.Foundation.Collections.StringMap, implemented in JS: IMap, IIterable of pairs, IObservableMap. */
class JsStringMap {
  readonly entries = new Map<string, string>();
  readonly handlers = new Map<bigint, Com<{ Invoke(sender: unknown, args: unknown): void }>>();
  next = 1n;
  readonly interfaces = ['IMap`2', 'IIterable`1<Windows.Foundation.Collections.IKeyValuePair`2<String, String>>', 'IObservableMap`2']
    .map((name) => ifaceOf(`Windows.Foundation.Collections.${name.includes('<') ? name : `${name}<String, String>`}`));
  Lookup(key: string): string {
    if (!this.entries.has(key)) throw new ComError(E_BOUNDS, `no key ${key}`);
    return this.entries.get(key)!;
  }
  get_Size(): number { return this.entries.size; }
  HasKey(key: string): boolean { return this.entries.has(key); }
  Insert(key: string, value: string): boolean {
    const replaced = this.entries.has(key);
    this.entries.set(key, value);
    this.changed(replaced ? CollectionChange.ItemChanged : CollectionChange.ItemInserted, key);
    return replaced;
  }
  Remove(key: string): void {
    this.entries.delete(key);
    this.changed(CollectionChange.ItemRemoved, key);
  }
  Clear(): void { this.entries.clear(); }
  First(): object {
    const pairType = ifaceOf('Windows.Foundation.Collections.IKeyValuePair`2<String, String>');
    const iteratorType = ifaceOf('Windows.Foundation.Collections.IIterator`1<Windows.Foundation.Collections.IKeyValuePair`2<String, String>>');
    const items = [...this.entries].map(([k, v]) => ({ interfaces: [pairType], get_Key: () => k, get_Value: () => v }));
    let i = 0;
    return { interfaces: [iteratorType], get_Current: () => items[i], get_HasCurrent: () => i < items.length, MoveNext: () => ++i < items.length };
  }
  add_MapChanged(handler: Com<{ Invoke(sender: unknown, args: unknown): void }>): { Value: bigint } {
    const token = this.next++;
    this.handlers.set(token, handler);
    return { Value: token };
  }
  remove_MapChanged(token: { Value: bigint }): void {
    assert.ok(typeof token.Value === 'bigint', 'Int64 fields are bigint whatever their value');
    this.handlers.get(token.Value)?.dispose();
    this.handlers.delete(token.Value);
  }
  changed(change: number, key: string): void {
    const argsType = ifaceOf('Windows.Foundation.Collections.IMapChangedEventArgs`1<String>');
    for (const handler of this.handlers.values()) handler.Invoke(this, { interfaces: [argsType], get_CollectionChange: () => change, get_Key: () => key });
  }
}

const maps: JsStringMap[] = [];
const classes = suite('a JS runtime class through the projection');
let factory: Disposable | null = null;
classes.before(() => {
  factory = registerActivationFactory('Windows.Foundation.Collections.StringMap', () => ({
    ActivateInstance: () => {
      const map = new JsStringMap();
      maps.push(map);
      return map;
    },
  }));
});
classes.after(() => factory?.[Symbol.dispose]());

classes('create(), methods with results, properties, Map-like members', () => {
  const map = Collections.StringMap.create();
  assert.instance(map, WinRTObject);
  assert.is(map.winrtType, 'Windows.Foundation.Collections.StringMap');
  assert.is(map.Insert('a', 'alpha'), false);
  assert.is(map.Insert('a', 'ALPHA'), true, 'the boolean result of a method');
  map.Insert('b', 'beta');
  assert.is(map.Size, 2, 'get_Size as a property');
  assert.is(map.size, 2);
  assert.is(map.Lookup('a'), 'ALPHA');
  assert.is(map.get('b'), 'beta');
  assert.is(map.get('zz'), undefined);
  assert.ok(map.has('a'));
  assert.equal([...map], [['a', 'ALPHA'], ['b', 'beta']], 'iterates as entries');
  assert.equal([...map.keys()], ['a', 'b']);
  try {
    map.Lookup('zz');
    assert.unreachable();
  } catch (error) {
    assert.is((error as ComError).hresult, E_BOUNDS);
  }
  map.dispose();
});

classes('comPtr() hands out the object\'s own pointer: disposing it (`using` too) throws, saying what to do; as() gives one of your own', () => {
  const map = Collections.StringMap.create();
  const own = map.comPtr();
  assert.throws(() => own.dispose(), /belongs to a projected Windows\.Foundation\.Collections\.StringMap.*dispose that object instead.*\.as\(/);
  assert.throws(() => own.detach(), /ComPtr\.detach: this ComPtr belongs to/);
  assert.throws(() => {
    using borrowed = map.comPtr();
    void borrowed;
  }, /ComPtr\.dispose: this ComPtr belongs to/);
  assert.is(map.Size, 0, 'the object still works');
  const mine = map.as(own.interface);
  mine.dispose();
  map.dispose();
  assert.ok(own.disposed, 'released by its owner');
});

classes('events: onMapChanged subscribes a JS function, the subscription unsubscribes', () => {
  const map = Collections.StringMap.create();
  const seen: [number, string, boolean][] = [];
  const subscription = map.onMapChanged((sender, args) => {
    seen.push([args.CollectionChange, args.Key, sender instanceof WinRTObject]);
  });
  map.Insert('k', 'v');
  map.Insert('k', 'w');
  map.Remove('k');
  assert.equal(seen, [[CollectionChange.ItemInserted, 'k', true], [CollectionChange.ItemChanged, 'k', true], [CollectionChange.ItemRemoved, 'k', true]]);
  assert.is(maps.at(-1)!.handlers.size, 1);
  subscription();
  subscription(); // a second call does nothing
  assert.is(maps.at(-1)!.handlers.size, 0, 'remove_MapChanged got the token add_MapChanged returned');
  map.Insert('x', 'y');
  assert.is(seen.length, 3);
  {
    using scoped = map.onMapChanged(() => seen.push([0, 'scoped', true]));
    map.Insert('y', 'z');
  }
  map.Insert('z', 'z');
  assert.is(seen.length, 4, '`using` unsubscribed at the end of the block');
  map.dispose();
});

classes('one projected object per COM object: the same object again is ===, as an interface or as its class, and adds a receipt', async () => {
  const before = liveComObjects();
  const map = Collections.StringMap.create();
  const mapType = resolveType('Windows.Foundation.Collections.IMap`2<String, String>');
  const asMap = project(map.as(ifaceOf('Windows.Foundation.Collections.IMap`2<String, String>')), mapType);
  assert.ok(asMap === map, 'an interface of the object projects as the object itself');
  assert.is(map.winrtType, 'Windows.Foundation.Collections.StringMap', 'still its runtime class');
  map.Insert('a', 'alpha');
  map.dispose();
  assert.is(map.Lookup('a'), 'alpha', 'one of two receipts given back: the object still works');
  map.dispose();
  assert.throws(() => map.Lookup('a'), (error: unknown) => error instanceof ComError, 'the last receipt released it');
  map.dispose(); // more often than received: nothing
  assert.is(liveComObjects(), before, 'released, with no second Release');
  const again = Collections.StringMap.create();
  assert.ok(again !== map, 'a new object, a new wrapper');
  again.dispose();
});

classes('a released object\'s identity entry is swept once the vacant outnumber the live and 256; a new object is still found by its identity', () => {
  const live = (at: { entries: number; vacant: number }): number => at.entries - at.vacant;
  const start = identityEntries();
  // More than live and 256 together, so that without a sweep the vacant entries would outnumber both.
  const count = live(start) + 300;
  const held = Array.from({ length: count }, () => Collections.StringMap.create());
  assert.is(live(identityEntries()), live(start) + count, 'one entry per live object');
  for (const map of held) map.dispose();
  const released = identityEntries();
  assert.is(live(released), live(start));
  assert.ok(released.vacant <= Math.max(256, live(released)), `vacant entries swept: never more than the live ones and 256 (${released.entries} entries, ${released.vacant} vacant)`);
  // A new object may take a vacant entry over (where the allocator gives its address again): it is found by its identity.
  const fresh = Collections.StringMap.create();
  const asMap = project(fresh.as(ifaceOf('Windows.Foundation.Collections.IMap`2<String, String>')), resolveType('Windows.Foundation.Collections.IMap`2<String, String>'));
  assert.ok(asMap === fresh, 'the new object is found by its identity');
  fresh.dispose();
  fresh.dispose();
  assert.is(live(identityEntries()), live(start), 'as many live entries as before');
});

classes('an interface first, its class later: one object with the members of both', () => {
  const map = Collections.StringMap.create();
  const observable = project(map.as(ifaceOf('Windows.Foundation.Collections.IObservableMap`2<String, String>')), resolveType('Windows.Foundation.Collections.IObservableMap`2<String, String>')) as WinRTObject;
  map.dispose(); // one receipt back; the second is `observable`'s
  assert.ok(observable === map);
  const viaObservable = observable as unknown as { Insert(k: string, v: string): boolean; Size: number; winrtType: string };
  viaObservable.Insert('k', 'v');
  assert.is(viaObservable.Size, 1);
  observable.dispose();

  // Projected as an interface only, then received as the runtime class: the class's members join.
  const first = Collections.StringMap.create();
  const iterable = 'Windows.Foundation.Collections.IIterable`1<Windows.Foundation.Collections.IKeyValuePair`2<String, String>>';
  const pointer = first.as(ifaceOf(iterable));
  first.dispose();
  const alone = project(pointer, resolveType(iterable)) as WinRTObject & Record<string, unknown>;
  assert.is(alone.winrtType, iterable);
  assert.is(alone['Insert'], undefined, 'an IIterable has no Insert');
  const asClass = project(alone.as(ifaceOf('Windows.Foundation.Collections.IMap`2<String, String>')), resolveType('Windows.Foundation.Collections.StringMap')) as typeof first;
  assert.ok((asClass as unknown) === alone, 'the same object');
  assert.is(asClass.winrtType, 'Windows.Foundation.Collections.StringMap', 'the runtime class, once it is known');
  assert.is(asClass.Insert('x', 'y'), false, 'and its members');
  asClass.dispose();
  alone.dispose();
});

classes('an event handler\'s sender is the object itself, lent: the holder\'s one dispose releases it', () => {
  const map = Collections.StringMap.create();
  const senders: unknown[] = [];
  const subscription = map.onMapChanged((sender) => void senders.push(sender));
  map.Insert('a', '1');
  map.Insert('b', '2');
  assert.is(senders.length, 2);
  assert.ok(senders.every((sender) => sender === map), 'sender === the object subscribed to');
  subscription();
  const implementation = maps.at(-1)!;
  map.dispose();
  assert.throws(() => map.Size, (error: unknown) => error instanceof ComError, 'the senders added no receipt: released');
  assert.is(implementation.handlers.size, 0);
});

classes.run();

const asyncs = suite('asynchronous operations');
const intOperation = 'Windows.Foundation.IAsyncOperation`1<Int32>';
const asOperation = (promise: Promise<unknown>, type = intOperation): WinRTObject => project(fromPromise(promise, type), resolveType(type)) as WinRTObject;

asyncs('a JS promise as IAsyncOperation<Int32>, awaited back through the vtables', async () => {
  assert.is(await asOperation(Promise.resolve(42)), 42);
  const later = asOperation(new Promise((resolve) => setTimeout(() => resolve(7), 10)));
  assert.is((later as unknown as { Status: number }).Status, 0, 'Started');
  assert.is(await later, 7);
  assert.is((later as unknown as { Status: number }).Status, 1, 'Completed');
});

asyncs('IAsyncAction', async () => {
  const action = asOperation(new Promise((resolve) => setTimeout(resolve, 5)), 'Windows.Foundation.IAsyncAction');
  assert.is(await action, undefined);
});

asyncs('a failure rejects with the ComError of its code', async () => {
  try {
    await asOperation(Promise.reject(new ComError(E_INVALIDARG, 'bad input')));
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ComError);
    assert.is((error as ComError).hresult, E_INVALIDARG);
  }
});

asyncs('an AbortSignal cancels the operation (IAsyncInfo.Cancel) and rejects with its reason', async () => {
  const controller = new AbortController();
  const pending = asPromise(asOperation(new Promise(() => {})), { signal: controller.signal });
  controller.abort(new Error('user gave up'));
  try {
    await pending;
    assert.unreachable();
  } catch (error) {
    assert.match(String(error), /user gave up/);
  }
  const aborted = AbortSignal.abort(new Error('too late'));
  await asPromise(asOperation(new Promise(() => {})), { signal: aborted }).then(() => assert.unreachable(), (error) => assert.match(String(error), /too late/));
});

asyncs('one operation received twice is one object: awaiting both sets Completed once', async () => {
  const operation = fromPromise(Promise.resolve(7), intOperation);
  const first = project(operation.clone(), resolveType(intOperation)) as WinRTObject;
  const second = project(operation, resolveType(intOperation)) as WinRTObject;
  assert.ok(first === second);
  // Two wrappers would each set Completed, and the second would fail with E_ILLEGAL_DELEGATE_ASSIGNMENT.
  assert.equal(await Promise.all([first, second]), [7, 7]);
  first.dispose();
  second.dispose();
});

asyncs('one promise per operation: awaiting twice shares the result', async () => {
  const operation = asOperation(Promise.resolve(5));
  assert.is(await operation, 5);
  assert.is(await operation, 5);
  assert.throws(() => asPromise(operation, { signal: new AbortController().signal }), /already being awaited/);
});

asyncs('WithProgress: progress reports reach onProgress, Cancel aborts the JS work', async () => {
  const type = 'Windows.Foundation.IAsyncOperationWithProgress`2<Int32, UInt32>';
  const reports: number[] = [];
  const operation = project(fromPromise(async (report) => {
    report(10);
    await new Promise((resolve) => setTimeout(resolve, 5));
    report(90);
    return 99;
  }, type), resolveType(type)) as WinRTObject;
  assert.is(await asPromise(operation, { onProgress: (p: number) => reports.push(p) }), 99);
  assert.equal(reports, [90], 'the report made before the handler was set is not replayed; later ones arrive');
  let aborted: unknown = null;
  const controller = new AbortController();
  const slow = project(fromPromise((_report, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => {
    aborted = signal.reason;
    reject(signal.reason);
  })), type), resolveType(type)) as WinRTObject;
  const pending = asPromise(slow, { signal: controller.signal });
  controller.abort(new Error('stop'));
  await pending.then(() => assert.unreachable(), (error) => assert.match(String(error), /stop/));
  assert.instance(aborted, ComError, 'the JS work saw IAsyncInfo.Cancel as an abort');
});

asyncs.run();

const values = suite('IReference<T> and collections from JS');

values('box() and unboxing through IReference<T>', () => {
  const boxed = box(42, 'Int32');
  assert.is(project(boxed, resolveType('Windows.Foundation.IReference`1<Int32>')), 42);
  const text = box('ünïcödé', 'String');
  assert.is(project(text, resolveType('Windows.Foundation.IReference`1<String>')), 'ünïcödé');
});

values('a JS array where an IVectorView<String> is expected: a JS implementation, iterable again once projected', () => {
  const type = resolveType('Windows.Foundation.Collections.IVectorView`1<String>');
  const before = liveComObjects();
  const vector = project(toABI(['x', 'y', 'z'], type, 'test'), type) as WinRTObject & Iterable<string> & {
    length: number; at(i: number): string | undefined; IndexOf(v: string): [number, boolean]; GetMany(start: number, items: string[]): number;
  };
  assert.equal([...vector], ['x', 'y', 'z']);
  assert.is(vector.length, 3);
  assert.is(vector.at(-1), 'z');
  assert.equal(vector.IndexOf('y'), [1, true]);
  assert.equal(vector.IndexOf('nope'), [0, false]);
  const buffer = new Array<string>(2);
  assert.is(vector.GetMany(1, buffer), 2, 'a FillArray through the projection');
  assert.equal(buffer, ['y', 'z']);
  vector.dispose();
  assert.is(liveComObjects(), before, 'the JS implementation died with its last reference');
});

values('a JS Map where an IMapView<String, Int32> is expected', () => {
  const type = resolveType('Windows.Foundation.Collections.IMapView`2<String, Int32>');
  const view = project(toABI(new Map([['one', 1], ['two', 2]]), type, 'test'), type) as WinRTObject & Iterable<[string, number]> & { size: number; get(k: string): number | undefined };
  assert.is(view.size, 2);
  assert.is(view.get('two'), 2);
  assert.equal([...view], [['one', 1], ['two', 2]]);
  view.dispose();
});

values('where code is not compiled, ComPtrs and projected objects take their shared constructors and members, and work the same', () => {
  // A type no other test projects, so that its ComPtr class and its projected class are made now.
  const type = resolveType('Windows.Foundation.Collections.IIterator`1<Int16>') as ResolvedInterface;
  const compiledType = resolveType('Windows.Foundation.Collections.IIterator`1<UInt16>') as ResolvedInterface;
  const iterator = (): object => {
    let i = 0;
    return { get_Current: () => 7 + i, get_HasCurrent: () => i < 2, MoveNext: () => ++i < 2 };
  };
  const before = liveComObjects();
  const compiled = project(createObject(iterator(), [compiledType.iface]), compiledType) as WinRTObject;
  setCompiling(false);
  try {
    const pointer = createObject(iterator(), [type.iface]);
    assert.not.ok(Object.hasOwn(Object.getPrototypeOf(pointer), 'dispose'), 'the ComPtr class has no dispose of its own: ComPtr\'s');
    const object = project(pointer, type) as WinRTObject & { Current: number; HasCurrent: boolean; MoveNext(): boolean };
    assert.not.ok(Object.hasOwn(Object.getPrototypeOf(object), 'dispose'), 'the projected class has no dispose of its own: WinRTObject\'s');
    assert.is(Object.getPrototypeOf(pointer).constructor.name, 'ComPtr<Windows.Foundation.Collections.IIterator`1<Int16>>', 'the shared path names the ComPtr class too');
    assert.is(Object.getPrototypeOf(object).constructor.name, 'IIterator', 'and the projected class');
    assert.is(object.Current, 7);
    assert.is(object.MoveNext(), true);
    assert.is(object.Current, 8);
    assert.ok(project(object.comPtr().clone(), type) === object, 'received again: the same object');
    object.dispose();
    assert.is(object.Current, 8, 'one receipt given back, one still held');
    object[Symbol.dispose]();
    assert.throws(() => object.Current, (error: unknown) => error instanceof ComError, 'released: its members throw ComError');
  } finally {
    setCompiling(true);
  }
  assert.ok(Object.hasOwn(Object.getPrototypeOf(compiled), 'dispose'), 'while code is compiled, the class has its own dispose');
  assert.ok(Object.hasOwn(Object.getPrototypeOf(compiled.comPtr()), 'dispose'), 'and the ComPtr class its own');
  assert.match(String(Object.getPrototypeOf(compiled).constructor), /this\[S\]/, 'the projected class\'s constructor is compiled text (the shared one reads OBJECT_STATE)');
  // Named by the literal key they are made under (pointer.ts, classFor).
  assert.is(Object.getPrototypeOf(compiled).constructor.name, 'IIterator');
  assert.is(Object.getPrototypeOf(compiled.comPtr()).constructor.name, 'ComPtr<Windows.Foundation.Collections.IIterator`1<UInt16>>');
  compiled.dispose();
  assert.is(liveComObjects(), before, 'both JS implementations died with their last references');
});

values('a projected class is named by its type, without namespace or type arguments, dotted arguments too', () => {
  const type = resolveType('Windows.Foundation.Collections.IIterator`1<Windows.Foundation.Uri>') as ResolvedInterface;
  const object = project(createObject({ get_Current: () => null, get_HasCurrent: () => false, MoveNext: () => false }, [type.iface]), type) as WinRTObject;
  assert.is(Object.getPrototypeOf(object).constructor.name, 'IIterator');
  object.dispose();
});

values('console.log shows a ComPtr and a projected object by their toString(), not their state', () => {
  const type = resolveType('Windows.Foundation.Collections.IIterator`1<UInt16>') as ResolvedInterface;
  const object = project(createObject({ get_Current: () => 1, get_HasCurrent: () => true, MoveNext: () => false }, [type.iface]), type) as WinRTObject;
  assert.is(inspect(object), '[Windows.Foundation.Collections.IIterator`1<UInt16>]');
  assert.match(inspect(object.comPtr()), /^ComPtr<Windows\.Foundation\.Collections\.IIterator`1<UInt16>>\(0x[0-9a-f]+\)$/);
  assert.match(inspect({ held: object }), /held: \[Windows\.Foundation/, 'nested too');
  object.dispose();
});

values('projecting a pointer that a projected object owns throws, and counts no receipt', () => {
  const type = resolveType('Windows.Foundation.Collections.IIterator`1<UInt16>') as ResolvedInterface;
  const before = liveComObjects();
  const object = project(createObject({ get_Current: () => 1, get_HasCurrent: () => true, MoveNext: () => false }, [type.iface]), type) as WinRTObject;
  assert.throws(() => project(object.comPtr(), type), /this ComPtr belongs to a projected Windows\.Foundation\.Collections\.IIterator`1<UInt16>/);
  object.dispose();
  assert.is(liveComObjects(), before, 'one dispose released it: the refused projection added no receipt');
});

values('a projected object never disposed is collected with its reference, whether it settled with its young pointer or on its own', async () => {
  const type = resolveType('Windows.Foundation.Collections.IIterator`1<UInt16>') as ResolvedInterface;
  const iterator = (): object => ({ get_Current: () => 1, get_HasCurrent: () => true, MoveNext: () => false });
  const live = (): number => identityEntries().entries - identityEntries().vacant;
  const base = await settledCount(liveComObjects);
  const entries = live();
  // A pointer made in this synchronous run: the object settles with it (one batch for both).
  (() => void project(createObject(iterator(), [type.iface]), type))();
  // A pointer settled on its own before it is projected: the object settles in its own batch.
  await (async () => {
    const settled = createObject(iterator(), [type.iface]);
    await new Promise((resolve) => setImmediate(resolve));
    void project(settled, type);
  })();
  assert.is(liveComObjects(), base + 2);
  assert.is(live(), entries + 2, 'both are their identities\' entries');
  await new Promise((resolve) => setImmediate(resolve));
  // JavaScriptCore (Bun) scans the stack conservatively: a dropped object may stay reachable
  // from a stale stack slot for as long as the test runs (seen under bun.exe on Wine), so only
  // V8 (Node, Deno) is held to the collection, where a GC hook can force it.
  if (process.versions.bun !== undefined || !collectGarbage()) return;
  assert.is(await settledCount(liveComObjects), base, 'both released by the collector, with their JS implementations');
  assert.is(live(), entries, 'and their identity entries gone');
});

values('ComPtr and WinRTObject are made by attach, copyFrom and project, not by new', () => {
  assert.throws(() => new (ComPtr as unknown as new () => unknown)(), /ComPtr: use ComPtr\.attach\(pointer, iface\) or ComPtr\.copyFrom/);
  assert.throws(() => new (WinRTObject as unknown as new () => unknown)(), /WinRTObject: objects are made by project/);
});

values.run();
