// Windows.ApplicationModel.Background as the host implements it: its interfaces as COM
// interfaces (for the `interfaces` of the JS objects handed to callers) and its enumerations
// by name, both read from the generated projection.
import '../generated/descriptors.js'; // the projection's types, each namespace parsed when first resolved
import type { ComInterface } from '../com/interface.js';
import { resolveType, type ResolvedInterface } from '../winrt/types.js';

export const NS = 'Windows.ApplicationModel.Background';

const interfaces = new Map<string, ComInterface<any>>();

/** The COM interfaces of `names` (interfaces of the Background namespace), in that order. */
export function backgroundInterfaces(...names: string[]): ComInterface<any>[] {
  return names.map((name) => {
    let iface = interfaces.get(name);
    if (!iface) interfaces.set(name, (iface = (resolveType(`${NS}.${name}`) as ResolvedInterface).iface));
    return iface;
  });
}

/** An enumeration of the namespace: its values by name. */
export function enumeration(name: string): Readonly<Record<string, number>> {
  return (resolveType(`${NS}.${name}`) as { values: Readonly<Record<string, number>> }).values;
}

/** The value of `value` (a name or a number) in enumeration `name`, or a RangeError listing the names. */
export function enumValue(name: string, value: string | number, where: string): number {
  const values = enumeration(name);
  const numeric = typeof value === 'number' ? value : values[value];
  if (numeric === undefined || !Object.values(values).includes(numeric)) {
    throw new RangeError(`${where}: ${JSON.stringify(value)} is not a ${name} (use ${Object.keys(values).join(', ')})`);
  }
  return numeric;
}

/** The name of `value` in enumeration `name` (its number as text when it has none). */
export function enumName(name: string, value: number): string {
  return Object.entries(enumeration(name)).find(([, v]) => v === value)?.[0] ?? String(value);
}
