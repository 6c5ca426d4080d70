// The segmented sieve against known prime counts and a trial-division reference.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { countPrimes, primeSegments, SEGMENT_ODDS, smallPrimes } from '../../lib/samples/sieve.js';

/** Trial division, as the seed's sample does (by every number below √n here). */
function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

const flat = (from: number, to: number): number[] => [...primeSegments(from, to)].flatMap((s) => [...s]);
const test = suite('segmented sieve');

test('π(10^k) for k ≤ 8 (the known values: 4, 25, 168, 1229, 9592, 78498, 664579, 5761455)', () => {
  assert.equal([1, 2, 3, 4, 5, 6, 7, 8].map((k) => countPrimes(10 ** k)), [4, 25, 168, 1229, 9592, 78498, 664579, 5761455]);
});

test('the sequence equals trial division on small ranges, across segment boundaries', () => {
  const reference = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i).filter(isPrime);
  for (const [from, to] of [[0, 1000], [1, 2], [2, 2], [3, 3], [4, 4], [0, 0], [90, 97], [2 * SEGMENT_ODDS - 50, 2 * SEGMENT_ODDS + 200], [1_000_000, 1_003_000], [999_983, 999_983]]) {
    assert.equal(flat(from!, to!), reference(from!, to!), `${from}..${to}`);
  }
});

test('resuming from any number continues the sequence without a gap or a repeat', () => {
  const whole = flat(0, 200_000);
  for (const cut of [0, 1, 2, 3, 100, 65_537, 131_071, 199_999]) {
    const before = whole.filter((p) => p < cut);
    assert.equal([...before, ...flat(cut, 200_000)], whole, `resumed at ${cut}`);
  }
});

test('near 2^32 and beyond, numbers stay exact', () => {
  assert.equal(flat(4_294_967_291, 4_294_967_311), [4_294_967_291, 4_294_967_311]);
  assert.equal(flat(1e12, 1e12 + 100), [1e12 + 39, 1e12 + 61, 1e12 + 63, 1e12 + 91]);
});

test('validation', () => {
  assert.throws(() => [...primeSegments(-1, 10)], /from and to must be whole numbers/);
  assert.throws(() => [...primeSegments(0, 1.5)], /got 0 and 1\.5/);
  assert.throws(() => smallPrimes(-3), /limit must be a whole number/);
  assert.equal(flat(10, 5), []);
});

test.run();
