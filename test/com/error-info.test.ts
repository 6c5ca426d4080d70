// The message of a JS exception travels with the HRESULT to the caller on Windows: the callee
// originates error information, a call made through winbg reads it into its ComError.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComError, createObject, E_ACCESSDENIED, E_FAIL, initializeCom } from '../../lib/com/index.js';
import { ICalculator, type Calculator } from '../support/interfaces.js';
import { callSlot, Memory, release } from '../support/native.js';

const memory = new Memory();

const test = suite('error information');
test.before(() => {
  initializeCom('mta');
});

class Failing {
  static interfaces = [ICalculator];
  Add(): number {
    throw new Error('the JS implementation refused: ü 😀');
  }
  Fail(code: number): void {
    throw new ComError(code, 'no access to the thing');
  }
}

test('a JS error message reaches the caller\'s ComError', () => {
  using calc = createObject<Calculator>(new Failing());
  try {
    calc.Add(1, 2);
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ComError);
    assert.is((error as ComError).hresult, E_FAIL);
    assert.match((error as ComError).message, /calling ICalculator\.Add: the JS implementation refused: ü 😀/);
  }
});

test('a ComError keeps its HRESULT and its message', () => {
  using calc = createObject<Calculator>(new Failing());
  try {
    calc.Fail(E_ACCESSDENIED);
    assert.unreachable();
  } catch (error) {
    assert.is((error as ComError).hresult, E_ACCESSDENIED);
    assert.match((error as ComError).message, /^0x80070005 E_ACCESSDENIED: .* calling ICalculator\.Fail: no access to the thing$/);
  }
});

test('error information is taken once: a later failure does not show a stale message', () => {
  using calc = createObject<Calculator>({ Add: () => { throw new Error('first'); }, Fail: () => { throw new ComError(E_FAIL); } }, [ICalculator]);
  assert.throws(() => calc.Add(1, 2), /first/);
  try {
    calc.Fail(0);
    assert.unreachable();
  } catch (error) {
    assert.not.match((error as ComError).message, /first/);
  }
});

test('a message no winbg call took is not shown by a later failure', () => {
  const raw = createObject({ Add: () => { throw new Error('never read'); } }, [ICalculator]).detach();
  // A native caller (here koffi directly) gets E_FAIL and ignores the error information.
  assert.is(callSlot(raw, 3, 'int32_t', ['int32_t', 'int32_t', 'void *'], 1, 2, null), -2147467261 /* E_POINTER, the out is NULL */);
  assert.is(callSlot(raw, 3, 'int32_t', ['int32_t', 'int32_t', 'void *'], 1, 2, outSlot()), E_FAIL);
  release(raw);
  using calc = createObject<Calculator>({ Fail: () => { throw new ComError(E_FAIL); } }, [ICalculator]);
  try {
    calc.Fail(0);
    assert.unreachable();
  } catch (error) {
    assert.not.match((error as ComError).message, /never read/);
  }
});

test.run();

function outSlot(): bigint {
  return memory.alloc(4);
}
