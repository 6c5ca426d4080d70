// Windows.Foundation.Collections in JS terms. Projected IIterable/IVectorView/IVector objects are
// iterable and indexable (`length`, `at(i)`, `toArray()`); IMapView/IMap objects answer `get`,
// `has`, `size` and iterate as [key, value] entries, like a ReadonlyMap. JS arrays, iterables and
// Maps passed where Windows expects those interfaces are implemented in JS, with the instantiated
// IIDs (e.g. a JS array as IIterable<String>).
import { Guid } from '../com/guid.js';
import { ComError, E_BOUNDS, E_ILLEGAL_METHOD_CALL } from '../com/hresult.js';
import { createObject } from '../com/implement.js';
import type { Com } from '../com/pointer.js';
import { resolveType, type ResolvedInterface, type ResolvedType } from './types.js';

const NS = 'Windows.Foundation.Collections';

function instantiate(definition: string, args: readonly ResolvedType[]): ResolvedInterface {
  const type = resolveType(`${NS}.${definition}<${args.map((a) => a.name).join(', ')}>`);
  if (type.kind !== 'interface') throw new TypeError(`${definition} is not an interface`);
  return type as ResolvedInterface;
}

/** Adds the JS collection members to the prototype of projected objects implementing `iface`. */
export function collectionMembers(prototype: object, iface: ResolvedInterface): void {
  const define = (name: string | symbol, value: unknown, getter = false): void => {
    if (Object.hasOwn(prototype, name)) return;
    Object.defineProperty(prototype, name, getter ? { get: value as () => unknown, configurable: true } : { value, configurable: true, writable: true });
  };
  switch (iface.definition) {
    case `${NS}.IVectorView\`1`:
    case `${NS}.IVector\`1`:
      define('length', function (this: { Size: number }) { return this.Size; }, true);
      define('at', function (this: { Size: number; GetAt(i: number): unknown }, index: number) {
        const size = this.Size;
        const i = index < 0 ? size + index : index;
        return i >= 0 && i < size ? this.GetAt(i) : undefined;
      });
      define('toArray', function (this: { Size: number; GetAt(i: number): unknown }) {
        return Array.from({ length: this.Size }, (_, i) => this.GetAt(i));
      });
      define(Symbol.iterator, function* (this: { Size: number; GetAt(i: number): unknown }) {
        const size = this.Size;
        for (let i = 0; i < size; i++) yield this.GetAt(i);
      });
      break;
    case `${NS}.IIterable\`1`:
      define(Symbol.iterator, function* (this: { First(): { HasCurrent: boolean; Current: unknown; MoveNext(): boolean } }) {
        const iterator = this.First();
        for (let more = iterator.HasCurrent; more; more = iterator.MoveNext()) yield iterator.Current;
      });
      break;
    case `${NS}.IMapView\`2`:
    case `${NS}.IMap\`2`:
      define('size', function (this: { Size: number }) { return this.Size; }, true);
      define('has', function (this: { HasKey(k: unknown): boolean }, key: unknown) { return this.HasKey(key); });
      define('get', function (this: { HasKey(k: unknown): boolean; Lookup(k: unknown): unknown }, key: unknown) {
        return this.HasKey(key) ? this.Lookup(key) : undefined;
      });
      define('entries', function* (this: { First(): { HasCurrent: boolean; Current: { Key: unknown; Value: unknown }; MoveNext(): boolean } }) {
        const iterator = this.First();
        for (let more = iterator.HasCurrent; more; more = iterator.MoveNext()) {
          const pair = iterator.Current;
          yield [pair.Key, pair.Value];
        }
      });
      define('keys', function* (this: { entries(): Iterable<[unknown, unknown]> }) {
        for (const [key] of this.entries()) yield key;
      });
      define('values', function* (this: { entries(): Iterable<[unknown, unknown]> }) {
        for (const [, value] of this.entries()) yield value;
      });
      define(Symbol.iterator, function (this: { entries(): Iterable<[unknown, unknown]> }) { return this.entries(); });
      break;
  }
}

/**
 * A JS implementation of the collection interface `type` over a JS value, or null when `type`
 * is not a collection interface or the value does not fit it: arrays and iterables for
 * IIterable<T> and IVectorView<T>, Maps for IMapView<K, V> and IIterable<IKeyValuePair<K, V>>.
 */
export function iterableImplementation(value: unknown, type: ResolvedInterface): Com | null {
  const T = type.scope.get('T');
  switch (type.definition) {
    case `${NS}.IIterable\`1`:
      if (value instanceof Map && T?.kind === 'interface' && (T as ResolvedInterface).definition === `${NS}.IKeyValuePair\`2`) {
        const kv = T as ResolvedInterface;
        return iterable([...value].map(([k, v]) => pair(k, v, kv)), type, T);
      }
      if (isIterable(value)) return iterable([...value], type, T!);
      return null;
    case `${NS}.IVectorView\`1`:
      if (isIterable(value)) return vectorView([...value], type, T!);
      return null;
    case `${NS}.IMapView\`2`:
      if (value instanceof Map) return mapView(value, type);
      return null;
    default:
      return null;
  }
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' && !(value instanceof Map);
}

/** IIterator<T> over a snapshot of the items. */
function iterator(items: readonly unknown[], T: ResolvedType): object {
  const type = instantiate('IIterator`1', [T]);
  let index = 0;
  return {
    interfaces: [type.iface],
    get_Current: () => {
      if (index >= items.length) throw new ComError(E_BOUNDS, 'the iterator is past the end');
      return items[index];
    },
    get_HasCurrent: () => index < items.length,
    MoveNext: () => ++index < items.length,
    GetMany: (buffer: unknown[]) => {
      let n = 0;
      for (; n < buffer.length && index < items.length; n++, index++) buffer[n] = items[index];
      return n;
    },
  };
}

function iterable(items: readonly unknown[], type: ResolvedInterface, T: ResolvedType): Com {
  return createObject({ First: () => iterator(items, T) }, [type.iface]);
}

function vectorView(items: readonly unknown[], type: ResolvedInterface, T: ResolvedType): Com {
  const iterableType = instantiate('IIterable`1', [T]);
  return createObject({
    GetAt: (index: number) => {
      if (index >= items.length) throw new ComError(E_BOUNDS, `index ${index} is past the end (${items.length} items)`);
      return items[index];
    },
    get_Size: () => items.length,
    IndexOf: (value: unknown) => {
      const at = items.indexOf(value);
      return [at >= 0 ? at : 0, at >= 0];
    },
    GetMany: (start: number, buffer: unknown[]) => {
      let n = 0;
      for (; n < buffer.length && start + n < items.length; n++) buffer[n] = items[start + n];
      return n;
    },
    First: () => iterator(items, T),
  }, [type.iface, iterableType.iface]);
}

function pair(key: unknown, value: unknown, type: ResolvedInterface): object {
  return { interfaces: [type.iface], get_Key: () => key, get_Value: () => value };
}

/** Guid keys compare by value: each call from Windows brings a new Guid object. */
const keyOf = (key: unknown): unknown => (key instanceof Guid ? key.key : key);

function mapView(source: ReadonlyMap<unknown, unknown>, type: ResolvedInterface): Com {
  const K = type.scope.get('K')!;
  const V = type.scope.get('V')!;
  const kv = instantiate('IKeyValuePair`2', [K, V]);
  const map = new Map([...source].map(([k, v]) => [keyOf(k), v]));
  const pairs = (): object[] => [...source].map(([k, v]) => pair(k, v, kv));
  return createObject({
    Lookup: (key: unknown) => {
      if (!map.has(keyOf(key))) throw new ComError(E_BOUNDS, `no entry for key ${String(key)}`);
      return map.get(keyOf(key));
    },
    get_Size: () => map.size,
    HasKey: (key: unknown) => map.has(keyOf(key)),
    Split: () => {
      throw new ComError(E_ILLEGAL_METHOD_CALL, 'Split is not supported by JS map views');
    },
    First: () => iterator(pairs(), kv),
  }, [type.iface, instantiate('IIterable`1', [kv]).iface]);
}
