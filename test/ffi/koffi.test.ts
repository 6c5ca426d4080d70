// lib/ffi/koffi.ts: under Node, koffi's prebuilt addon is loaded directly (its package entry costs
// about 5 ms more); koffi's own entry, if the app requires it too, gets the same addon; and
// WINBG_KOFFI_LOADER=package, Bun, Deno and any layout it does not know take koffi's entry.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { koffi, koffiLoader } from '../../lib/ffi/koffi.js';

const test = suite('koffi loading');
const require = createRequire(import.meta.url);
const versions = process.versions as Record<string, string | undefined>;
const plainNode = !versions.bun && !versions.deno && !versions.electron;

/** Where koffi 3.x keeps the addon for this machine, next to the koffi package Node resolves. */
function addonNextToKoffi(): string | null {
  const koffiDir = realpathSync(dirname(require.resolve('koffi')));
  const triplet = `${process.platform}_${process.arch}`; // the machines this runs on are glibc or Windows
  return [join(koffiDir, '..', '@koromix', `koffi-${process.platform}-${process.arch}`, triplet, 'koffi.node'), join(koffiDir, 'build', 'koffi', triplet, 'koffi.node')].find((file) => existsSync(file)) ?? null;
}

test('the addon is loaded directly under Node, through koffi\'s entry elsewhere or when told', () => {
  if (!plainNode || process.env.WINBG_KOFFI_LOADER === 'package') {
    assert.is(koffiLoader, 'package');
  } else if (addonNextToKoffi()) {
    assert.is(koffiLoader, 'addon');
    assert.ok(Object.values(require.cache).some((module) => module?.exports === koffi), 'left in require\'s cache');
  } else {
    // qemu-user's arm64 tier: NODE_PATH holds the arm64 addon, which only koffi's entry looks for.
    assert.is(koffiLoader, 'package');
  }
});

test('koffi\'s own entry, required by the app, gets the same addon: one set of types', () => {
  const fromPackage = require('koffi') as typeof koffi;
  assert.is(fromPackage.sizeof, koffi.sizeof);
  const Pair = koffi.struct(`winbg_test_pair_${koffiLoader}`, { a: 'int32_t', b: 'double' });
  assert.is(fromPackage.sizeof(Pair), 16);
  assert.is(fromPackage.type(`winbg_test_pair_${koffiLoader}`), koffi.type(`winbg_test_pair_${koffiLoader}`));
});

// Child processes of the harness's own Node: not under Wine or qemu-user, whose execPath is not
// something this process can start as it was started.
const childNode = process.release?.name === 'node' && plainNode && process.env.WINBG_UNDER_WINE !== '1' && process.env.QEMU_LD_PREFIX === undefined;

(childNode ? test : test.skip)('both ways give a working koffi, and WINBG_KOFFI_LOADER=package forces its entry', () => {
  const script = `
    const { koffi, koffiLoader } = await import(${JSON.stringify(new URL('../../lib/ffi/koffi.js', import.meta.url).href)});
    const { diagnose } = await import(${JSON.stringify(new URL('../../lib/tasks/doctor.js', import.meta.url).href)});
    const buffer = koffi.alloc('int32_t', 1);
    koffi.encode(buffer, 'int32_t', 41);
    const read = koffi.decode(buffer, 'int32_t') + 1;
    koffi.free(buffer);
    process.stdout.write(JSON.stringify({ koffiLoader, read, doctor: (await diagnose()).find((f) => f.check === 'koffi').message }));`;
  const run = (loader: string | undefined): { koffiLoader: string; read: number; doctor: string } => {
    const env = { ...process.env };
    if (loader === undefined) delete env.WINBG_KOFFI_LOADER;
    else env.WINBG_KOFFI_LOADER = loader;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
    assert.is(child.status, 0, child.stderr);
    return JSON.parse(child.stdout);
  };
  const direct = run(undefined);
  const entry = run('package');
  assert.equal(entry, { koffiLoader: 'package', read: 42, doctor: `koffi ${String((koffi as { version?: unknown }).version)}, loaded through its package entry` });
  assert.equal(direct, { koffiLoader: addonNextToKoffi() ? 'addon' : 'package', read: 42, doctor: direct.koffiLoader === 'addon' ? `koffi ${String((koffi as { version?: unknown }).version)}, its prebuilt addon loaded directly` : entry.doctor });
});

(childNode ? test : test.skip)('an app that imports koffi before winbg: winbg takes the addon koffi\'s entry loaded, not a second instance', () => {
  // Two instances each have their own types: a prototype of one used with a pointer the other
  // decoded crashed the process (test/com/native-unknown.test run alone, before this was fixed).
  const script = `
    const { default: appKoffi } = await import('koffi');
    const { koffi, koffiLoader } = await import(${JSON.stringify(new URL('../../lib/ffi/koffi.js', import.meta.url).href)});
    const proto = appKoffi.proto('int winbg_test_first(int)');
    process.stdout.write(JSON.stringify({ same: appKoffi === koffi, koffiLoader, sameType: koffi.type(proto) === proto }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('.', import.meta.url), env: { ...process.env, WINBG_KOFFI_LOADER: '' } });
  assert.is(child.status, 0, child.stderr);
  assert.equal(JSON.parse(child.stdout), { same: true, koffiLoader: addonNextToKoffi() ? 'addon' : 'package', sameType: true });
});

test.run();
