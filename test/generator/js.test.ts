// winbg generate --js: JavaScript with .d.ts declarations, for an app without a TypeScript build.
// The output of a namespace is written next to the compiled tests, imported (it registers its
// types and its values work), and its declarations are type-checked by tsc against a consumer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generate } from '../../lib/generator/index.js';
import { resolveType } from '../../lib/winrt/index.js';
import { WINMD_DIR } from '../support/winmd.js';
import { removeTree } from '../support/files.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const out = join(here, 'js-output');
const test = suite('generate --js');
const it = WINMD_DIR !== null ? test : test.skip;
if (WINMD_DIR === null) console.log('  (skipped: no Windows metadata here)');

it('writes .js and .d.ts per namespace, the descriptors and an index; the JavaScript registers the types and exports the values', async () => {
  removeTree(out);
  mkdirSync(out, { recursive: true });
  const projection = generate({ winmd: WINMD_DIR!, roots: [{ name: 'Windows.System.Threading' }], out, js: true, runtime: '../../../lib/winrt/index.js', com: '../../../lib/com/index.js' });
  const paths = projection.files.map((f) => f.path).sort();
  assert.equal(paths, ['Windows.Foundation.d.ts', 'Windows.Foundation.js', 'Windows.System.Threading.d.ts', 'Windows.System.Threading.js', 'descriptors.d.ts', 'descriptors.js', 'index.d.ts', 'index.js'].sort());
  for (const file of projection.files) {
    if (file.path.endsWith('.js')) assert.not.match(file.text, /^\s*(export )?(interface|type|declare) |: RuntimeClass|as const/m, `${file.path} is plain JavaScript`);
  }
  const index = await import(pathToFileURL(join(out, 'index.js')).href) as Record<string, Record<string, unknown>>;
  const threading = index.Windows_System_Threading!;
  assert.equal(threading.WorkItemPriority, { Low: -1, Normal: 0, High: 1 });
  assert.ok(Object.isFrozen(threading.WorkItemPriority));
  assert.type(threading.ThreadPool, 'object', 'a runtime class value');
  assert.is(resolveType('Windows.System.Threading.IThreadPoolStatics').kind, 'interface', 'the types were registered');
});

// tsc runs under Node (the project's own), where the CLI is what users run.
const node = !('Bun' in globalThis) && !('Deno' in globalThis) && process.env.WINBG_UNDER_WINE !== '1';
(node && WINMD_DIR !== null ? test : test.skip)('the declarations type-check a consumer, and catch a misuse', () => {
  assert.ok(existsSync(join(out, 'index.d.ts')), 'the previous test wrote the output');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const check = (body: string): { status: number | null; output: string } => {
    writeFileSync(join(out, 'consumer.ts'), `import { Windows_System_Threading as Threading } from './index.js';\n${body}\n`);
    const result = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', join(out, 'consumer.ts')], { encoding: 'utf8', cwd: root });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  };
  const good = check([
    'const priority: Threading.WorkItemPriority = Threading.WorkItemPriority.High;',
    'const high: 1 = Threading.WorkItemPriority.High;',
    'export function cancel(timer: Threading.ThreadPoolTimer): void { timer.Cancel(); }',
    'export const run = (): unknown => Threading.ThreadPool.RunAsync(() => {});',
    'void priority; void high;',
  ].join('\n'));
  assert.is(good.status, 0, good.output);
  const bad = check('export function wrong(timer: Threading.ThreadPoolTimer): void { timer.Cancle(); }');
  assert.is(bad.status, 2, 'tsc reports the error');
  assert.match(bad.output, /Property 'Cancle' does not exist on type 'ThreadPoolTimer'/);
});

test.run();
