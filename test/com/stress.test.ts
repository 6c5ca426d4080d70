// Many objects, constant resources: koffi's registered callbacks are a process-wide budget
// (8192), so their number must not grow with the number of COM objects, and neither may memory.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObject, S_OK } from '../../lib/com/index.js';
import { liveComObjects, liveComPtrs, nativeMemoryInUse, registeredCallbacks } from '../../lib/diagnostics/index.js';
import { ICalculator, INamed, NamedCalculator } from '../support/interfaces.js';
import { callSlot, collectGarbage, IID, Memory, queryInterface, readInt32, readPointer, release } from '../support/native.js';


const CYCLES = 100_000;
const test = suite('100 000 objects');
// COM objects other suites keep alive (under Wine the Windows tests run first) are not this test's.
let base = 0;
test.before.each(() => {
  base = liveComObjects();
});

test('create / QueryInterface / call / Release cycles keep callbacks and native memory constant', () => {
  const memory = new Memory();
  const iidNamed = memory.guid(INamed.iid.toString());
  const iidUnknown = memory.guid(IID.IUnknown);
  const out = memory.alloc(8);
  const sum = memory.alloc(4);
  const cycle = (i: number): void => {
    const calc = createObject(new NamedCalculator()).detach();
    assert.is(queryInterface(calc, iidNamed, out), S_OK);
    const named = readPointer(out)!;
    assert.is(queryInterface(named, iidUnknown, out), S_OK);
    const unknown = readPointer(out)!;
    assert.is(callSlot(calc, 3, 'int32_t', ['int32_t', 'int32_t', 'void *'], i, 1, sum), S_OK);
    assert.is(readInt32(sum), i + 1);
    release(unknown);
    release(named);
    assert.is(release(calc), 0);
  };
  for (let i = 0; i < 1000; i++) cycle(i); // warm-up: vtables and caches exist from here on
  const callbacks = registeredCallbacks();
  const native = nativeMemoryInUse();
  const objects = liveComObjects();
  collectGarbage();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < CYCLES; i++) cycle(i);
  collectGarbage();
  const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  assert.is(registeredCallbacks(), callbacks, 'no callback registered per object');
  assert.equal(nativeMemoryInUse(), native, 'every object block was freed');
  assert.is(liveComObjects(), objects);
  // Per-object garbage is collected: a leak of even 100 bytes per object would be 10 MB here.
  assert.ok(heapGrowth < 5 * 1024 * 1024, `JS heap grew by ${(heapGrowth / 1e6).toFixed(1)} MB over ${CYCLES} objects`);
  memory.free();
});

test('ComPtr wrappers over 100 000 objects leave nothing behind', () => {
  const callbacks = registeredCallbacks();
  const native = nativeMemoryInUse();
  const wrappers = liveComPtrs();
  for (let i = 0; i < CYCLES; i++) {
    using calc = createObject<{ Add(a: number, b: number): number }>(new NamedCalculator());
    using named = calc.as(INamed);
    if (calc.Add(i, 1) !== i + 1) assert.unreachable('wrong sum');
  }
  assert.is(registeredCallbacks(), callbacks);
  assert.equal(nativeMemoryInUse(), native);
  assert.ok(liveComPtrs() <= wrappers, 'no wrapper outlives its `using` block (the GC may finalize older ones meanwhile)');
  assert.is(liveComObjects(), base);
});

test.run();
