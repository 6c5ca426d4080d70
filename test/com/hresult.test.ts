// HRESULTs and ComError: the winerror.h values, their text, and the rule at the vtable boundary
// (a ComError keeps its code, anything else is E_FAIL).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as com from '../../lib/com/index.js';
import {
  ComError, E_ABORT, E_FAIL, E_INVALIDARG, E_NOINTERFACE, E_NOTIMPL, E_POINTER, failed, hr, hresultHex, hresultMessage,
  hresultName, isWindows, S_FALSE, S_OK, succeeded,
} from '../../lib/com/index.js';

/** HRESULT_FROM_WIN32 (winerror.h), computed here rather than trusted from the library. */
const fromWin32 = (code: number): number => (0x80070000 | code) | 0;
const E_ACCESSDENIED_VALUE = 0x80070005 | 0;

// As winerror.h writes them (unsigned hex), or as HRESULT_FROM_WIN32 of the Win32 error number.
const WINERROR: Record<string, number> = {
  S_OK: 0,
  S_FALSE: 1,
  E_NOTIMPL: 0x80004001,
  E_NOINTERFACE: 0x80004002,
  E_POINTER: 0x80004003,
  E_ABORT: 0x80004004,
  E_FAIL: 0x80004005,
  E_UNEXPECTED: 0x8000ffff,
  E_BOUNDS: 0x8000000b,
  E_CHANGED_STATE: 0x8000000c,
  E_ILLEGAL_STATE_CHANGE: 0x8000000d,
  E_ILLEGAL_METHOD_CALL: 0x8000000e,
  RO_E_CLOSED: 0x80000013,
  E_ACCESSDENIED: 0x80070005,
  E_HANDLE: 0x80070006,
  E_OUTOFMEMORY: 0x8007000e,
  E_INVALIDARG: 0x80070057,
  ERROR_NOT_SUPPORTED: fromWin32(50),
  ERROR_NOT_FOUND: fromWin32(1168),
  ERROR_CANCELLED: fromWin32(1223),
  CLASS_E_NOAGGREGATION: 0x80040110,
  CLASS_E_CLASSNOTAVAILABLE: 0x80040111,
  REGDB_E_CLASSNOTREG: 0x80040154,
  CO_E_NOTINITIALIZED: 0x800401f0,
  CO_E_OBJNOTCONNECTED: 0x800401fd,
  CO_E_SERVER_EXEC_FAILURE: 0x80080005,
  RPC_E_SERVERFAULT: 0x80010105,
  RPC_E_CHANGED_MODE: 0x80010106,
  RPC_E_DISCONNECTED: 0x80010108,
  RPC_E_WRONG_THREAD: 0x8001010e,
  RPC_S_SERVER_UNAVAILABLE: fromWin32(1722),
  RPC_S_CALL_FAILED: fromWin32(1726),
  RPC_S_CALL_FAILED_DNE: fromWin32(1727),
  RPC_E_SERVER_DIED: 0x80010007,
  RPC_E_SERVER_DIED_DNE: 0x80010012,
  CO_E_SERVER_STOPPING: 0x80004028,
  APPMODEL_ERROR_NO_PACKAGE: fromWin32(15700),
};

// ---------------------------------------------------------------------------------------------

const constants = suite('HRESULT constants');

constants('every constant has its winerror.h value as a signed 32-bit integer', () => {
  const exported = com as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(WINERROR)) {
    assert.is(exported[name], value | 0, name);
  }
});

constants('hresultFromWin32 is HRESULT_FROM_WIN32; isDisconnection names the codes of a gone process', () => {
  assert.is(com.hresultFromWin32(15700), com.APPMODEL_ERROR_NO_PACKAGE);
  assert.is(com.hresultFromWin32(5), com.E_ACCESSDENIED);
  assert.is(com.hresultFromWin32(0), S_OK);
  assert.is(com.hresultFromWin32(E_FAIL), E_FAIL, 'an HRESULT already stays as it is');
  for (const name of ['RPC_E_DISCONNECTED', 'RPC_S_SERVER_UNAVAILABLE', 'RPC_S_CALL_FAILED', 'RPC_S_CALL_FAILED_DNE', 'RPC_E_SERVER_DIED', 'RPC_E_SERVER_DIED_DNE', 'CO_E_OBJNOTCONNECTED']) {
    assert.ok(com.isDisconnection(WINERROR[name]! | 0), name);
  }
  for (const value of [S_OK, E_FAIL, E_ACCESSDENIED_VALUE, com.RPC_E_SERVERFAULT]) assert.not.ok(com.isDisconnection(value));
});

constants('failure codes are negative numbers, as COM returns them', () => {
  assert.is(E_NOINTERFACE, 0x80004002 | 0);
  assert.is(E_NOINTERFACE, -2147467262);
  assert.is(E_FAIL, -2147467259);
  assert.is(E_INVALIDARG, -2147024809);
  for (const [name, value] of Object.entries(WINERROR)) {
    if (name.startsWith('S_')) assert.ok(value >= 0, name);
    else assert.ok((value | 0) < 0, name);
  }
});

constants('hr reinterprets the unsigned spelling as the signed value', () => {
  assert.is(hr(0x80004002), E_NOINTERFACE);
  assert.is(hr(E_NOINTERFACE), E_NOINTERFACE);
  assert.is(hr(0xffffffff), -1);
  assert.is(hr(1), S_FALSE);
});

constants('succeeded and failed look at the severity bit only', () => {
  assert.ok(succeeded(S_OK));
  assert.ok(succeeded(S_FALSE));
  assert.ok(succeeded(0x7fffffff));
  assert.not.ok(failed(S_FALSE));
  assert.ok(failed(E_FAIL));
  assert.ok(failed(hr(0x80000000)));
  assert.not.ok(succeeded(E_NOINTERFACE));
  // The unsigned spelling of winerror.h is a failure too, not a large success code.
  assert.ok(failed(0x80004005));
  assert.not.ok(succeeded(0x80004005));
});

constants('hresultHex is 0x and eight upper-case digits, from signed or unsigned input', () => {
  assert.is(hresultHex(E_NOINTERFACE), '0x80004002');
  assert.is(hresultHex(0x80004002), '0x80004002');
  assert.is(hresultHex(hr(0x8000ffff)), '0x8000FFFF');
  assert.is(hresultHex(S_OK), '0x00000000');
  assert.is(hresultHex(S_FALSE), '0x00000001');
  assert.is(hresultHex(-1), '0xFFFFFFFF');
});

constants('hresultName knows the symbolic names, from signed or unsigned input', () => {
  assert.is(hresultName(E_NOINTERFACE), 'E_NOINTERFACE');
  assert.is(hresultName(0x80004002), 'E_NOINTERFACE');
  assert.is(hresultName(S_OK), 'S_OK');
  assert.is(hresultName(hr(0x8004dead)), undefined);
  for (const [name, value] of Object.entries(WINERROR)) assert.is(hresultName(value), name);
});

constants.run();

// ---------------------------------------------------------------------------------------------

const meaning = suite('hresultMessage');

meaning('known codes have their system text', () => {
  if (isWindows) {
    // FormatMessage's text, in the system's language: only its presence is portable.
    assert.ok(hresultMessage(E_NOINTERFACE).length > 0);
  } else {
    assert.is(hresultMessage(E_NOINTERFACE), 'No such interface supported.');
    assert.is(hresultMessage(E_INVALIDARG), 'The parameter is incorrect.');
    assert.is(hresultMessage(0x80004005), 'Unspecified error.');
  }
});

meaning('unknown failure and success codes are described by facility and code', () => {
  const failure = hr(0x8004dead); // FACILITY_ITF, code 0xDEAD
  const success = 0x0004beef;
  if (isWindows) {
    assert.ok(hresultMessage(failure).length > 0);
    assert.ok(hresultMessage(success).length > 0);
  } else {
    assert.is(hresultMessage(failure), 'Unknown error (facility 4, code 57005).');
    assert.is(hresultMessage(success), 'Unknown success code (facility 4, code 48879).');
  }
});

meaning('an HRESULT of the Win32 facility names the Win32 error', () => {
  const fileNotFound = fromWin32(2); // ERROR_FILE_NOT_FOUND, not in the library's table
  assert.is(hresultName(fileNotFound), undefined);
  if (isWindows) assert.ok(hresultMessage(fileNotFound).length > 0);
  else assert.is(hresultMessage(fileNotFound), 'Win32 error 2.');
});

meaning.run();

// ---------------------------------------------------------------------------------------------

const error = suite('ComError');

error('is an Error named ComError with the signed hresult and its hex code', () => {
  const e = new ComError(E_NOINTERFACE, 'while asking for IFoo');
  assert.instance(e, ComError);
  assert.instance(e, Error);
  assert.is(e.name, 'ComError');
  assert.is(e.hresult, E_NOINTERFACE);
  assert.type(e.hresult, 'number');
  assert.is(e.code, '0x80004002');
  assert.type(e.stack, 'string');
  assert.ok(String(e).startsWith('ComError: '), String(e));
});

error('the message has hex, symbolic name, meaning and detail, in that order', () => {
  const e = new ComError(E_NOINTERFACE, 'while asking for IFoo');
  const parts = ['0x80004002', 'E_NOINTERFACE', hresultMessage(E_NOINTERFACE), 'while asking for IFoo'];
  let at = -1;
  for (const part of parts) {
    const next = e.message.indexOf(part, at + 1);
    assert.ok(next > at, `${JSON.stringify(part)} after position ${at} in ${JSON.stringify(e.message)}`);
    at = next;
  }
  if (!isWindows) assert.is(e.message, '0x80004002 E_NOINTERFACE: No such interface supported. while asking for IFoo');
});

error('without a detail the message ends with the meaning', () => {
  const e = new ComError(E_POINTER);
  assert.ok(e.message.startsWith('0x80004003 E_POINTER: '), e.message);
  assert.ok(e.message.endsWith(hresultMessage(E_POINTER)), e.message);
  assert.not.match(e.message, /undefined/);
});

error('an unsigned code is stored as the signed HRESULT', () => {
  const e = new ComError(0x80004001);
  assert.is(e.hresult, E_NOTIMPL);
  assert.is(e.code, '0x80004001');
});

error('unknown codes still give hex and a generic meaning, without a name', () => {
  const e = new ComError(hr(0x8004dead), 'custom');
  assert.is(e.code, '0x8004DEAD');
  assert.ok(e.message.startsWith('0x8004DEAD: '), e.message);
  assert.ok(e.message.includes(hresultMessage(hr(0x8004dead))));
  assert.ok(e.message.endsWith('custom'));
  if (!isWindows) assert.match(e.message, /facility 4, code 57005/);
});

error('a cause is kept', () => {
  const cause = new RangeError('inner');
  const e = new ComError(E_FAIL, 'outer', { cause });
  assert.is(e.cause, cause);
});

error.run();

// ---------------------------------------------------------------------------------------------

const check = suite('ComError.check');

check('returns success codes, S_FALSE included', () => {
  assert.is(ComError.check(S_OK), S_OK);
  assert.is(ComError.check(S_FALSE), S_FALSE);
  assert.is(ComError.check(0x0004beef, 'detail'), 0x0004beef);
});

check('throws a ComError with the code and detail on failure', () => {
  let caught: unknown;
  try {
    ComError.check(E_ABORT, 'CoDoThings');
  } catch (e) {
    caught = e;
  }
  assert.instance(caught, ComError);
  assert.is((caught as ComError).hresult, E_ABORT);
  assert.ok((caught as ComError).message.endsWith('CoDoThings'), (caught as ComError).message);
});

check('treats the unsigned spelling of a failure code as the failure', () => {
  assert.throws(() => ComError.check(0x80004005), (e: unknown) => e instanceof ComError && e.hresult === E_FAIL);
});

check.run();

// ---------------------------------------------------------------------------------------------

const boundary = suite('ComError.hresultOf');

boundary('a ComError stands for its own code', () => {
  assert.is(ComError.hresultOf(new ComError(E_NOINTERFACE)), E_NOINTERFACE);
  assert.is(ComError.hresultOf(new ComError(hr(0x8004dead))), hr(0x8004dead));
  class Subclass extends ComError {}
  assert.is(ComError.hresultOf(new Subclass(E_INVALIDARG)), E_INVALIDARG);
});

boundary('any other error or thrown value is E_FAIL', () => {
  assert.is(ComError.hresultOf(new Error('plain')), E_FAIL);
  assert.is(ComError.hresultOf(new TypeError('type')), E_FAIL);
  assert.is(ComError.hresultOf('a string'), E_FAIL);
  assert.is(ComError.hresultOf(E_NOINTERFACE), E_FAIL, 'a bare number is not trusted as an HRESULT');
  assert.is(ComError.hresultOf({ hresult: E_NOINTERFACE }), E_FAIL, 'nor an object that looks like a ComError');
  assert.is(ComError.hresultOf(undefined), E_FAIL);
  assert.is(ComError.hresultOf(null), E_FAIL);
});

boundary('a ComError holding a success code is E_FAIL: a thrown error must not report success', () => {
  assert.is(ComError.hresultOf(new ComError(S_OK)), E_FAIL);
  assert.is(ComError.hresultOf(new ComError(S_FALSE)), E_FAIL);
});

boundary.run();
