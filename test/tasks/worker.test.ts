// serveInWorker(): serve() in a worker thread, for an app whose JS thread is already a
// single-threaded apartment. Here, off Windows, the worker's serve() uses the worker's own class
// table; the Windows tier proves the apartment part (broker.test: an app whose main thread is an
// STA, activated by COM).
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { serveInWorker, type ServerEvent } from '../../lib/tasks/index.js';

const MODULE = new URL('./serve-worker-module.js', import.meta.url);
const ACTIVATION = ['node', 'app.js', '-StartSampleTaskServer'];

/** Waits until `events` holds an event of `type` (the worker posts them asynchronously). */
async function eventOf(events: ServerEvent[], type: ServerEvent['type'], ms = 20_000): Promise<ServerEvent> {
  const end = Date.now() + ms;
  for (;;) {
    const found = events.find((event) => event.type === type);
    if (found) return found;
    if (Date.now() > end) throw new Error(`no '${type}' event in ${ms} ms; got ${JSON.stringify(events)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const test = suite('serveInWorker');

test('not started to serve: no worker, null', () => {
  assert.is(serveInWorker(MODULE, { argv: ['node', 'app.js'] }), null);
});

test('the module must be a file: URL or an absolute path', () => {
  const rule = /^serveInWorker: module must be a file: URL \(new URL\('\.\/tasks\.js', import\.meta\.url\)\) or an absolute path/;
  assert.throws(() => serveInWorker('./tasks.js', { argv: ACTIVATION }), (error: unknown) => error instanceof TypeError && rule.test(error.message) && error.message.endsWith('got "./tasks.js"'));
  assert.throws(() => serveInWorker(new URL('https://example.com/tasks.js'), { argv: ACTIVATION }), (error: unknown) => error instanceof TypeError && /got https:\/\/example\.com\/tasks\.js$/.test(error.message));
  assert.throws(() => serveInWorker(42 as unknown as URL, { argv: ACTIVATION }), (error: unknown) => error instanceof TypeError && /got number$/.test(error.message));
});

test('an absolute path, a stop asked for before the worker listens, and the parent\'s activation argument, which the worker\'s serve() takes', async () => {
  const events: ServerEvent[] = [];
  const server = serveInWorker(fileURLToPath(MODULE), { argv: ['node', 'app.js', '/serve-tasks'], argument: '/serve-tasks', onEvent: (event) => void events.push(event) })!;
  assert.ok(server, 'the parent saw its argument');
  server.stop();
  assert.is(await server.closed, 'stopped', 'the worker\'s serve() took /serve-tasks as its argument, and the early stop reached it');
  assert.ok(events.some((event) => event.type === 'registered'));
});

test('the worker serves; its events reach the parent; stop() stops it and closed says so', async () => {
  const events: ServerEvent[] = [];
  const server = serveInWorker(MODULE, { argv: [...ACTIVATION, '--activate'], onEvent: (event) => void events.push(event) });
  assert.ok(server);
  const registered = await eventOf(events, 'registered');
  assert.equal(registered, { type: 'registered', tasks: ['worker task'] });
  const ended = await eventOf(events, 'run-ended');
  assert.is((ended as { task: string }).task, 'worker task');
  assert.ok(events.findIndex((event) => event.type === 'run-started') < events.indexOf(ended), 'started, then ended');
  server.stop();
  server.stop(); // a second call does nothing
  assert.is(await server.closed, 'stopped');
  assert.equal(events.at(-1), { type: 'stopping', reason: 'stopped' });
});

test("the worker's server stopping by itself (no activation in time) ends the worker", async () => {
  const server = serveInWorker(MODULE, { argv: [...ACTIVATION, '--start-timeout'] })!;
  assert.is(await server.closed, 'start-timeout');
});

test('SIGINT of this process stops the worker\'s server (a worker gets no signals of its own)', async () => {
  const server = serveInWorker(MODULE, { argv: ACTIVATION })!;
  const events: ServerEvent[] = [];
  const watched = serveInWorker(MODULE, { argv: ACTIVATION, handleSignals: false, onEvent: (event) => void events.push(event) })!;
  await eventOf(events, 'registered');
  const before = process.listenerCount('SIGINT');
  process.emit('SIGINT');
  assert.is(await server.closed, 'signal');
  assert.is(process.listenerCount('SIGINT'), before - 1, 'its signal handlers are gone with it');
  watched.stop();
  assert.is(await watched.closed, 'stopped', 'handleSignals: false ignores the signal');
});

test('a second SIGINT while the worker has not stopped ends the worker', async () => {
  const server = serveInWorker(MODULE, { argv: [...ACTIVATION, '--hang'] })!;
  await new Promise((resolve) => setTimeout(resolve, 200));
  process.emit('SIGINT');
  process.emit('SIGINT');
  assert.is(await server.closed, 'worker-exit');
});

test('a module that fails: an error event and closed with worker-exit, never a rejection', async () => {
  const events: ServerEvent[] = [];
  const server = serveInWorker(MODULE, { argv: [...ACTIVATION, '--fail'], onEvent: (event) => void events.push(event) })!;
  assert.is(await server.closed, 'worker-exit');
  const error = events.find((event) => event.type === 'error') as { error: unknown } | undefined;
  assert.ok(error, 'an error event');
  assert.match(String(error.error), /the task module failed to load/);
});

test.run();
