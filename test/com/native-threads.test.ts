// The native IUnknown under load from real native threads (winbgtest's hammer: 8 threads of C
// calling through the vtable as C++ would) while the JS thread is blocked in Atomics.wait: exact
// counts, E_NOINTERFACE with NULL for unknown IIDs, E_POINTER for a NULL ppv, one identity, and
// clean-up once the JS thread is free again.
import koffi from 'koffi';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObject } from '../../lib/com/index.js';
import { liveComObjects, nativeMemoryInUse, registeredCallbacks } from '../../lib/diagnostics/index.js';
import { referenceCount } from '../../lib/com/object.js';
import { nativeUnknownUnavailable } from '../../lib/ffi/native-unknown.js';
import { ICalculator, INamed, NamedCalculator } from '../support/interfaces.js';
import { blockUntil, Memory } from '../support/native.js';
import { RESULT, winbgtest, winbgtestMissing } from '../support/winbgtest.js';


const lib = winbgtest();
const native = nativeUnknownUnavailable() === null;
// Our CI (.ci/run: Linux, and Wine) builds the library with npm test; a missing one there is a
// failure, not a skip. (The native Windows jobs may have no C compiler: they skip.)
const required = process.env.CI === 'true' && (process.platform === 'linux' || process.env.WINBG_UNDER_WINE === '1');
const test = suite('native IUnknown from 8 native threads');
// Without the native IUnknown (the koffi-callback fallback) the hammer would wait on the blocked
// JS thread forever: that is what the native code is for, so there is nothing to test.
const it = !native ? test.skip : lib ? test : required ? test : test.skip;
if (!lib) console.log(`  (${required ? 'FAILING' : 'skipped'}: ${winbgtestMissing})`);
else if (!native) console.log(`  (skipped: no native IUnknown here: ${nativeUnknownUnavailable()})`);

const THREADS = 8;
const ROUNDS = 20_000;

/** Threads of the last hammer run that have finished (results[0]). */
const finishedThreads = (results: bigint): number => Number(koffi.decode(results, RESULT.finished * 8, 'int64_t'));

it('AddRef / QueryInterface (known, IUnknown, unknown, NULL ppv) / Release from 8 threads while JS waits: exact, no error', () => {
  assert.ok(lib, winbgtestMissing);
  const memory = new Memory();
  const base = liveComObjects();
  const calc = createObject(new NamedCalculator());
  const callbacks = registeredCallbacks();
  const ptr = calc.pointer;
  const results = memory.alloc(8 * 8);
  const iid = memory.guid(INamed.iid.toString());
  const started = lib!.hammerStart(ptr, iid, THREADS, ROUNDS, results);
  assert.is(started, THREADS, 'threads started');
  // The JS thread stays blocked until the threads are done; only then may it join them.
  blockUntil(() => finishedThreads(results) >= THREADS, 'the 8 threads finish', 60_000);
  const finished = finishedThreads(results);
  const values = koffi.decode(results, 'int64_t', 8) as ArrayLike<bigint | number>;
  const read = (slot: number): number => Number(values[slot]);
  lib!.hammerJoin();
  assert.is(finished, THREADS, 'every thread finished while the JS thread was blocked');
  assert.is(read(RESULT.errors), 0, `no error (first: ${lib!.errorName(read(RESULT.firstError))}, value ${read(RESULT.firstErrorValue)})`);
  assert.is(read(RESULT.rounds), THREADS * ROUNDS, 'every round ran');
  assert.ok(read(RESULT.maxAddRef) > 1, 'AddRef returned counts');
  assert.is(referenceCount(ptr), 1, 'every reference the threads took was given back');
  assert.is(registeredCallbacks(), callbacks, 'no callback registered');
  calc.dispose();
  assert.is(liveComObjects(), base, 'freed once the JS thread was free again');
  memory.free();
  console.log(`  ${THREADS} threads × ${ROUNDS} rounds (6 IUnknown calls each) in ${(read(RESULT.elapsedNs) / 1e6).toFixed(0)} ms`);
});

it('20 objects hammered in turn: nothing leaks (native memory, live objects), no error', () => {
  assert.ok(lib, winbgtestMissing);
  const memory = new Memory();
  const results = memory.alloc(8 * 8);
  const iid = memory.guid(ICalculator.iid.toString());
  createObject(new NamedCalculator()).dispose(); // the layout exists from here on
  const base = liveComObjects();
  const before = nativeMemoryInUse();
  for (let i = 0; i < 20; i++) {
    const calc = createObject(new NamedCalculator());
    lib!.hammerStart(calc.pointer, iid, THREADS, 500, results);
    blockUntil(() => finishedThreads(results) >= THREADS, 'the 8 threads finish', 30_000);
    lib!.hammerJoin();
    const values = koffi.decode(results, 'int64_t', 8) as ArrayLike<bigint | number>;
    assert.is(Number(values[RESULT.errors]), 0);
    assert.is(Number(values[RESULT.rounds]), THREADS * 500);
    calc.dispose();
  }
  assert.is(liveComObjects(), base);
  assert.equal(nativeMemoryInUse(), before);
  memory.free();
});

test.run();
