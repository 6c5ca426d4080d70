// End to end, out of process, on Wine's COM: this process is the broker (Windows' part, played by
// the portable host). It registers the app as a local server the way a package manifest's
// com:ExeServer does (LocalServer32: node.exe, the app's script, -StartSampleTaskServer), fires a
// registration, and the host activates the class with CoCreateInstance(CLSCTX_LOCAL_SERVER): COM
// starts the app, which serves the task. Run, progress, Canceled and the deferral then cross the
// process boundary through the proxy/stub DLL built from the metadata (node scripts/wine.mjs proxy).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Guid, hresultHex, initializeCom, RPC_E_DISCONNECTED, RPC_S_SERVER_UNAVAILABLE } from '../../lib/com/index.js';
import { createHost, type BackgroundHost, type TaskRun } from '../../lib/host/index.js';
import { primeText } from '../support/primes.js';
import { registerBackgroundTask, timeTrigger, type TaskRegistration } from '../../lib/tasks/index.js';
import { readLauncherInfo, writeLauncher } from '../../lib/manifest/index.js';
import { removeTree } from '../support/files.js';
import { proxyStubClsid } from './support/proxy-stub.js';
import { readAppLog, type AppLogLine } from './support/app-log.js';
import { registerLocalServer, serverCommandLine } from './support/registry.js';

const here = dirname(fileURLToPath(import.meta.url));
const APP = join(here, 'support', 'prime-app.js');
const IID_IBackgroundTask = '7D13D534-FD12-43CE-8C22-EA1FF13C06DF';

initializeCom('mta');
const proxy = proxyStubClsid(Guid.parse(IID_IBackgroundTask)) !== null;
const enabled = proxy;
const test = suite('broker: the app activated out of process');

const it = enabled ? test : test.skip;
if (!enabled) console.log('  (skipped: no proxy/stub registered for IBackgroundTask; run node scripts/wine.mjs proxy)');

type Line = AppLogLine;

/** One app registration (a fresh CLSID), its log, a host and its registrations; `close` undoes it all. */
function setup(config: Record<string, unknown>, executable?: string): { clsid: string; dir: string; log: () => Line[]; host: BackgroundHost; register(name: string): TaskRegistration; watch(name: string): number[]; close(): void } {
  const clsid = crypto.randomUUID().toUpperCase();
  // A short folder name: see registerLocalServer's limit.
  const dir = mkdtempSync(join(tmpdir(), 'wb-'));
  const logFile = join(dir, 'app.log');
  const configFile = join(dir, 'app.json');
  writeFileSync(configFile, JSON.stringify({ clsid, log: logFile, ...config }));
  const unregister = registerLocalServer(clsid, serverCommandLine(APP, ['-StartSampleTaskServer', configFile], executable));
  const host = createHost({ graceMs: 5000 });
  const registrations: TaskRegistration[] = [];
  const subscriptions: (() => void)[] = [];
  describe = () => `host: ${host.log.map((e) => `${e.type}${e.message ? ` ${e.message}` : ''}`).join(', ')}\napp: ${readAppLog(dir).map((line) => JSON.stringify(line)).join('\n') || '(no log)'}`;
  return {
    clsid,
    dir,
    host,
    log: () => readAppLog(dir),
    register(name) {
      const registration = registerBackgroundTask({ name, clsid, trigger: timeTrigger(15) }).registration;
      registrations.push(registration);
      return registration;
    },
    watch(name) {
      const progress: number[] = [];
      subscriptions.push(this.register(name).onProgress((value) => void progress.push(value)));
      return progress;
    },
    close() {
      for (const unsubscribe of subscriptions) unsubscribe();
      for (const registration of registrations) registration.raw.dispose();
      host.close();
      unregister();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Diagnostics for a timeout: the host's log and the app's. */
let describe = (): string => '';
async function until<T>(what: string, check: () => T | undefined | false | null, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}\n${describe()}`);
    }
    await sleep(10);
  }
}

it('the prime task: COM starts the app, Run runs there, progress and Canceled cross, the deferral completes, the file is the exact prefix, the app exits when idle', async () => {
  const file = join(tmpdir(), `winbg-broker-primes-${process.pid}.log`);
  rmSync(file, { force: true });
  const env = setup({ out: file, max: 1e12, idle: 500 });
  try {
    const registration = env.register('primes');
    const progress: number[] = [];
    const stop = registration.onProgress((value) => void progress.push(value));
    const done = env.host.waitForCompletion('primes');
    const fired = performance.now();
    env.host.fire('primes');
    await until('progress 10 (Run entered in the app)', () => progress.includes(10));
    const entered = performance.now();
    await until('primes in the file', () => existsSync(file) && readFileSync(file).length > 200_000);
    const canceled = performance.now();
    assert.is(env.host.cancel('primes', 'Abort'), 1);
    const run: TaskRun = await done;
    const ended = performance.now();
    stop();
    assert.equal([run.state, run.cancelReason, run.deferrals, run.deferralsCompleted, run.hresult], ['completed', 'Abort', 1, 1, 0], run.error?.message);
    const text = readFileSync(file, 'latin1');
    const last = Number(text.slice(0, -2).split(', ').at(-1));
    assert.ok(last > 1000, 'it sieved');
    assert.ok(text === primeText(last), 'the file is the exact prime sequence up to its last record');
    const log = await until('the app to exit when idle', () => {
      const lines = env.log();
      return lines.some((l) => l.type === 'exited') && lines;
    });
    assert.ok(log[0]!.argv && (log[0]!.argv as string[]).some((a) => /^[-/]Embedding$/i.test(a)), 'COM started it (-Embedding)');
    assert.equal(log.filter((l) => l.type === 'run-started').length, 1);
    assert.is(log.find((l) => l.type === 'exited')!.reason, 'idle');
    console.log(`  broker figures: fire → Run entered (cold start) ${(entered - fired).toFixed(0)} ms; cancel → run completed ${(ended - canceled).toFixed(0)} ms`);
  } finally {
    env.close();
    rmSync(file, { force: true });
  }
});

it('one process serves two concurrent activations (REGCLS_MULTIPLEUSE); a warm activation; the app exits after the last', async () => {
  const env = setup({ hold: true, idle: 800 });
  try {
    const progress = new Map(['first', 'second'].map((name) => [name, env.watch(name)]));
    const first = env.host.waitForCompletion('first');
    env.host.fire('first');
    await until('the first run', () => progress.get('first')!.includes(10));
    const second = env.host.waitForCompletion('second');
    const warm = performance.now();
    env.host.fire('second');
    await until('the second run', () => progress.get('second')!.includes(10));
    const warmMs = performance.now() - warm;
    assert.equal(env.host.runs.filter((r) => r.state === 'running').length, 2, 'both run at once');
    const lines = env.log();
    assert.equal(new Set(lines.filter((l) => l.type === 'run-started').map((l) => l.pid)).size, 1, 'in one process');
    assert.equal(lines.filter((l) => l.type === 'started').length, 1, 'COM started the app once');
    env.host.cancel('first', 'Abort');
    assert.is((await first).state, 'completed');
    await sleep(1200);
    assert.not.ok(env.log().some((l) => l.type === 'exited'), 'still serving while a run is in progress');
    env.host.cancel('second', 'ConditionLoss');
    assert.equal([(await second).state, (await second).cancelReason], ['completed', 'ConditionLoss']);
    await until('the app to exit after the last run', () => env.log().some((l) => l.type === 'exited'), 10_000);
    console.log(`  broker figures: fire → Run entered (warm, the app already serving) ${warmMs.toFixed(0)} ms`);
  } finally {
    env.close();
  }
});

it('the app killed during a run: the broker records a failed run with RPC_E_DISCONNECTED or RPC_S_SERVER_UNAVAILABLE', async () => {
  const env = setup({ hold: true, idle: 500 });
  try {
    const progress = env.watch('killed');
    const done = env.host.waitForCompletion('killed');
    env.host.fire('killed');
    await until('the run', () => progress.includes(10));
    // Once Run has returned (the deferral holds the run), as a task that works in the background.
    await until('the deferral', () => env.host.log.some((e) => e.type === 'deferral'));
    await sleep(300);
    const pid = env.log().find((l) => l.type === 'run-started')!.pid;
    process.kill(pid, 'SIGKILL'); // TerminateProcess
    const run = await done;
    assert.is(run.state, 'failed');
    assert.ok([RPC_E_DISCONNECTED, RPC_S_SERVER_UNAVAILABLE].includes(run.hresult), `failed with ${hresultHex(run.hresult)}: ${run.error?.message}`);
    assert.match(run.error!.message, /the process serving the task is gone/);
  } finally {
    env.close();
  }
});

it('a second copy of the app started while one serves does not break activation', async () => {
  const env = setup({ hold: true, idle: 500, startTimeout: 4000 });
  try {
    const first = env.watch('first copy');
    const second = env.watch('second copy');
    const firstDone = env.host.waitForCompletion('first copy');
    env.host.fire('first copy');
    await until('the first run', () => first.includes(10));
    // The same command line as COM's, started by hand while the first copy serves: it publishes
    // the class too, and COM may route the next activation to either copy.
    const args = (env.log()[0]!.argv as string[]).filter((a) => !/^[-/]Embedding$/i.test(a));
    const copy = spawn(process.execPath, [APP, ...args], { stdio: 'ignore' });
    await until('the second copy to register its class', () => env.log().filter((l) => l.type === 'registered').length >= 2);
    const secondDone = env.host.waitForCompletion('second copy');
    env.host.fire('second copy');
    await until('a run after the second copy started', () => second.includes(10));
    env.host.cancel('first copy', 'Abort');
    env.host.cancel('second copy', 'Abort');
    assert.equal([(await firstDone).state, (await secondDone).state], ['completed', 'completed']);
    await until('both copies to exit', () => env.log().filter((l) => l.type === 'exited').length >= 2, 15_000);
    copy.kill();
  } finally {
    env.close();
  }
});

it('an app whose main thread is already an STA (as Electron\'s is): serve() refuses it, saying what to do, and serveInWorker serves the task from a worker thread', async () => {
  const env = setup({ hold: true, idle: 500, sta: true });
  try {
    const progress = env.watch('sta');
    const done = env.host.waitForCompletion('sta');
    env.host.fire('sta');
    await until('the run (progress 10 from the worker)', () => progress.includes(10));
    env.host.cancel('sta', 'Abort');
    const run = await done;
    assert.equal([run.state, run.cancelReason, run.deferrals, run.deferralsCompleted], ['completed', 'Abort', 1, 1], run.error?.message);
    const log = await until('the worker\'s server to close', () => {
      const lines = env.log();
      return lines.some((l) => l.type === 'worker-closed') && lines;
    });
    assert.is(log.find((l) => l.type === 'sta')!.hr, 0, 'CoInitializeEx(COINIT_APARTMENTTHREADED) made the main thread an STA');
    const refused = log.find((l) => l.type === 'serve-refused');
    assert.ok(refused, `serve() on the STA thread threw: ${JSON.stringify(log)}`);
    assert.is(refused.hresult, 0x80010106 | 0, 'RPC_E_CHANGED_MODE');
    assert.match(String(refused.message), /single-threaded apartment.*serveInWorker\(new URL/s);
    const worker = log.filter((l) => l.mainThread === false);
    assert.is(worker.length, 1, 'the module ran again in a worker thread');
    assert.is.not(worker[0]!.thread, 0, 'a thread other than the main one (threadId 0)');
    assert.ok(log.some((l) => l.type === 'run-started' && l.thread === worker[0]!.thread), 'the worker\'s serve() ran the task, on the worker\'s thread');
    assert.equal(log.filter((l) => l.type.startsWith('worker-')).map((l) => l.type), ['worker-registered', 'worker-run-started', 'worker-run-ended', 'worker-stopping', 'worker-closed'], 'the parent heard the worker server\'s events');
    assert.is(log.find((l) => l.type === 'worker-closed')!.reason, 'idle');
  } finally {
    env.close();
  }
});

it('the launcher (winbg package init\'s GUI-subsystem copy of this runtime, with the msix element) as the ExeServer: COM starts it, and it serves the task', async () => {
  // A short folder name: see registerLocalServer's limit.
  const dir = mkdtempSync(join(tmpdir(), 'wl-'));
  const launcher = join(dir, `winbg-${basename(process.execPath).replace(/\.exe$/i, '')}.exe`);
  const identity = { publisher: 'CN=winbg test, OID.2.25.311729368913984317654407730594956997722=1', packageName: 'Winbg.Test', applicationId: 'App' };
  writeLauncher(process.execPath, launcher, identity);
  // Under Wine 8, bun.exe's and deno.exe's ProcessPrng comes from the test DLL next to them
  // (scripts/wine-runtimes.mjs); a copy elsewhere needs it too. Windows has its own.
  const prng = join(dirname(process.execPath), 'bcryptprimitives.dll');
  if (existsSync(prng)) copyFileSync(prng, join(dir, 'bcryptprimitives.dll'));
  const info = readLauncherInfo(readFileSync(launcher));
  assert.equal([info.subsystem, info.identity], ['gui', identity], 'the launcher reads back as built');
  const env = setup({ hold: true, idle: 500 }, launcher);
  try {
    const progress = env.watch('launcher');
    const done = env.host.waitForCompletion('launcher');
    env.host.fire('launcher');
    await until('the run (progress 10 from the launcher)', () => progress.includes(10));
    env.host.cancel('launcher', 'Abort');
    const run = await done;
    assert.equal([run.state, run.cancelReason, run.deferralsCompleted], ['completed', 'Abort', 1], run.error?.message);
    const log = await until('the app to exit when idle', () => {
      const lines = env.log();
      return lines.some((l) => l.type === 'exited') && lines;
    });
    assert.is(String(log[0]!.exe).toLowerCase(), launcher.toLowerCase(), 'COM started the launcher');
    assert.is(log.find((l) => l.type === 'exited')!.reason, 'idle');
  } finally {
    env.close();
    removeTree(dir);
  }
});

test.run();
