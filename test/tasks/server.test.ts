// serve(): the local server's class objects and its lifetime. Off Windows the class objects go
// into the in-process table; under Wine (and on Windows) into COM's (CoRegisterClassObject).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComError, createInstanceSync, Guid, REGDB_E_CLASSNOTREG } from '../../lib/com/index.js';
import { defineBackgroundTask, isActivation, serve, type ServerEvent } from '../../lib/tasks/index.js';
import { FakeInstance, ifaceOf } from './support.js';
import { removeTree } from '../support/files.js';

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

const startUp = suite('serve: what a served process loads');
const lib = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lib');
// module.register (Node 20.6+) lists the modules a child loads; Bun and Deno have no such hook.
const hooked = !('Bun' in globalThis) && !('Deno' in globalThis) && process.env.WINBG_UNDER_WINE !== '1';

/** The files under `root` (default lib/) that a child process running `body` (an ES module's text) loads, in load order, and every URL it loads. */
function loadedBy(body: string, root = lib): { files: string[]; urls: string[]; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'winbg-loads-'));
  try {
    const list = join(dir, 'loaded.txt');
    const hook = join(dir, 'hook.mjs');
    // A load hook (Node's module customization hooks) appends every URL it is asked for.
    writeFileSync(hook, `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(${JSON.stringify(list)}, url + '\\n'); return next(url, context); }\n`);
    writeFileSync(list, '');
    const script = `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\nconst lib = ${JSON.stringify(pathToFileURL(root).href)};\n${body}`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env } });
    assert.is(child.status, 0, child.stderr);
    const prefix = `${pathToFileURL(root).href}/`;
    const urls = readFileSync(list, 'utf8').split('\n').filter(Boolean);
    const files = urls.filter((url) => url.startsWith(prefix)).map((url) => url.slice(prefix.length));
    return { files, urls, stdout: child.stdout };
  } finally {
    removeTree(dir);
  }
}

(hooked ? startUp : startUp.skip)('serving one task loads neither the generator, the winmd reader, a namespace module nor the built-ins it does not need; a namespace never imported still resolves', () => {
  const { files, stdout } = loadedBy([
    "const { defineBackgroundTask, serve } = await import(`${lib}/tasks/index.js`);",
    "const task = defineBackgroundTask({ clsid: '5e0a7c41-9b2f-4d3e-8a61-0c7b2e9f4a0f', run() {} });",
    "let registered = false;",
    "const server = serve(task, { inProcess: true, handleSignals: false, onEvent: (e) => { registered ||= e.type === 'registered'; } });",
    "server.stop();",
    // Built-ins that only registration (node:os), IID computation (node:crypto) or an ES module
    // import of node:timers (timers/promises) would load. (worker_threads: below, as the hook
    // itself runs on a worker thread.)
    "const builtins = process.moduleLoadList.filter((m) => /^NativeModule (os|crypto|timers\\/promises)$/.test(m));",
    "const { resolveType } = await import(`${lib}/winrt/index.js`);",
    "const sms = resolveType('Windows.Devices.Sms.ISmsFilterRule');",
    "process.stdout.write(JSON.stringify({ registered, builtins, kind: sms.kind, iid: String(sms.iface.iid) }));",
  ].join('\n'));
  assert.ok(files.includes('tasks/server.js') && files.includes('com/runtime.js'), `the hook saw the library load (${files.length} files)`);
  assert.equal(JSON.parse(stdout), { registered: true, builtins: [], kind: 'interface', iid: '40E32FAE-B049-4FBC-AFE9-E2A610EFF55C' });
  assert.equal(files.filter((file) => file.startsWith('generator/') || file.startsWith('winmd/')), [], 'no generator, no winmd reader');
  assert.equal(files.filter((file) => file.startsWith('generated/')), ['generated/descriptors.js'], 'the descriptors only, no namespace module');
  assert.equal(files.filter((file) => file.startsWith('manifest/') && file !== 'manifest/com-server.js' && file !== 'manifest/namespaces.js'), [], 'of the manifest, only the comServer block\'s constants');
});

(hooked ? startUp : startUp.skip)('serving one task does not load node:worker_threads (1.5–3 ms; only serveInWorker\'s workers need it)', () => {
  const script = [
    `const { defineBackgroundTask, serve } = await import(${JSON.stringify(pathToFileURL(join(lib, 'tasks', 'index.js')).href)});`,
    "serve(defineBackgroundTask({ clsid: '5e0a7c41-9b2f-4d3e-8a61-0c7b2e9f4a0d', run() {} }), { inProcess: true, handleSignals: false }).stop();",
    "process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => /worker_threads/.test(m))));",
  ].join('\n');
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(child.status, 0, child.stderr);
  assert.equal(JSON.parse(child.stdout), []);
});

// The published bundle (dist/, which npm install builds): serving loads the runtime's one chunk,
// not a chunk per layer (README, Start-up), and nothing of the package tooling (fast-png).
const dist = join(lib, '..', '..', 'dist');
(hooked && existsSync(join(dist, 'tasks', 'index.js')) ? startUp : startUp.skip)('the published bundle: serving one task loads 4 files of dist/ and no package tooling', () => {
  const { files, urls } = loadedBy([
    "const { defineBackgroundTask, serve } = await import(`${lib}/tasks/index.js`);",
    "serve(defineBackgroundTask({ clsid: '5e0a7c41-9b2f-4d3e-8a61-0c7b2e9f4a0e', run() {} }), { inProcess: true, handleSignals: false }).stop();",
  ].join('\n'), dist);
  assert.is(files[0], 'tasks/index.js');
  assert.ok(files.length <= 4, `dist files loaded: ${files.join(', ')}`);
  assert.equal(urls.filter((url) => /fast-png|fflate|iobuffer|resedit|pe-library/.test(url)), [], 'no PNG encoder, no PE editor');
});

startUp.run();
