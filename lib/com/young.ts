// New objects whose costly bookkeeping waits: most wrappers of a COM pointer are disposed within
// the synchronous run that made them (a result read and released, a `using` block), and what a
// wrapper needs only if it lives on (a FinalizationRegistry entry, a WeakRef: each costs more
// than the rest of the wrapper in V8) can be done for the survivors at the next microtask, in one
// batch. Until then the batch holds its items strongly, so none can be collected unseen; a
// synchronous run that makes more than `limit` hands them over early, so the batch stays bounded.
//
// The limit is small: what a batch holds survives the scavenges until it is handed over, and V8
// copies survivors, then promotes them to the old generation, where every store of a young object
// into them pays the write barrier. With 4096, First().dispose() in a loop, run after other calls
// had filled the heap, cost 600-700 ns; with 256, 470-490; alone, the same either way (bench.mjs,
// projectedCall after outgoingNative, medians of 7 rounds).

/** A function that adds an item to the batch `settle` receives at the next microtask (or at `limit` items). */
export function youngBatch<T>(settle: (items: T[]) => void, limit = 256): (item: T) => void {
  let items: T[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const batch = items;
    items = [];
    settle(batch);
  };
  return (item) => {
    items.push(item);
    if (items.length >= limit) flush();
    else if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
  };
}
