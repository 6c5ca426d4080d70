// serve() on real COM (Wine's ole32): class objects published with CoRegisterClassObject,
// activated from a worker thread (which runs the task as a broker would) and from another
// process (activation only; a cross-process Run, with proxy/stubs, is in proxy.test.ts), then
// revoked when the server goes idle.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createObject, E_NOINTERFACE, Guid, initializeCom } from '../../lib/com/index.js';
import { liveComObjects } from '../../lib/diagnostics/index.js';
import { FakeInstance, ifaceOf } from '../tasks/support.js';
import { proxyStubClsid } from './support/proxy-stub.js';
import { defineBackgroundTask, serve } from '../../lib/tasks/index.js';
import { removeTree } from '../support/files.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLSID = Guid.parse('5e0a7c41-9b2f-4d3e-8a61-0c7b2e9f4a10');
const ARGV = ['node', 'app.js', '-StartSampleTaskServer', '-Embedding'];

const test = suite('serve on COM');
test.before(() => {
  initializeCom('mta');
});

test('a worker thread activates the task and runs it; the server exits when idle', async () => {
  const task = defineBackgroundTask({
    clsid: CLSID,
    async run(instance) {
      instance.progress = 10;
      await new Promise((resolve) => setTimeout(resolve, 20));
      instance.progress = 100;
    },
  });
  const server = serve(task, { argv: ARGV, idleTimeoutMs: 100, startTimeoutMs: 30_000, handleSignals: false })!;
  // The broker's IBackgroundTaskInstance lives on this thread; the worker only drives Run.
  const instance = new FakeInstance();
  using pointer = createObject(instance, instance.interfaces);
  const worker = new Worker(join(here, 'support', 'run-worker.js'), { workerData: { clsid: CLSID.toString(), instance: pointer.pointer.toString() } });
  const reply = await new Promise<{ ok: boolean; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.ok(reply.ok, reply.error);
  for (let i = 0; i < 100 && instance.completions === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(instance.progressLog, [10, 100]);
  assert.is(instance.deferrals, 1);
  assert.is(instance.completions, 1);
  assert.is(await server.closed, 'idle');
});

// Wine has no proxy/stub for IBackgroundTask until `node scripts/wine.mjs proxy` registers winbg's.
const canMarshalTask = proxyStubClsid((ifaceOf('IBackgroundTask') as { iid: Guid }).iid) !== null;

test('another process activates the class through COM; IBackgroundTask crosses only with a proxy/stub', async () => {
  const before = liveComObjects();
  const server = serve(defineBackgroundTask({ clsid: CLSID, run() {} }), { argv: ARGV, idleTimeoutMs: 60_000, handleSignals: false })!;
  const dir = mkdtempSync(join(tmpdir(), 'winbg-serve-'));
  try {
    const resultFile = join(dir, 'result.json');
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [join(here, 'support', 'activate-client.js'), CLSID.toString(), resultFile], { stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as { activated: boolean; backgroundTask: unknown; error?: string };
    assert.is(code, 0);
    assert.ok(result.activated, result.error);
    if (canMarshalTask) assert.is(result.backgroundTask, 'ok', 'a proxy/stub for IBackgroundTask is registered');
    else assert.is(result.backgroundTask, E_NOINTERFACE, 'no proxy/stub for IBackgroundTask is registered');
  } finally {
    removeTree(dir);
    server.stop();
  }
  assert.is(await server.closed, 'stopped');
  for (let i = 0; i < 100 && liveComObjects() > before; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  // At most as many as before: objects an earlier test's exited app still referenced (the broker
  // test's) may be released meanwhile by COM's rundown, which takes minutes under Wine.
  assert.ok(liveComObjects() <= before, `the object the other process activated was released, the factory revoked (${liveComObjects()} live, ${before} before)`);
});

test.run();
