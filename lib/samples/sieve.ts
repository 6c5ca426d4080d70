// The prime sample's engine: a segmented sieve of Eratosthenes. Primes are produced in order,
// segment by segment, so that a run can stop (cancellation) between any two segments and resume
// later from any starting number; each segment fits in the CPU cache (32 KiB of odd numbers).
//   Sieve of Eratosthenes, segmented: Bays and Hudson (1977), "The segmented sieve of
//   Eratosthenes and primes in arithmetic progressions to 10^12".

/** Odd numbers per segment: one byte each, 32 KiB, an L1 data cache's size on most machines. */
export const SEGMENT_ODDS = 32 * 1024;

/** The primes up to `limit` (inclusive), by a plain sieve: the seeds for the segments. */
export function smallPrimes(limit: number): Uint32Array {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`smallPrimes: limit must be a whole number ≥ 0, got ${String(limit)}`);
  if (limit < 2) return new Uint32Array(0);
  const composite = new Uint8Array(limit + 1);
  const out: number[] = [];
  for (let n = 2; n <= limit; n++) {
    if (composite[n]) continue;
    out.push(n);
    for (let m = n * n; m <= limit; m += n) composite[m] = 1;
  }
  return Uint32Array.from(out);
}

/**
 * The primes p with `from` ≤ p ≤ `to`, in order, one segment (a Uint32Array) at a time. `to` may
 * be up to 2^53; segments hold at most about 3,500 primes (32 Ki odd numbers).
 */
export function* primeSegments(from: number, to: number): Generator<Float64Array, void, void> {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < 0) {
    throw new RangeError(`primeSegments: from and to must be whole numbers from 0 to 2^53, got ${String(from)} and ${String(to)}`);
  }
  if (to < 2 || from > to) return;
  if (from <= 2) yield Float64Array.of(2);
  // Odd numbers only: index i of a segment starting at odd `low` stands for low + 2i.
  let low = Math.max(3, from % 2 === 0 ? from + 1 : from);
  const seeds = smallPrimes(Math.floor(Math.sqrt(to)) + 1).subarray(1); // odd seeds
  const marks = new Uint8Array(SEGMENT_ODDS);
  while (low <= to) {
    const high = Math.min(to, low + 2 * (SEGMENT_ODDS - 1)); // last odd number of the segment
    const count = Math.floor((high - low) / 2) + 1;
    marks.fill(0, 0, count);
    for (const p of seeds) {
      const square = p * p;
      if (square > high) break;
      // The first odd multiple of p that is ≥ max(p², low).
      let start = square >= low ? square : Math.ceil(low / p) * p;
      if (start % 2 === 0) start += p;
      for (let i = (start - low) / 2; i < count; i += p) marks[i] = 1;
    }
    const primes: number[] = [];
    for (let i = 0; i < count; i++) if (marks[i] === 0) primes.push(low + 2 * i);
    if (primes.length > 0) yield Float64Array.from(primes);
    low = high + 2;
  }
}

/** How many primes are ≤ `limit` (π(limit)). */
export function countPrimes(limit: number): number {
  let count = 0;
  for (const segment of primeSegments(0, limit)) count += segment.length;
  return count;
}
