// kill -9 at random times (seeded): whatever moment the process dies, the next run trims a torn
// record and the file is the exact prime sequence up to its last record, and resuming completes it.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { recoverPrimeLog } from '../../lib/samples/prime-log.js';
import { runPrimes } from '../../lib/samples/primes.js';
import { primeText } from '../support/primes.js';
import { mulberry32 } from '../support/random.js';
import { removeTree } from '../support/files.js';

const here = dirname(fileURLToPath(import.meta.url));
const WRITER = join(here, 'support', 'prime-writer.js');
const RUNS = 24;
const SEED = 0xc4a5_0009;
const MAX = 100_000_000;

/** This runtime, started on a script the way the test runner starts it. */
function command(script: string, args: string[]): [string, string[]] {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Deno) return [process.execPath, ['run', '-A', '--node-modules-dir=manual', '--no-lock', script, ...args]];
  return [process.execPath, [script, ...args]];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const test = suite('kill -9 while writing');

test(`${RUNS} runs killed at random times, each resumed from what it left: always the exact prefix (seed ${SEED.toString(16)})`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'winbg-crash-'));
  const file = join(dir, 'numbersQueue.log');
  const whole = primeText(MAX);
  const random = mulberry32(SEED);
  let trimmed = 0;
  let grew = 0;
  try {
    for (let i = 0; i < RUNS; i++) {
      const before = existsSync(file) ? statSync(file).size : 0;
      // Tiny writes (slow runs, many boundaries) and large ones (a kill can land inside one).
      const large = i % 2 === 1;
      const flushBytes = large ? 65_536 + Math.floor(random() * 2 * 1024 * 1024) : 1 + Math.floor(random() * 64);
      const [exe, args] = command(WRITER, [file, String(MAX), String(flushBytes)]);
      const child = spawn(exe, args, { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // Wait until it writes, then a random moment more, then SIGKILL (TerminateProcess on Windows).
      const until = Date.now() + 20_000;
      while ((existsSync(file) ? statSync(file).size : 0) <= before && Date.now() < until && child.exitCode === null) await sleep(2);
      await sleep(random() * (large ? 15 : 40));
      assert.ok(child.kill('SIGKILL'), `run ${i}: the child was running when killed`);
      await exited;
      const size = statSync(file).size;
      if (size > before) grew++;
      const state = recoverPrimeLog(file);
      if (state.trimmed > 0) trimmed++;
      const text = readFileSync(file, 'latin1');
      assert.is(text.length, state.bytes);
      assert.ok(whole.startsWith(text), `run ${i}: the file is the exact prefix after trimming (${state.trimmed} bytes trimmed)`);
      assert.ok(text.endsWith(`${state.last}, `), `run ${i}: it ends on its last prime`);
    }
    if (process.env.WINBG_TEST_VERBOSE) console.log(`crash test: ${grew} runs grew the file, ${trimmed} left a torn record`);
    const done = await runPrimes({ file, max: MAX });
    assert.is(done.outcome, 'completed');
    assert.ok(readFileSync(file, 'latin1') === whole, 'resumed to the end: the whole sequence, once');
    // How often a kill landed mid-record is up to the timing; that the runs wrote is not.
    assert.ok(grew >= RUNS - 2, `${grew} of ${RUNS} runs added to the file before they were killed (${trimmed} left a torn record)`);
  } finally {
    removeTree(dir);
  }
});

test.run();
