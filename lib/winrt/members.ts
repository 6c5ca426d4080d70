// Which JS members an interface's methods become — one rule for the runtime (projection.ts, which
// defines them) and the generator (declarations.ts, which declares their types), so the two can
// never disagree: get_X/put_X make the property X, add_X/remove_X the event onX, other methods keep
// their ABI names, and overloads (distinct ABI names, one metadata name) also answer to the
// metadata name, choosing by argument count. The first interface to claim a name keeps it.

/** What the plan needs to know of a method. */
export interface MemberSource {
  /** The ABI name (the Overload attribute's value where there is one). */
  readonly abi: string;
  /** The method's own name in the metadata. */
  readonly metadata: string;
  /** How many arguments JS passes (in-parameters and the arrays it hands over). */
  readonly arity: number;
}

export type MemberPlan<T> =
  | { readonly kind: 'property'; readonly name: string; readonly getter: T | undefined; readonly setter: T | undefined }
  | { readonly kind: 'event'; readonly name: string; readonly add: T; readonly remove: T }
  | { readonly kind: 'method'; readonly name: string; readonly method: T }
  /** The metadata name of overloads: the first method of each arity. */
  | { readonly kind: 'overloads'; readonly name: string; readonly byArity: ReadonlyMap<number, T> };

const isAccessor = (abi: string): boolean => abi.startsWith('get_') || abi.startsWith('put_') || abi.startsWith('add_') || abi.startsWith('remove_');

/**
 * The members of one interface, in order. `taken` holds the names earlier interfaces claimed
 * and receives this interface's.
 */
export function planMembers<T>(methods: readonly T[], describe: (method: T) => MemberSource, taken: Set<string>): MemberPlan<T>[] {
  const plan: MemberPlan<T>[] = [];
  const sources = methods.map(describe);
  const byAbi = new Map(methods.map((m, i) => [sources[i]!.abi, m]));
  methods.forEach((method, i) => {
    const { abi } = sources[i]!;
    if (abi.startsWith('get_') || abi.startsWith('put_')) {
      const name = abi.slice(4);
      if (taken.has(name)) return;
      taken.add(name);
      plan.push({ kind: 'property', name, getter: byAbi.get(`get_${name}`), setter: byAbi.get(`put_${name}`) });
    } else if (abi.startsWith('add_')) {
      const name = `on${abi.slice(4)}`;
      const remove = byAbi.get(`remove_${abi.slice(4)}`);
      if (taken.has(name) || remove === undefined) return;
      taken.add(name);
      plan.push({ kind: 'event', name, add: method, remove });
    } else if (!abi.startsWith('remove_')) {
      if (taken.has(abi)) return;
      taken.add(abi);
      plan.push({ kind: 'method', name: abi, method });
    }
  });
  const groups = new Map<string, number[]>();
  sources.forEach((source, i) => {
    if (!isAccessor(source.abi)) groups.set(source.metadata, [...(groups.get(source.metadata) ?? []), i]);
  });
  for (const [name, group] of groups) {
    // A lone method under its own name needs no dispatcher; the default overload may hold the
    // metadata name as its ABI name, and then the dispatcher replaces it.
    const ownName = group.some((i) => sources[i]!.abi === name);
    if (group.length < 2 && ownName) continue;
    if (taken.has(name) && !ownName) continue;
    taken.add(name);
    const byArity = new Map<number, T>();
    for (const i of group) if (!byArity.has(sources[i]!.arity)) byArity.set(sources[i]!.arity, methods[i]!);
    plan.push({ kind: 'overloads', name, byArity });
  }
  return plan;
}
