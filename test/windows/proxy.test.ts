// Cross-process calls on the Windows.ApplicationModel.Background interfaces, as Windows' broker
// makes them: this process activates a task served by another node.exe process and calls
// IBackgroundTask::Run with its own JS IBackgroundTaskInstance, which the task calls back.
// COM needs a proxy/stub for each interface for that. Windows has them; under Wine they come from
// winbg's test DLL (scripts/wine-proxy.mjs, `node scripts/wine.mjs proxy`), and without it the
// test is skipped, saying so.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createInstance, createObject, Guid, initializeCom, type Com, type ComInterface } from '../../lib/com/index.js';
import { FakeInstance, ifaceOf } from '../tasks/support.js';
import { proxyStubClsid } from './support/proxy-stub.js';
import { removeTree } from '../support/files.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLSID = Guid.parse('b3f1c2d4-6a7e-4c59-9d21-7e4f0a8c3b61');
const IBackgroundTask = ifaceOf('IBackgroundTask') as ComInterface<{ Run(instance: unknown): void }>;

/**
 * The test's instance keeps the Canceled handlers that the task removes, to release them once the
 * server has gone. A handler is a proxy to the server's JS delegate; releasing it is a call into
 * the server that its JS thread must serve, and during remove_Canceled that thread is waiting for
 * this one: releasing it there (or while the server releases its proxies to ours) would leave
 * both JS threads waiting for each other. Windows' broker is native code and has no such limit.
 */
class BrokerInstance extends FakeInstance {
  readonly removed: Com<object>[] = [];
  override remove_Canceled(token: { Value: bigint }): void {
    const handler = this.handlers.get(BigInt(token.Value));
    this.handlers.delete(BigInt(token.Value));
    if (handler) this.removed.push(handler);
  }
}

/** Waits, with the event loop free, until `condition` holds or `ms` have passed. */
async function until(condition: () => boolean, ms = 30_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

const psClsid = proxyStubClsid(IBackgroundTask.iid);
const skipReason = 'no proxy/stub is registered for IBackgroundTask; under Wine run: node scripts/wine.mjs proxy';
if (!psClsid) console.log(`  proxy.test: skipped, ${skipReason}`);

const test = suite('IBackgroundTask across processes');
test.before(() => {
  initializeCom('mta');
});

(psClsid ? test : test.skip)(
  `Run in another process: the task reads InstanceId, sets Progress, completes a deferral${psClsid ? '' : ` (skipped: ${skipReason})`}`,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'winbg-proxy-'));
    const readyFile = join(dir, 'ready');
    const resultFile = join(dir, 'result.json');
    const server = spawn(process.execPath, [join(here, 'support', 'task-server.js'), CLSID.toString(), readyFile, resultFile], { stdio: 'ignore' });
    const instance = new BrokerInstance();
    let task: Com<{ Run(instance: unknown): void }> | undefined;
    const exited = new Promise<number | null>((resolve, reject) => {
      server.once('error', reject);
      server.once('exit', resolve);
    });
    try {
      assert.ok(await until(() => existsSync(readyFile)), 'the server registered its class object');
      task = await createInstance(CLSID, IBackgroundTask);
      using pointer = createObject(instance, instance.interfaces);
      // Asynchronously: the task calls this process's instance back while Run runs, and those
      // calls are queued to this JS thread.
      await task.callAsync('Run', pointer);
      assert.ok(await until(() => instance.completions > 0), 'the task completed its deferral');
      // The server releases its proxies to our objects, then exits; only then do we release ours
      // to its objects (see BrokerInstance), which Wine then ends at once as disconnected.
      assert.is(await exited, 0);
      task.dispose();
      for (const handler of instance.removed) handler.dispose();
      const result = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
      assert.ok(result.ok, String(result.error ?? result.runError));
      assert.is.not(result.pid, process.pid);
      assert.is(result.instanceId, instance.id.toString(), 'get_InstanceId: a GUID out of this process');
      assert.equal(instance.progressLog, [25, 100], 'put_Progress from the other process');
      assert.is(result.progressRead, 100, 'get_Progress');
      assert.is(instance.deferrals, 1);
      assert.is(instance.completions, 1, 'IBackgroundTaskDeferral::Complete called across processes, once');
      assert.is(instance.handlers.size, 0, 'the Canceled handler the task added (a delegate across processes) was removed');
      assert.is(instance.removed.length, 1);
    } finally {
      server.kill();
      task?.dispose();
      for (const handler of instance.removed) handler.dispose();
      removeTree(dir);
    }
  },
);

test.run();
