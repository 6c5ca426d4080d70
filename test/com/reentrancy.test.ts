// Interfaces first used inside a COM call. koffi 3.3 gives a callback registered during a
// synchronous callback a truncated stack extent (see settleStubs in lib/com/object.ts); winbg
// registers such stubs again at depth 0 so that the object works from every depth.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComPtr, createObject, defineInterface, IUnknown, S_OK, type Com } from '../../lib/com/index.js';
import { registeredCallbacks } from '../../lib/diagnostics/index.js';
import { callSlot, Memory, readInt32, readPointer, release } from '../support/native.js';

interface Fresh { Value(): number }
const IFresh = defineInterface<Fresh>({
  name: 'IReentrantFresh',
  iid: '9d3e2c1b-0a4f-4e6d-8c7b-5a4f3e2d1c01',
  base: IUnknown,
  methods: { Value: 'HRESULT (_Out_ int32_t *value)' },
});
interface Maker { Make(): Com<Fresh> }
const IMaker = defineInterface<Maker>({
  name: 'IReentrantMaker',
  iid: '9d3e2c1b-0a4f-4e6d-8c7b-5a4f3e2d1c02',
  base: IUnknown,
  methods: { Make: 'HRESULT (_Out_ IReentrantFresh **object)' },
});

const test = suite('re-entrancy');
const memory = new Memory();
test.after.each(() => memory.free());

test('an object whose vtable is first built inside a COM call works from every depth', async () => {
  const maker = createObject({ Make: () => ({ interfaces: [IFresh], Value: () => 7 }) }, [IMaker]).detach();
  const out = memory.alloc(8);
  // IReentrantFresh's vtable does not exist yet: Make builds it while inside the callback.
  assert.is(callSlot(maker, 3, 'int32_t', ['void *'], out), S_OK);
  const fresh = readPointer(out)!;
  const callbacks = registeredCallbacks();
  // Through winbg, right away: stubs are settled before winbg calls native code.
  using wrapped = ComPtr.copyFrom(fresh, IFresh);
  assert.is(wrapped.Value(), 7);
  assert.is(registeredCallbacks(), callbacks + 1, 'Value was registered once more, at depth 0');
  // Through a raw native call from the top of the JS stack, once the loop has turned.
  await new Promise((resolve) => setImmediate(resolve));
  const value = memory.alloc(4);
  assert.is(callSlot(fresh, 3, 'int32_t', ['void *'], value), S_OK);
  assert.is(readInt32(value), 7);
  // A second object of the same interface made inside a call uses the settled vtable.
  assert.is(callSlot(maker, 3, 'int32_t', ['void *'], out), S_OK);
  const second = readPointer(out)!;
  assert.is(callSlot(second, 3, 'int32_t', ['void *'], value), S_OK);
  assert.is(readInt32(value), 7);
  assert.is(registeredCallbacks(), callbacks + 1, 'settling happens once per method');
  release(second);
  release(fresh);
  release(maker);
});

test.run();
