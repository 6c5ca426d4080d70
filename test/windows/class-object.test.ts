// A JS class published with CoRegisterClassObject(CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE) and
// activated by COM: from a koffi worker thread, from a worker_threads thread, and from a second
// Windows process whose calls reach the JS objects on COM's RPC threads.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createInstance, Guid, initializeCom, registerClassObject, REGDB_E_CLASSNOTREG, ComError, IClassFactory, prepareInterfaces, type Implementation,
} from '../../lib/com/index.js';
import { liveComObjects, nativeMemoryInUse } from '../../lib/diagnostics/index.js';
import { ICalculator, IPersist, ISequentialStream, type Calculator } from '../support/interfaces.js';
import { settledCount } from '../support/native.js';
import { MemoryStream, PersistentStream } from '../support/stream.js';
import { removeTree } from '../support/files.js';
import { runtimeArgs } from './support/registry.js';

const here = dirname(fileURLToPath(import.meta.url));
const CALCULATOR = Guid.parse('6c1d5f0e-3b0a-4f7e-9a64-1f5e2d7c9a01');
const STREAM = Guid.parse('6c1d5f0e-3b0a-4f7e-9a64-1f5e2d7c9a02');
const PERSIST = Guid.parse('6c1d5f0e-3b0a-4f7e-9a64-1f5e2d7c9a03');

/** Runs a client script of support/ in a second Windows process, with this runtime; it reports in a JSON file. */
async function runClient(script: string, clsid: Guid): Promise<{ code: number | null; result: Record<string, unknown> }> {
  const dir = mkdtempSync(join(tmpdir(), 'winbg-client-'));
  const resultFile = join(dir, 'result.json');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [...runtimeArgs(), join(here, 'support', script), clsid.toString(), resultFile], { stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    return { code, result: JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown> };
  } finally {
    removeTree(dir);
  }
}

class Calc {
  static interfaces = [ICalculator];
  Add(a: number, b: number): number {
    return a + b;
  }
  Echo(text: string): string {
    return `echo: ${text}`;
  }
}

/** Waits, with the event loop free, until `condition` holds or `ms` have passed. */
async function until(condition: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

const test = suite('class objects');
test.before(() => {
  initializeCom('mta');
});

test('CoCreateInstance from a koffi worker thread reaches the JS class factory', async () => {
  const before = await settledCount(liveComObjects);
  const created: Implementation[] = [];
  const registration = registerClassObject(CALCULATOR, { create: () => new Calc(), interfaces: [ICalculator], onCreate: (o) => created.push(o) });
  try {
    const calc = await createInstance<Calculator>(CALCULATOR, ICalculator);
    assert.is(created.length, 1);
    assert.is(calc.Add(2, 40), 42);
    assert.is(calc.Echo('ü 😀'), 'echo: ü 😀');
    assert.is(calc.implementation, created[0], 'in the same process COM hands out the object itself');
    calc.dispose();
  } finally {
    registration.revoke();
  }
  assert.ok(await until(() => liveComObjects() === before), `live objects ${liveComObjects()} (expected ${before})`);
});

test('CoCreateInstance from a worker_threads thread: calls are queued to the JS thread', async () => {
  const before = await settledCount(liveComObjects);
  const registration = registerClassObject(CALCULATOR, { create: () => new Calc(), interfaces: [ICalculator] });
  try {
    const worker = new Worker(join(here, 'support', 'worker.js'), { workerData: { clsid: CALCULATOR.toString() } });
    const reply = await new Promise<{ ok: boolean; sum?: number; echo?: string; error?: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.ok(reply.ok, reply.error);
    assert.is(reply.sum, 42);
    assert.is(reply.echo, 'echo: from a worker');
  } finally {
    registration.revoke();
  }
  assert.ok(await until(() => liveComObjects() === before), `live objects ${liveComObjects()} (expected ${before})`);
});

test('a second Windows process activates the class and calls it across processes', async () => {
  // Vtables live as long as the process; build them first so that the memory check sees objects only.
  prepareInterfaces([ISequentialStream, IPersist]);
  prepareInterfaces([IClassFactory]);
  const before = await settledCount(liveComObjects);
  const memory = nativeMemoryInUse();
  const streams: MemoryStream[] = [];
  const registration = registerClassObject(STREAM, {
    create: () => {
      const stream = new MemoryStream(STREAM);
      streams.push(stream);
      return stream;
    },
    interfaces: [ISequentialStream, IPersist],
  });
  try {
    const { code, result } = await runClient('client.js', STREAM);
    assert.is(code, 0);
    assert.ok(result.ok, String(result.error));
    assert.is.not(result.pid, process.pid);
    assert.is(result.written, 26);
    assert.is(result.read, 'hello from another process', 'Write then Read went through the JS object');
    assert.is(result.classId, STREAM.toString());
    assert.is(streams.length, 1, 'one activation, one object');
    assert.is(new TextDecoder().decode(Uint8Array.from(streams[0]!.data)), 'hello from another process');
    // The client released its proxy; COM's stub releases our object on an RPC thread.
    assert.ok(await until(() => liveComObjects() === before + 1), `live objects ${liveComObjects()} (expected ${before + 1}: the factory)`);
  } finally {
    registration.revoke();
  }
  assert.is(liveComObjects(), before, 'CoRevokeClassObject released the factory: every reference accounted for');
  assert.equal(nativeMemoryInUse(), memory);
});

test('a cross-process call whose server calls back into the client (callAsync keeps the client free)', async () => {
  const objects: PersistentStream[] = [];
  const registration = registerClassObject(PERSIST, {
    create: () => {
      const object = new PersistentStream(PERSIST);
      objects.push(object);
      return object;
    },
    interfaces: PersistentStream.interfaces,
  });
  try {
    const { code, result } = await runClient('callback-client.js', PERSIST);
    assert.is(code, 0);
    assert.ok(result.ok, String(result.error));
    assert.is(result.reads, 5, '28 bytes read 7 at a time, then the end: 5 calls into the client');
    assert.is(result.size, 28);
    assert.is(new TextDecoder().decode(Uint8Array.from(objects[0]!.data)), 'payload served by the client');
  } finally {
    registration.revoke();
  }
});

test('after revoking, activation fails with REGDB_E_CLASSNOTREG', async () => {
  try {
    await createInstance(CALCULATOR, ICalculator);
    assert.unreachable('the class was revoked');
  } catch (error) {
    assert.instance(error, ComError);
    assert.is((error as ComError).hresult, REGDB_E_CLASSNOTREG);
  }
});

test.run();
