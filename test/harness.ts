// Runs the uvu suites of one tier in this process and prints, last, one machine-readable line:
//   WINBG-RESULT {"passed":N,"failed":N,"skipped":N}
// scripts/test.mjs starts one harness per (tier, runtime) and adds the results up. A suite whose
// hooks throw counts its unfinished tests as failed (uvu's exec would not count them at all).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
for (const [index, file] of files.entries()) {
  globalThis.UVU_INDEX = index;
  globalThis.UVU_QUEUE.push([relative(here, file).split(sep).join('/')]);
  try {
    await import(pathToFileURL(file).href);
  } catch (error) {
    failed++;
    console.error(`\n  ✘ ${relative(here, file)} failed to load:`, error);
  }
}

for (const [name, ...suites] of globalThis.UVU_QUEUE) {
  process.stdout.write(`\n${name}\n`);
  for (const suite of suites) {
    const [errors, ok, skips, total] = await suite();
    passed += ok;
    failed += total - ok;
    skipped += skips;
    if (errors !== true) process.stdout.write(`\n${errors}\n`);
  }
}
if (stateDir) rmSync(stateDir, { recursive: true, force: true });
process.stdout.write(`\nWINBG-RESULT ${JSON.stringify({ passed, failed, skipped, tier, runtime: runtimeName() })}\n`);
process.exitCode = failed > 0 ? 1 : 0;

function runtimeName(): string {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Bun ? 'bun' : g.Deno ? 'deno' : `node${process.platform === 'win32' ? ' (win32)' : ''}`;
}
