// The COM library on Windows (here: Wine's ole32/combase): apartments and system messages.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComError, E_NOINTERFACE, hresultMessage, initializeCom, isWindows, RPC_E_CHANGED_MODE } from '../../lib/com/index.js';
import { removeTree } from '../support/files.js';
import { runtimeArgs } from './support/registry.js';

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

test('a JS thread that is already an STA (as Electron\'s main thread is): the projection works there; serve() refuses it, naming serveInWorker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'winbg-sta-'));
  try {
    const resultFile = join(dir, 'result.json');
    const script = fileURLToPath(new URL('./support/sta-projection.js', import.meta.url));
    const child = spawnSync(process.execPath, [...runtimeArgs(), script, resultFile], { stdio: 'ignore', timeout: 60_000 });
    assert.is(child.status, 0, `the child ended with ${child.status ?? child.error}`);
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
    assert.is(result.error, undefined, String(result.error));
    assert.is(result.sta, 0, 'CoInitializeEx(COINIT_APARTMENTTHREADED) made the thread an STA');
    assert.ok((result.languages as number) > 0, 'a static collection');
    assert.is(result.stream, 'Windows.Media.SpeechSynthesis.SpeechSynthesisStream', 'an IAsyncOperation awaited');
    assert.is(result.workItem, 'ran', 'a JS delegate called from a pool thread');
    assert.match(String(result.serve), /RPC_E_CHANGED_MODE.*single-threaded apartment.*serveInWorker/s);
  } finally {
    removeTree(dir);
  }
});

test.run();
