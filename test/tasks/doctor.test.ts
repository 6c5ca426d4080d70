// winbg doctor: off Windows it says what it would check; under Wine (Windows without package
// identity or Background classes) it explains both; a manifest given is checked for the CLSID.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isWindows } from '../../lib/com/index.js';
import { comServerExtension } from '../../lib/manifest/index.js';
import { diagnose } from '../../lib/tasks/doctor.js';
import { removeTree } from '../support/files.js';

const CLSID = '14C5882B-35D3-41BE-86B2-5106269B97E6';
const test = suite('doctor');

test('what it finds here', () => {
  const findings = diagnose();
  const unknown = findings.find((f) => f.check === 'native IUnknown')!;
  if (process.env.WINBG_NATIVE_UNKNOWN === '0') {
    assert.is(unknown.level, 'warning');
    assert.match(unknown.message, /fall back to koffi callbacks \(turned off by WINBG_NATIVE_UNKNOWN=0\).*never block it/);
  } else {
    assert.is(unknown.level, 'ok', 'x64 and arm64 run the native code');
  }
  if (!isWindows) {
    assert.equal(findings.map((f) => f.check), ['native IUnknown', 'koffi', 'platform']);
    assert.match(findings[1]!.message, /^koffi 3\.\d+\.\d+, (its prebuilt addon loaded directly|loaded through its package entry)$/);
    assert.match(findings[2]!.message, /package identity.*com:ExeServer.*AllTasks.*GetAccessStatus.*winbg host/s);
    return;
  }
  // Under Wine: no package identity, and no Background classes.
  const identity = findings.find((f) => f.check === 'package identity')!;
  assert.is(identity.level, 'error');
  assert.match(identity.message, /no package identity.*MSIX package, or a sparse package/s);
  const registration = findings.find((f) => f.check === 'registration')!;
  assert.is(registration.level, 'error');
  assert.match(registration.message, /(REGDB_E_CLASSNOTREG|CLASS_E_CLASSNOTAVAILABLE).*portable host/s);
});

test('a manifest is checked for the task\'s class', () => {
  const dir = mkdtempSync(join(tmpdir(), 'winbg-doctor-'));
  try {
    const { xml, namespaces } = comServerExtension({ clsid: CLSID, executable: 'app\\node.exe', arguments: '"app.js" -StartSampleTaskServer' });
    const manifest = `<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10" ${namespaces.map((n) => n.attribute).join(' ')}>
  <Applications><Application Id="App" Executable="app\\node.exe" EntryPoint="Windows.FullTrustApplication"><Extensions>
${xml}
  </Extensions></Application></Applications>
</Package>`;
    const path = join(dir, 'AppxManifest.xml');
    writeFileSync(path, manifest);
    const good = diagnose({ clsid: CLSID, manifest: path }).filter((f) => f.check === 'manifest');
    assert.ok(good.length > 0 && good.every((f) => f.level !== 'error'), JSON.stringify(good));
    const other = diagnose({ clsid: '00000000-1111-2222-3333-444444444444', manifest: path }).filter((f) => f.check === 'manifest');
    assert.ok(other.some((f) => f.level === 'error'), 'another CLSID is not declared');
    const missing = diagnose({ clsid: CLSID, manifest: join(dir, 'nope.xml') }).find((f) => f.check === 'manifest')!;
    assert.is(missing.level, 'error');
    assert.match(missing.message, /does not exist/);
  } finally {
    removeTree(dir);
  }
});

test.run();
