// The layers of lib/com, read off the sources: values, then ComPtr (pointer.ts), then JS objects,
// each importing only the ones below; and no import cycle anywhere in lib/ outside the generated
// projection (a cycle makes the evaluation order depend on which module a bundler meets first).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const lib = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'lib');
const test = suite('lib/com layers');

/** Every .ts module under lib/ (outside lib/generated) and the modules it imports at run time. */
function graph(): Map<string, string[]> {
  const modules = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'generated' && name !== 'asm') walk(path);
      } else if (name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        // `import type` is erased by the compiler: only value imports order evaluation.
        const targets = [...text.matchAll(/^(?:import|export)(?! type)[^'";]*?from\s+['"](\.[^'"]+)['"]|^import\s+['"](\.[^'"]+)['"]/gm)]
          .map((m) => resolve(dirname(path), (m[1] ?? m[2])!.replace(/\.js$/, '.ts')))
          .filter((target) => !target.split(sep).includes('generated'));
        modules.set(path, targets);
      }
    }
  };
  walk(lib);
  return modules;
}

const name = (path: string): string => relative(lib, path).split(sep).join('/');

test('no import cycle in lib/ (outside lib/generated)', () => {
  const modules = graph();
  assert.ok(modules.size > 50, `read the sources (${modules.size} modules in ${lib})`);
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (path: string, stack: string[]): void => {
    if (state.get(path) === 'done') return;
    if (state.get(path) === 'open') {
      cycles.push([...stack.slice(stack.indexOf(path)), path].map(name).join(' → '));
      return;
    }
    state.set(path, 'open');
    for (const target of modules.get(path) ?? []) visit(target, [...stack, path]);
    state.set(path, 'done');
  };
  for (const path of modules.keys()) visit(path, []);
  assert.equal(cycles, []);
});

test('values, then ComPtr, then JS objects: each layer imports only the ones below', () => {
  const modules = graph();
  const imports = (module: string): string[] => (modules.get(join(lib, 'com', `${module}.ts`)) ?? []).map(name);
  const objectLayer = ['com/object.ts', 'com/boundary.ts', 'com/implement.ts', 'com/class-factory.ts', 'com/runtime.ts'];
  for (const value of ['guid', 'hresult', 'hstring', 'struct', 'signature', 'array', 'error-info', 'interface', 'unknown', 'local']) {
    const wrong = imports(value).filter((m) => m === 'com/pointer.ts' || objectLayer.includes(m));
    assert.equal(wrong, [], `com/${value}.ts is a value module`);
  }
  assert.equal(imports('pointer').filter((m) => objectLayer.includes(m)), [], 'com/pointer.ts is below the JS objects');
  assert.ok(imports('object').includes('com/boundary.ts'), 'read the imports (object.ts uses boundary.ts)');
});

test.run();
