// The winbg command's help and version: `winbg --help`, `-h` and `help` print the usage and exit
// 0; `winbg help <command>` and `winbg <command> --help` print that command's; `--version` the
// package's. Misuse still exits 2 with the reason and the usage.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'lib', 'cli.js');
const run = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
};
// A child of Bun or Deno is not `node cli.js`, and under Wine a child's pipes are not readable
// (NOTES): these run where the CLI is what users run.
const node = !('Bun' in globalThis) && !('Deno' in globalThis) && process.env.WINBG_UNDER_WINE !== '1';
const test = suite('winbg help and version');
const it = node ? test : test.skip;

it('--help, -h and help print the whole usage and exit 0', () => {
  for (const flag of ['--help', '-h', 'help']) {
    const result = run(flag);
    assert.is(result.status, 0, `${flag}: ${result.stderr}`);
    assert.match(result.stdout, /^usage:\n/);
    for (const command of ['demo', 'describe', 'generate', 'idl', 'manifest', 'doctor', 'list', 'register', 'unregister', 'host']) {
      assert.match(result.stdout, new RegExp(`\\n  winbg ${command}\\b`), `${flag} lists ${command}`);
    }
  }
});

it("a command's own usage: help <command> and <command> --help", () => {
  const help = run('help', 'register');
  const flag = run('register', '--help');
  assert.is(help.status, 0);
  assert.is(flag.status, 0);
  assert.is(help.stdout, flag.stdout);
  assert.match(help.stdout, /^usage:\n {2}winbg register --name NAME --clsid GUID/);
  assert.not.match(help.stdout, /winbg demo/, 'only that command');
  const manifest = run('manifest', '-h').stdout;
  assert.is(manifest.match(/\n {2}winbg manifest/g)?.length, 2, 'both forms of manifest');
});

it('--version prints the package version', () => {
  const version = (JSON.parse(readFileSync(join(here, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  const result = run('--version');
  assert.is(result.status, 0);
  assert.is(result.stdout, `winbg ${version}\n`);
});

it('misuse exits 2 with the reason and the usage', () => {
  const unknown = run('frobnicate');
  assert.is(unknown.status, 2);
  assert.match(unknown.stderr, /^unknown command frobnicate\nusage:/);
  const topic = run('help', 'frobnicate');
  assert.is(topic.status, 2);
  assert.match(topic.stderr, /^help: unknown command frobnicate/);
  assert.is(run().status, 2);
});

test.run();
