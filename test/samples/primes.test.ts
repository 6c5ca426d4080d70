// The prime task: the file it writes, resuming after cancellations at random points (seeded),
// the task under the portable host (progress, cancel), validation, and where the file goes.
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initializeCom } from '../../lib/com/index.js';
import { isWindows } from '../../lib/ffi/koffi.js';
import { createHost, ManualClock } from '../../lib/host/index.js';
import { BackgroundTaskCanceledError } from '../../lib/tasks/task.js';
import { registerBackgroundTask, serve, timeTrigger } from '../../lib/tasks/index.js';
import { defaultPrimesFile, localDataFolder, processName } from '../../lib/samples/data-folder.js';
import { PrimeLogError } from '../../lib/samples/prime-log.js';
import { createPrimesTask, runPrimes, SAMPLE_TASK_CLSID, type PrimeStatus } from '../../lib/samples/primes.js';
import { primesTo, primeText } from '../support/primes.js';
import { mulberry32 } from '../support/random.js';
import { removeTree } from '../support/files.js';

initializeCom('mta');
const dir = mkdtempSync(join(tmpdir(), 'winbg-primes-'));
let serial = 0;
const newFile = (): string => join(dir, `run-${serial++}`, 'numbersQueue.log');
const read = (file: string): string => readFileSync(file, 'latin1');

const run = suite('runPrimes');

run('writes every prime up to max in the seed\'s format, and says so', async () => {
  const file = newFile();
  const statuses: PrimeStatus[] = [];
  const result = await runPrimes({ file, max: 100_000, sliceMs: 0, onStatus: (s) => statuses.push(s) });
  assert.is(read(file), primeText(100_000));
  assert.equal(
    { outcome: result.outcome, primes: result.primes, last: result.last, from: result.from, reached: result.reached, percent: result.percent, bytes: result.bytes, trimmed: result.trimmed },
    { outcome: 'completed', primes: 9592, last: 99_991, from: 2, reached: 100_000, percent: 100, bytes: read(file).length, trimmed: 0 },
  );
  assert.ok(statuses.length >= 2, 'a status per slice and one at the end');
  for (let i = 1; i < statuses.length; i++) assert.ok(statuses[i]!.reached >= statuses[i - 1]!.reached, 'status only moves forward');
});

run('a finished file is left as it is; a larger max continues it', async () => {
  const file = newFile();
  await runPrimes({ file, max: 1000 });
  const again = await runPrimes({ file, max: 1000 });
  assert.equal([again.outcome, again.primes, again.from], ['completed', 0, 998]);
  assert.is(read(file), primeText(1000));
  const more = await runPrimes({ file, max: 5000 });
  assert.equal([more.outcome, more.from, more.primes], ['completed', 998, primesTo(5000).length - primesTo(1000).length]);
  assert.is(read(file), primeText(5000));
  const less = await runPrimes({ file, max: 100 });
  assert.equal([less.outcome, less.primes], ['completed', 0], 'a smaller max adds nothing');
  assert.is(read(file), primeText(5000));
});

run('canceled at random points and resumed, often, with torn tails between: always the exact prefix (seeded)', async () => {
  const SEED = 0x5eed_0005;
  const random = mulberry32(SEED);
  const max = 5_000_000;
  const all = primesTo(max);
  const whole = all.map((p) => `${p}, `).join('');
  const file = newFile();
  let resumes = 0;
  let torn = 0;
  for (;;) {
    const controller = new AbortController();
    const stopAfter = Math.floor(random() * 4);
    let seen = 0;
    const result = await runPrimes({
      file, max, sliceMs: 0, signal: controller.signal,
      flushBytes: 1 + Math.floor(random() * 20_000),
      fsyncMs: random() < 0.5 ? 0 : 1000,
      onStatus: () => void (++seen > stopAfter && controller.abort()),
    });
    const text = read(file);
    assert.ok(whole.startsWith(text), `seed ${SEED}, resume ${resumes}: the file is a prefix of the sequence`);
    assert.ok(text.endsWith(`${result.last}, `), `seed ${SEED}, resume ${resumes}: it ends with the last prime reported`);
    if (result.outcome === 'completed') break;
    resumes++;
    if (random() < 0.3) {
      // A crash mid-write: part of the next record, perhaps with zero bytes after it.
      const next = `${all[text.split(', ').length - 1]}, `;
      appendFileSync(file, next.slice(0, 1 + Math.floor(random() * (next.length - 1))) + '\0'.repeat(random() < 0.5 ? 0 : 512));
      torn++;
    }
    assert.ok(resumes < 500, 'the run makes progress');
  }
  assert.is(read(file), whole);
  assert.ok(resumes >= 20, `seed ${SEED}: ${resumes} resumes (${torn} after a torn tail)`);
  assert.ok(torn >= 3, `seed ${SEED}: ${torn} torn tails`);
});

run('a file that is not a prime log: a rejection naming it, the file untouched', async () => {
  const file = newFile();
  await runPrimes({ file, max: 100 });
  writeFileSync(file, 'my notes, do not delete\n');
  try {
    await runPrimes({ file, max: 1000 });
    assert.unreachable('ran on a foreign file');
  } catch (error) {
    assert.instance(error, PrimeLogError);
    assert.match((error as Error).message, /does not end with a prime log record/);
  }
  assert.is(read(file), 'my notes, do not delete\n');
});

run('options are validated, naming the option and its range', async () => {
  const file = newFile();
  for (const max of [1, 1.5, 1e13, Number.NaN]) {
    try {
      await runPrimes({ file, max });
      assert.unreachable();
    } catch (error) {
      assert.match((error as Error).message, /max must be a whole number from 2 to 10\^12/);
    }
  }
  for (const option of ['flushMs', 'fsyncMs', 'sliceMs'] as const) {
    try {
      await runPrimes({ file, max: 10, [option]: -1 });
      assert.unreachable();
    } catch (error) {
      assert.match((error as Error).message, new RegExp(`${option} must be a number of milliseconds`));
    }
  }
  assert.not.ok(existsSync(file), 'nothing was written');
});

const task = suite('the prime task under the host');

task('progress 10 at the start, then percent of max, 100 at the end; the file is complete', async () => {
  using host = createHost({ clock: new ManualClock() });
  const file = newFile();
  const primes = createPrimesTask({ file, max: 2_000_000, sliceMs: 0, clsid: crypto.randomUUID() });
  const server = serve(primes, { inProcess: true, handleSignals: false })!;
  const registration = registerBackgroundTask({ name: 'primes', clsid: primes.clsid, trigger: timeTrigger(15) }).registration;
  const progress: number[] = [];
  const unsubscribe = registration.onProgress((value) => void progress.push(value));
  try {
    const completion = host.waitForCompletion('primes');
    host.fire('primes');
    const ran = await completion;
    assert.equal([ran.state, ran.progress, ran.hresult], ['completed', 100, 0]);
    assert.is(progress[0], 10, 'the seed\'s first progress');
    assert.is(progress.at(-1), 100);
    assert.ok(progress.every((p, i) => i === 0 || p > progress[i - 1]!), `rising: ${progress.join(' ')}`);
    assert.ok(progress.length > 5, 'reported along the way');
    assert.is(read(file), primeText(2_000_000));
  } finally {
    unsubscribe();
    registration.raw.dispose();
    server.stop();
  }
});

task('Canceled (Abort) while sieving: the run ends soon, flushed, the deferral completed, the file consistent', async () => {
  using host = createHost();
  const file = newFile();
  const ended: string[] = [];
  const primes = createPrimesTask({ file, clsid: crypto.randomUUID(), onResult: (r) => ended.push(r.outcome) });
  const server = serve(primes, { inProcess: true, handleSignals: false })!;
  const registration = registerBackgroundTask({ name: 'long primes', clsid: primes.clsid, trigger: timeTrigger(15) }).registration;
  try {
    const reasons: string[] = [];
    primes.onRunEnded((record) => reasons.push(record.canceled instanceof BackgroundTaskCanceledError ? record.canceled.reason : 'none'));
    const completion = host.waitForCompletion('long primes');
    host.fire('long primes');
    // Let it sieve for a while: until the file holds something.
    const until = Date.now() + 10_000;
    while (!(existsSync(file) && read(file).length > 100_000) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    const canceledAt = performance.now();
    assert.is(host.cancel('long primes', 'Abort'), 1);
    const ran = await completion;
    const latency = performance.now() - canceledAt;
    assert.equal([ran.state, ran.cancelReason, ran.deferralsCompleted], ['completed', 'Abort', 1]);
    assert.equal(reasons, ['Abort']);
    assert.equal(ended, ['canceled']);
    // The benchmark measures the latency (p50/p99); here only that it is not seconds.
    assert.ok(latency < 2000, `cancel → completion took ${latency.toFixed(1)} ms`);
    const text = read(file);
    const last = Number(text.slice(0, -2).split(', ').at(-1));
    assert.is(text, primeText(last), 'the exact prefix up to its last prime');
  } finally {
    registration.raw.dispose();
    server.stop();
  }
});

task('the seed\'s CLSID and name by default', () => {
  const primes = createPrimesTask();
  assert.is(String(primes.clsid).toUpperCase(), SAMPLE_TASK_CLSID);
  assert.is(primes.name, 'SampleTask');
});

const folder = suite('where the file goes');

folder('the process\'s name, as .NET gives it', () => {
  assert.is(processName('C:\\Program Files\\nodejs\\node.exe'), 'node');
  assert.is(processName('/usr/bin/bun'), 'bun');
  assert.is(processName('D:/apps/My App.EXE'), 'My App');
});

folder('off Windows: the XDG data directory; on Windows without identity: %LOCALAPPDATA%', () => {
  if (isWindows) {
    assert.equal(localDataFolder({ env: { LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' } }), { path: 'C:\\Users\\me\\AppData\\Local\\winbg', kind: 'LOCALAPPDATA' });
    assert.equal(localDataFolder({ app: 'MyApp', env: { USERPROFILE: 'C:\\Users\\me' } }).path, 'C:\\Users\\me\\AppData\\Local\\MyApp');
  } else {
    assert.equal(localDataFolder({ env: { XDG_DATA_HOME: '/data', HOME: '/home/me' } }), { path: '/data/winbg', kind: 'XDG' });
    assert.equal(localDataFolder({ env: { XDG_DATA_HOME: 'relative', HOME: '/home/me' } }).path, '/home/me/.local/share/winbg', 'a relative XDG_DATA_HOME is ignored');
    assert.equal(localDataFolder({ app: 'MyApp', env: { HOME: '/home/me' } }).path, '/home/me/.local/share/MyApp');
  }
  assert.match(defaultPrimesFile(), new RegExp(`[\\\\/]winbg[\\\\/]${processName()}[\\\\/]numbersQueue\\.log$`));
  for (const app of ['', 'a/b', 'a\\b', '..', 'x:y']) assert.throws(() => localDataFolder({ app }), /app must be a folder name/);
});

folder.after(() => removeTree(dir));
run.run();
task.run();
folder.run();
