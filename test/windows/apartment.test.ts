// The COM library on Windows (here: Wine's ole32/combase): apartments and system messages.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComError, E_NOINTERFACE, hresultMessage, initializeCom, isWindows, RPC_E_CHANGED_MODE } from '../../lib/com/index.js';

const test = suite('apartment');

test('runs on Windows', () => {
  assert.ok(isWindows, `the Windows tier ran on ${process.platform}`);
});

test('the JS thread joins the MTA; joining again is harmless', () => {
  initializeCom('mta');
  assert.is(initializeCom('mta'), false, 'S_FALSE: already in the MTA');
});

test('asking for an STA afterwards is RPC_E_CHANGED_MODE with an explanation', () => {
  initializeCom('mta');
  try {
    initializeCom('sta');
    assert.unreachable('CoInitializeEx(STA) on an MTA thread must fail');
  } catch (error) {
    assert.instance(error, ComError);
    assert.is((error as ComError).hresult, RPC_E_CHANGED_MODE);
    assert.match((error as ComError).message, /already in the multithreaded apartment/);
  }
});

test('HRESULT meanings come from the system (FormatMessage)', () => {
  const text = hresultMessage(E_NOINTERFACE);
  assert.ok(text.length > 0);
  assert.match(new ComError(E_NOINTERFACE).message, /^0x80004002 E_NOINTERFACE: /);
});

test.run();
