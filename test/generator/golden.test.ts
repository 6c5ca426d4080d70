// Golden tests of the generator: small projections of the pinned Windows metadata, compared
// byte for byte with the expected output in test/fixtures/generator/<case>/ (which tsc compiles
// with the rest of the tests, so the expected output also type-checks). Set UPDATE_GOLDEN=1 to
// rewrite them after an intended change. They need the pinned inputs (winmd/SHA256SUMS): another
// Windows version's metadata would give other output, so they are skipped there.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { emitProjection, inputHashes } from '../../lib/generator/index.js';
import { Metadata } from '../../lib/winmd/index.js';
import { WINMD_DIR } from '../support/winmd.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'generator');
const pinned = WINMD_DIR !== null && inputHashes(WINMD_DIR) === readFileSync(join(root, 'winmd', 'SHA256SUMS'), 'utf8');
const update = process.env.UPDATE_GOLDEN === '1';

const CASES: Readonly<Record<string, readonly { name: string; depth?: number }[]>> = {
  // An enum and a struct on their own.
  'enum-struct': [{ name: 'Windows.Foundation.AsyncStatus', depth: 0 }, { name: 'Windows.Foundation.Point', depth: 0 }],
  // A generic interface, what it requires, and a generic delegate.
  generic: [{ name: 'Windows.Foundation.IAsyncOperation`1', depth: 1 }],
  // A runtime class with its interfaces, an activation factory and statics.
  class: [{ name: 'Windows.ApplicationModel.Background.TimeTrigger', depth: 0 }],
  // Overloads (the Overload attribute gives ABI names).
  overloads: [{ name: 'Windows.Foundation.Metadata.ApiInformation', depth: 0 }],
};

const test = suite('generator golden output');

if (!pinned) {
  console.log('  note: the pinned .winmd inputs of winmd/SHA256SUMS are not here: the golden tests are skipped');
  for (const name of Object.keys(CASES)) test.skip(name);
} else {
  const metadata = Metadata.load(WINMD_DIR!);
  for (const [name, roots] of Object.entries(CASES)) {
    test(name, () => {
      const projection = emitProjection(metadata, roots, { runtime: '../../../../lib/winrt/index.js', com: '../../../../lib/com/index.js' });
      const dir = join(fixtures, name);
      if (update) {
        mkdirSync(dir, { recursive: true });
        for (const file of projection.files) writeFileSync(join(dir, file.path), file.text);
      }
      assert.ok(existsSync(dir), `no expected output in ${dir}: run with UPDATE_GOLDEN=1`);
      assert.equal(projection.files.map((f) => f.path).sort(), readdirSync(dir).sort(), 'the same files');
      for (const file of projection.files) assert.fixture(file.text, readFileSync(join(dir, file.path), 'utf8'));
    });
  }

  test('a second run writes identical bytes', () => {
    const first = emitProjection(metadata, CASES.class!);
    const second = emitProjection(Metadata.load(WINMD_DIR!), CASES.class!);
    assert.equal(second.files, first.files);
  });
}

test.run();
