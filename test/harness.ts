// Runs the uvu suites of one tier in this process and prints, last, one machine-readable line:
//   WINBG-RESULT {"passed":N,"failed":N,"skipped":N}
// scripts/test.mjs starts one harness per (tier, runtime) and adds the results up. A suite whose
// hooks throw counts its unfinished tests as failed (uvu's exec would not count them at all).
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { removeTree } from './support/files.js';

type Runner = () => Promise<[errors: string | true, passed: number, skipped: number, total: number]>;
declare global {
  // uvu's deferred mode: test.run() queues suites here instead of running them.
  var UVU_DEFER: number | undefined;
  var UVU_INDEX: number | undefined;
  var UVU_QUEUE: [string | null, ...Runner[]][];
}

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const tier = option('--tier') ?? 'portable';
const filter = option('--filter');
// Under Wine the Windows tier also runs the portable suite, so that it meets the real combase.
const withPortable = args.includes('--with-portable');

/** Test files under `dir`; `portableOnly` leaves out test/windows/. */
function testFiles(dir: string, portableOnly: boolean): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return portableOnly && name === 'windows' && dir === here ? [] : testFiles(path, portableOnly);
      return name.endsWith('.test.js') ? [path] : [];
    });
}

const roots = tier === 'windows' ? [join(here, 'windows'), ...(withPortable ? [here] : [])] : [here];
const files = [...new Set(roots.flatMap((root) => testFiles(root, root === here)))].filter(
  (file) => !filter || relative(here, file).split(sep).join('/').includes(filter),
);

// Registration records (lib/tasks/records.ts) go to a folder of this run, not the user's.
const stateDir = process.env['WINBG_STATE_DIR'] ? null : mkdtempSync(join(tmpdir(), 'winbg-state-'));
if (stateDir) process.env['WINBG_STATE_DIR'] = stateDir;

globalThis.UVU_DEFER = 1;
globalThis.UVU_QUEUE = [];
let passed = 0;
let failed = 0;
let skipped = 0;
// One line per failure, printed again just before the result line: CI keeps only the end of a
// long log, and a failure near its start would otherwise be invisible there.
const failures: string[] = [];
for (const [index, file] of files.entries()) {
  globalThis.UVU_INDEX = index;
  globalThis.UVU_QUEUE.push([relative(here, file).split(sep).join('/')]);
  try {
    await import(pathToFileURL(file).href);
  } catch (error) {
    failed++;
    console.error(`\n  ✘ ${relative(here, file)} failed to load:`, error);
    failures.push(`${relative(here, file)}: failed to load: ${String(error).split('\n')[0]}`);
  }
}

for (const [name, ...suites] of globalThis.UVU_QUEUE) {
  process.stdout.write(`\n${name}\n`);
  for (const suite of suites) {
    const [errors, ok, skips, total] = await suite();
    passed += ok;
    failed += total - ok;
    skipped += skips;
    if (errors !== true) {
      process.stdout.write(`\n${errors}\n`);
      failures.push(...failureLines(name ?? '', errors));
    } else if (ok < total) {
      // uvu's runner returns from its finally block, so a throwing hook's error never reaches here.
      failures.push(`${name ?? ''}: ${total - ok} of ${total} test(s) of a suite did not finish (a before or after hook threw)`);
    }
  }
}
for (const line of failures) process.stdout.write(`WINBG-FAIL ${line}\n`);
if (stateDir) removeTree(stateDir);
process.stdout.write(`\nWINBG-RESULT ${JSON.stringify({ passed, failed, skipped, tier, runtime: runtimeName() })}\n`);
process.exitCode = failed > 0 ? 1 : 0;

/**
 * `file › suite "test": message` for each failure in uvu's report of one suite (its format():
 * a line with FAIL, the suite and the quoted test name, then the message on the next line).
 */
function failureLines(file: string, report: string): string[] {
  // eslint-disable-next-line no-control-regex
  const lines = report.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
  const found: string[] = [];
  for (const [at, line] of lines.entries()) {
    const head = /^\s*FAIL\s+(.*)$/.exec(line);
    if (head) found.push(`${file} › ${head[1]!.trim()}: ${(lines[at + 1] ?? '').trim()}`);
  }
  // A hook that threw is reported in another shape; say at least that the file failed.
  return found.length > 0 ? found : [`${file}: ${lines.find((line) => line.trim())?.trim() ?? 'failed'}`];
}

function runtimeName(): string {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Bun ? 'bun' : g.Deno ? 'deno' : `node${process.platform === 'win32' ? ' (win32)' : ''}`;
}
