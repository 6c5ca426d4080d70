// `winbg demo` in-process (the host plays Windows' part here and under Wine, where this process
// has no package identity), and once as a process where a child's output can be read.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isWindows } from '../../lib/ffi/koffi.js';
import { createHost } from '../../lib/host/index.js';
import { DEMO_SYNOPSIS, runDemo } from '../../lib/samples/demo.js';
import { primeText } from '../support/primes.js';
import { removeTree } from '../support/files.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', '..', 'lib', 'cli.js');
const isNode = !('Bun' in globalThis) && !('Deno' in globalThis);
const dir = mkdtempSync(join(tmpdir(), 'winbg-demo-'));
let serial = 0;
const newFile = (): string => join(dir, `demo-${serial++}`, 'numbersQueue.log');
const read = (file: string): string => readFileSync(file, 'latin1');

interface Output {
  code: number;
  stdout: string;
  stderr: string;
  lines: { type: string; [key: string]: unknown }[];
}

/** Runs the demo in this process; `onLine` sees each stdout write as it happens. */
async function demo(args: string[], options: { interrupt?: AbortSignal; isTTY?: boolean; onWrite?: (text: string) => void } = {}): Promise<Output> {
  let stdout = '';
  let stderr = '';
  const code = await runDemo(args, {
    stdout: {
      isTTY: options.isTTY ?? false,
      columns: 100,
      write: (text: string) => {
        stdout += text;
        options.onWrite?.(text);
      },
    },
    stderr: { write: (text: string) => void (stderr += text) },
    interrupt: options.interrupt,
    updatesPerSecond: 1000,
  });
  const lines = args.includes('--json') ? stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Output['lines'][number]) : [];
  return { code, stdout, stderr, lines };
}

const test = suite('winbg demo');

test('runs the task under the host to the maximum: registered, activated, statuses, result; the file is complete', async () => {
  const file = newFile();
  const { code, lines, stderr } = await demo(['--max', '3_000_000', '--out', file, '--json']);
  assert.is(code, 0, stderr);
  const types = lines.map((l) => l.type);
  assert.equal(types.slice(0, 2), ['registered', 'activated']);
  assert.is(types.at(-1), 'result');
  assert.ok(types.includes('status'), 'progress lines');
  assert.equal(lines[0]!.clsid, '14C5882B-35D3-41BE-86B2-5106269B97E6');
  assert.equal(lines[0]!.trigger, 'TimeTrigger(15 min)');
  const result = lines.at(-1)!;
  assert.equal([result.outcome, result.percent, result.reached, result.file], ['completed', 100, 3_000_000, file]);
  for (const status of lines.filter((l) => l.type === 'status')) {
    for (const key of ['percent', 'primesPerSecond', 'last', 'etaSeconds', 'file', 'elapsedMs']) assert.ok(key in status, `status has ${key}`);
  }
  assert.is(read(file), primeText(3_000_000));
  assert.match(stderr, isWindows ? /no package identity[^]*portable host/ : /not Windows: the portable host plays Windows' part/);
  const estimate = Number(/about ([\d.]+) MB/.exec(stderr)?.[1]) * 1e6;
  const size = read(file).length;
  assert.ok(Math.abs(estimate - size) / size < 0.1, `says about how large the file gets: ${estimate} for ${size} bytes`);
  createHost().close(); // the demo closed its host
});

test('Ctrl+C cancels the run (Abort): exit 0, the file the exact prefix, and a second run continues it', async () => {
  const file = newFile();
  const interrupt = new AbortController();
  const first = await demo(['--max', '1e9', '--out', file, '--json'], {
    interrupt: interrupt.signal,
    onWrite: (text) => {
      if (text.includes('"status"') && text.includes('"primes":') && !text.includes('"primes":0,')) interrupt.abort();
    },
  });
  assert.is(first.code, 0, first.stderr);
  assert.ok(first.lines.some((l) => l.type === 'canceled' && l.reason === 'Abort'), first.stdout);
  const stopped = first.lines.at(-1)!;
  assert.is(stopped.outcome, 'canceled');
  assert.match(first.stderr, /interrupted: canceling \(Abort\); the task has 5 s to complete its deferrals/);
  const last = stopped.last as number;
  assert.is(read(file), primeText(last));

  const second = await demo(['--max', String(last + 500_000), '--out', file]);
  assert.is(second.code, 0, second.stderr);
  assert.match(second.stdout, new RegExp(`completed: [\\d,]+ primes[^]*continued the file after ${last.toLocaleString('en-US')}`));
  assert.is(read(file), primeText(last + 500_000));
});

test('--for cancels with ExecutionTimeExceeded; text output on a terminal is a bar, elsewhere lines', async () => {
  const file = newFile();
  const timed = await demo(['--max', '1e10', '--out', file, '--for', '0.3'], { isTTY: true });
  assert.is(timed.code, 0, timed.stderr);
  assert.match(timed.stdout, /\r\x1b\[K\[[█░]+\] +\d+\.\d%  [\d,]+ primes\/s  at [\d,]+  ETA [\d:]+  → /);
  assert.match(timed.stdout, /canceled \(ExecutionTimeExceeded\)/);
  assert.match(timed.stdout, /canceled: [\d,]+ primes in [\d.]+ s[^]*run it again to continue\nfile: /);
  const last = Number(read(file).slice(0, -2).split(', ').at(-1));
  assert.is(read(file), primeText(last));

  const plain = await demo(['--max', '100000', '--out', newFile()]);
  assert.is(plain.code, 0);
  assert.not.match(plain.stdout, /\x1b/, 'no terminal codes when stdout is not a terminal');
  assert.match(plain.stdout, /^registered winbg demo: TimeTrigger\(15 min\), class \{14C5882B-35D3-41BE-86B2-5106269B97E6\}\nactivated /);
  assert.match(plain.stdout, /completed: 9,592 primes in [\d.]+ s \([\d,]+\/s\), last 99,991; every prime up to 100,000 is in the file\n/);
});

test('misuse: exit 2 with what was wrong and the usage; nothing written', async () => {
  const file = newFile();
  const cases: [string[], RegExp][] = [
    [['--max', '1'], /--max: a whole number from 2 to 1e12/],
    [['--max', 'lots'], /--max: a whole number/],
    [['--max', '1e13'], /--max: a whole number/],
    [['--for', '-1'], /--for: seconds/],
    [['--for'], /--for needs a value/],
    [['--fast'], /unknown option --fast for demo/],
    [['now'], /demo takes no arguments besides options/],
    [['--max', '10', '--max', '20'], /--max is given twice/],
  ];
  for (const [args, message] of cases) {
    const result = await demo([...args, '--out', file]);
    assert.is(result.code, 2, args.join(' '));
    assert.match(result.stderr, message);
    assert.ok(result.stderr.endsWith(`${DEMO_SYNOPSIS}\n`), 'then the usage');
  }
  assert.not.ok(existsSync(file));
  const help = await demo(['--help']);
  assert.equal([help.code, help.stdout], [0, `${DEMO_SYNOPSIS}\n`]);
});

// A child's pipes cannot be read under Wine (NOTES), and a child of Bun or Deno is not `node cli.js`.
(isNode && !process.env.WINBG_UNDER_WINE ? test : test.skip)('npx winbg demo as a process: JSON lines, exit 0, the file', () => {
  const file = newFile();
  const run = spawnSync(process.execPath, [CLI, 'demo', '--max', '1e6', '--out', file, '--json'], { encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; outcome?: string });
  assert.equal([lines[0]!.type, lines.at(-1)!.type, lines.at(-1)!.outcome], ['registered', 'result', 'completed']);
  assert.is(read(file), primeText(1_000_000));
  const misuse = spawnSync(process.execPath, [CLI, 'demo', '--max', 'x'], { encoding: 'utf8' });
  assert.is(misuse.status, 2);
  assert.match(misuse.stderr, /--max: a whole number[^]*usage:[^]*winbg demo/);
});

test.after(() => removeTree(dir));
test.run();
