// IReference<T> (Windows.Foundation): how WinRT boxes a value, e.g. a nullable property. A JS
// value passed where an IReference<T> is expected becomes a JS object implementing it; an
// IReference<T> received is unboxed to its value by the projection.
import { createObject } from '../com/implement.js';
import type { Com } from '../com/pointer.js';
import { resolveType, type ResolvedInterface } from './types.js';

/** Boxes `value` as the IReference<T> `type` (an instantiation of Windows.Foundation.IReference`1). */
export function boxReference(value: unknown, type: ResolvedInterface): Com {
  const inner = type.scope.get('T')!;
  return createObject({ get_Value: () => value }, [type.iface], { runtimeClassName: `Windows.Foundation.IReference\`1<${inner.name}>` });
}

/**
 * Boxes a JS value as `IReference<T>` for T given by name.
 * @example box(42, 'Int32') // an IReference<Int32>
 */
export function box(value: unknown, typeName: string): Com {
  const type = resolveType(`Windows.Foundation.IReference\`1<${typeName}>`);
  if (type.kind !== 'interface') throw new TypeError(`IReference<${typeName}> is not an interface`);
  return boxReference(value, type);
}
