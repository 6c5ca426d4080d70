// serve(): the local server's class objects and its lifetime. Off Windows the class objects go
// into the in-process table; under Wine (and on Windows) into COM's (CoRegisterClassObject).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComError, createInstanceSync, Guid, REGDB_E_CLASSNOTREG } from '../../lib/com/index.js';
import { defineBackgroundTask, isActivation, serve, type ServerEvent } from '../../lib/tasks/index.js';
import { FakeInstance, ifaceOf } from './support.js';

const A = Guid.parse('5e0a7c41-9b2f-4d3e-8a61-0c7b2e9f4a01');
const B = Guid.parse('5e0a7c41-9b2f-4d3e-8a61-0c7b2e9f4a02');
const ARGV = ['node', 'app.js', '-StartSampleTaskServer', '-Embedding'];

function activate(clsid: Guid, instance = new FakeInstance()): FakeInstance {
  using task = createInstanceSync<{ Run(instance: unknown): void }>(clsid, ifaceOf('IBackgroundTask'));
  task.Run(instance);
  return instance;
}

const test = suite('serve');

test('the activation argument or COM\'s -Embedding decides', () => {
  assert.ok(isActivation('-StartSampleTaskServer', ARGV));
  assert.ok(isActivation('-startsampletaskserver', ARGV), 'case-insensitive, as Windows passes it');
  assert.not.ok(isActivation('-StartSampleTaskServer', ['node', 'app.js']));
  assert.not.ok(isActivation('-StartSampleTaskServer', ['-StartSampleTaskServer']), 'argv[0] is the program');
  assert.ok(isActivation('-StartSampleTaskServer', ['node', 'app.js', '-Embedding']), "COM's -Embedding alone is an activation too");
  assert.ok(isActivation('-StartSampleTaskServer', ['node', 'app.js', '/embedding']));
  assert.not.ok(isActivation('-StartSampleTaskServer', ['node', 'app.js', '-Embeddings']));
  const task = defineBackgroundTask({ clsid: A, run() {} });
  assert.is(serve(task, { argv: ['node', 'app.js'] }), null, 'not started by COM: the app goes on');
});

test('several tasks are published together; activation reaches each; stop revokes them', async () => {
  const ran: string[] = [];
  const tasks = [defineBackgroundTask({ clsid: A, name: 'a', run: () => void ran.push('a') }), defineBackgroundTask({ clsid: B, name: 'b', run: () => void ran.push('b') })];
  const events: ServerEvent[] = [];
  const server = serve(tasks, { argv: ARGV, handleSignals: false, onEvent: (e) => events.push(e) })!;
  assert.ok(server);
  activate(A);
  activate(B);
  assert.equal(ran, ['a', 'b']);
  assert.equal(events.map((e) => e.type), ['registered', 'run-started', 'run-ended', 'run-started', 'run-ended']);
  server.stop();
  assert.is(await server.closed, 'stopped');
  try {
    activate(A);
    assert.unreachable('revoked');
  } catch (error) {
    assert.is((error as ComError).hresult, REGDB_E_CLASSNOTREG);
  }
});

test('it exits by itself: no activation before the start timeout', async () => {
  const server = serve(defineBackgroundTask({ clsid: A, run() {} }), { argv: ARGV, startTimeoutMs: 20, handleSignals: false })!;
  assert.is(await server.closed, 'start-timeout');
});

test('it exits by itself once the last run ended and the idle timeout passed', async () => {
  let finish!: () => void;
  const task = defineBackgroundTask({ clsid: A, run: () => new Promise<void>((resolve) => (finish = resolve)) });
  const server = serve(task, { argv: ARGV, startTimeoutMs: 5_000, idleTimeoutMs: 20, handleSignals: false })!;
  const instance = activate(A);
  assert.is(server.activeRuns, 1);
  let closed = false;
  void server.closed.then(() => (closed = true));
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.not.ok(closed, 'a run in progress keeps the server up past the idle timeout');
  finish();
  assert.is(await server.closed, 'idle');
  assert.is(instance.completions, 1);
  assert.is(server.activeRuns, 0);
});

test('in-process serving does not exit when idle', async () => {
  const server = serve(defineBackgroundTask({ clsid: A, run() {} }), { inProcess: true, startTimeoutMs: 10, idleTimeoutMs: 10, handleSignals: false })!;
  activate(A);
  let closed = false;
  void server.closed.then(() => (closed = true));
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.not.ok(closed);
  server[Symbol.dispose]();
  assert.is(await server.closed, 'stopped');
});

test('an object created but not yet run holds the server: it cannot stop between CreateInstance and Run', async () => {
  const task = defineBackgroundTask({ clsid: A, run() {} });
  const events: ServerEvent[] = [];
  const server = serve(task, { argv: ARGV, startTimeoutMs: 20, idleTimeoutMs: 20, handleSignals: false, onEvent: (e) => events.push(e) })!;
  const object = createInstanceSync<{ Run(instance: unknown): void }>(A, ifaceOf('IBackgroundTask'));
  await new Promise((resolve) => setTimeout(resolve, 120)); // six times either timeout
  assert.not.ok(events.some((e) => e.type === 'stopping'), 'still serving while the object waits for Run');
  object.Run(new FakeInstance());
  object.dispose();
  assert.is(await server.closed, 'idle', 'then idle once the run ended and the object is gone');
});

test('an object released without a Run lets the server go idle', async () => {
  const server = serve(defineBackgroundTask({ clsid: A, run() {} }), { argv: ARGV, startTimeoutMs: 5_000, idleTimeoutMs: 20, handleSignals: false })!;
  createInstanceSync(A, ifaceOf('IBackgroundTask')).dispose();
  assert.is(await server.closed, 'idle');
});

test('validation', () => {
  assert.throws(() => serve([], { inProcess: true }), /at least one task/);
  const a = defineBackgroundTask({ clsid: A, run() {} });
  assert.throws(() => serve([a, defineBackgroundTask({ clsid: A, run() {} })], { inProcess: true }), /same CLSID/);
});

test.run();
