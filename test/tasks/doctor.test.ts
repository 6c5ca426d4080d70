// winbg doctor: with nothing to ask, every check it cannot make is listed as skipped, saying why;
// under Wine (Windows without package identity, developer mode or Background classes) it explains
// each. Against the portable host and the deployment stand-in, every check runs: the package
// registered, its manifest declaring the CLSID, the launcher, the registrations and triggers,
// background access; and each one that fails says what to do.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isWindows } from '../../lib/com/index.js';
import { createHost, installDeploymentStandIn, type HostOptions } from '../../lib/host/index.js';
import { comServerExtension, registerPackage } from '../../lib/manifest/index.js';
import { diagnose, type Finding } from '../../lib/tasks/doctor.js';
import { registerBackgroundTask, requestBackgroundAccess, systemTrigger, timeTrigger } from '../../lib/tasks/index.js';
import { removeTree } from '../support/files.js';
import { packagedApp, type PackagedApp } from '../support/packaged-app.js';

const CLSID = '14C5882B-35D3-41BE-86B2-5106269B97E6';
const test = suite('doctor');

const message = (findings: Finding[], check: string, level: Finding['level']): string => findings.find((f) => f.check === check && f.level === level)?.message ?? `(no ${level} ${check} finding in ${JSON.stringify(findings)})`;

test('with nothing to ask: each check made, or skipped saying why', async () => {
  const findings = await diagnose({ package: join(tmpdir(), 'winbg-no-such-package') });
  const unknown = findings.find((f) => f.check === 'native IUnknown')!;
  if (process.env.WINBG_NATIVE_UNKNOWN === '0') {
    assert.is(unknown.level, 'warning');
    assert.match(unknown.message, /fall back to koffi callbacks \(turned off by WINBG_NATIVE_UNKNOWN=0\).*never block it/);
  } else {
    assert.is(unknown.level, 'ok', 'x64 and arm64 run the native code');
  }
  assert.match(findings.find((f) => f.check === 'koffi')!.message, /^koffi 3\.\d+\.\d+, (its prebuilt addon loaded directly|loaded through its package entry)$/);
  assert.match(message(findings, 'manifest', 'error'), /winbg-no-such-package.AppxManifest\.xml does not exist \(winbg package init writes it\)/);
  assert.match(message(findings, 'package registration', 'skipped'), /no manifest, so no package name/);
  assert.match(message(findings, 'triggers', 'info'), /TimeTrigger and MaintenanceTrigger.*0x80070032.*timeTrigger\(\) or maintenanceTrigger\(\)/);
  if (!isWindows) {
    assert.match(message(findings, 'platform', 'info'), /skipped below, saying so/);
    assert.match(message(findings, 'package identity', 'skipped'), /only Windows/);
    assert.match(message(findings, 'developer mode', 'skipped'), /a Windows setting/);
    for (const check of ['registration', 'background access', 'SetTaskEntryPointClsid']) {
      assert.match(message(findings, check, 'skipped'), /is a Windows class \(not on \w+, and no portable host is open in this process\)/, check);
    }
    return;
  }
  // Under Wine: no package identity, developer mode off, no Background classes.
  assert.match(message(findings, 'package identity', 'error'), /no package identity.*MSIX package, or a sparse package/s);
  assert.match(message(findings, 'developer mode', 'warning'), /^off: a loose registration \(winbg package register\) needs it: Settings > System > For developers > Developer Mode/);
  assert.match(message(findings, 'registration', 'skipped'), /BackgroundTaskRegistration is not available \(0x8004/);
  assert.match(message(findings, 'background access', 'skipped'), /BackgroundExecutionManager is not available/);
  assert.match(message(findings, 'SetTaskEntryPointClsid', 'skipped'), /IsMethodPresent failed: 0x80004001 E_NOTIMPL/, 'Wine\'s ApiInformation');
});

test('a manifest is checked for each task\'s class', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'winbg-doctor-'));
  try {
    const { xml, namespaces } = comServerExtension({ clsid: CLSID, executable: 'app\\node.exe', arguments: '"app.js" -StartSampleTaskServer' });
    const manifest = `<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10" ${namespaces.map((n) => n.attribute).join(' ')}>
  <Identity Name="Winbg.Doctor" Publisher="CN=winbg" Version="1.0.0.0"/>
  <Applications><Application Id="App" Executable="app\\node.exe" EntryPoint="Windows.FullTrustApplication"><Extensions>
${xml}
  </Extensions></Application></Applications>
</Package>`;
    const path = join(dir, 'AppxManifest.xml');
    writeFileSync(path, manifest);
    const good = (await diagnose({ clsids: [CLSID], manifest: path })).filter((f) => f.check === 'manifest');
    assert.ok(good.length > 0 && good.every((f) => f.level === 'ok'), JSON.stringify(good));
    assert.match(good.at(-1)!.message, new RegExp(`declares ${CLSID} in a com:ExeServer`));
    const other = (await diagnose({ clsids: ['00000000-1111-2222-3333-444444444444'], manifest: path })).filter((f) => f.check === 'manifest');
    assert.ok(other.some((f) => f.level === 'error'), 'another CLSID is not declared');
    const bad = await diagnose({ clsids: ['not a guid'], manifest: path });
    assert.match(message(bad, 'options', 'error'), /a CLSID is not a GUID/);
  } finally {
    removeTree(dir);
  }
});

/** A host, the deployment stand-in, and an app folder with `winbg package init`'s package and a launcher (a placeholder file). */
async function world(hostOptions: HostOptions = {}, { register = true } = {}): Promise<PackagedApp> {
  const host = createHost(hostOptions);
  const standIn = installDeploymentStandIn();
  const app = await packagedApp('Winbg.Doctor', CLSID);
  if (register) await registerPackage({ package: app.packageDir, externalLocation: app.dir });
  return {
    dir: app.dir,
    packageDir: app.packageDir,
    [Symbol.dispose]: () => {
      standIn.close();
      host.close();
      app[Symbol.dispose]();
    },
  };
}

test('against the portable host and the stand-in: the package, its manifest, the launcher, the registration, access, all found', async () => {
  using w = await world();
  await requestBackgroundAccess();
  registerBackgroundTask({ name: 'primes', clsid: CLSID, trigger: timeTrigger(15) });
  const findings = await diagnose({ clsids: [CLSID], package: w.packageDir, name: 'primes' });
  assert.match(message(findings, 'package registration', 'ok'), /^Winbg\.Doctor_1\.0\.0\.0_neutral__\w{13} is registered for this user, external location /);
  assert.match(message(findings, 'manifest', 'ok'), /package Winbg\.Doctor 1\.0\.0\.0 \(sparse/);
  assert.ok(findings.some((f) => f.check === 'manifest' && f.message === `declares ${CLSID} in a com:ExeServer`));
  assert.match(message(findings, 'launcher', 'ok'), /winbg-node\.exe exists$/);
  assert.match(message(findings, 'registration', 'ok'), new RegExp(`^primes \\(.*\\), trigger Windows\\.ApplicationModel\\.Background\\.TimeTrigger, COM class ${CLSID}`));
  assert.match(message(findings, 'background access', 'ok'), /GetAccessStatus answers AllowedSubjectToSystemPolicy/);
  assert.equal(findings.filter((f) => f.level === 'error'), isWindows ? findings.filter((f) => f.level === 'error' && f.check === 'package identity') : []);
});

test('what fails says what to do: not registered, no launcher, no registration of the name, access denied', async () => {
  using w = await world({ access: 'DeniedByUser' }, { register: false });
  rmSync(join(w.dir, 'winbg-node.exe'));
  const before = await diagnose({ package: w.packageDir });
  assert.match(message(before, 'background access', 'warning'), /Unspecified: the app has not asked yet/, 'the doctor asks nothing itself');
  await requestBackgroundAccess();
  const findings = await diagnose({ clsids: [CLSID], package: w.packageDir, appDir: w.dir, name: 'primes' });
  assert.match(message(findings, 'package registration', 'error'), /Winbg\.Doctor is not registered for this user: winbg package register/);
  assert.match(message(findings, 'launcher', 'error'), /Executable winbg-node\.exe is not at .*winbg package init --launcher-from <runtime>\.exe \(in the app's folder/);
  assert.match(message(findings, 'registration', 'error'), /no registration named primes/);
  assert.match(message(findings, 'background access', 'error'), /answers DeniedByUser: .*Background apps/);
});

test('--app-dir, when given, is where the launcher is looked for, over the registered external location', async () => {
  using w = await world();
  const elsewhere = mkdtempSync(join(tmpdir(), 'winbg-doctor-elsewhere-'));
  try {
    const findings = await diagnose({ package: w.packageDir, appDir: elsewhere });
    assert.match(message(findings, 'launcher', 'error'), new RegExp(`is not at ${elsewhere.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}`));
    assert.match(message(await diagnose({ package: w.packageDir }), 'launcher', 'ok'), /winbg-node\.exe exists$/, 'the registered external location otherwise');
  } finally {
    removeTree(elsewhere);
  }
});

test('a COM task on a SystemTrigger (which Windows refuses with 0x80070032): the registration is flagged, with the triggers to use', async () => {
  using w = await world({ clsidTriggers: 'all' });
  registerBackgroundTask({ name: 'online', clsid: CLSID, trigger: systemTrigger('InternetAvailable') });
  const findings = await diagnose({ package: w.packageDir });
  assert.match(message(findings, 'trigger', 'error'), /^online: Windows\.ApplicationModel\.Background\.SystemTrigger with a COM entry point: .*0x80070032.*timeTrigger\(\) or maintenanceTrigger\(\)/);
});

test.run();
