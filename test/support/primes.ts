// The expected content of a prime log, from the sieve (checked against trial division in
// test/samples/sieve.test.ts): the primes up to `to`, and their text in the seed's format.

import { primeSegments } from '../../lib/samples/sieve.js';

export function primesTo(to: number): number[] {
  return [...primeSegments(0, to)].flatMap((segment) => [...segment]);
}

/** "2, 3, 5, …, p, " for every prime p ≤ to. */
export function primeText(to: number): string {
  return primesTo(to).map((p) => `${p}, `).join('');
}
