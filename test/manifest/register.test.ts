// registerPackage, unregisterPackage and findPackages through winbg's projection of
// Windows.Management.Deployment, against the portable host's stand-in (lib/host/deployment.ts),
// which keeps the rules Windows documents; and, without it, the error that names what is missing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComError } from '../../lib/com/index.js';
import { isWindows } from '../../lib/ffi/koffi.js';
import { Uri } from '../../lib/generated/Windows.Foundation.js';
import { PackageManager, RegisterPackageOptions } from '../../lib/generated/Windows.Management.Deployment.js';
import { installDeploymentStandIn, publisherId } from '../../lib/host/index.js';
import { explainDeployment, findPackages, registerPackage, unregisterPackage } from '../../lib/manifest/index.js';
import { packageCommand } from '../../lib/manifest/package-command.js';
import { asPromise } from '../../lib/winrt/index.js';
import { packagedApp, type PackagedApp } from '../support/packaged-app.js';

const CLSID = '14C5882B-35D3-41BE-86B2-5106269B97E6';

/** The app folder these tests register: an x64 package (its full name says so). */
const app = (extra: string[] = []): Promise<PackagedApp> => packagedApp('Winbg.Register', CLSID, ['--arch', 'x64', ...extra]);

/** Writes the app's package manifest again (package init --force), with another version or task name. */
const reinit = (fixture: PackagedApp, version?: string, task = 'primes'): Promise<unknown> =>
  packageCommand(['init', '--name', 'Winbg.Register', '--task', `${CLSID}=${task}`, '--script', 'app.js', '--arch', 'x64', '--force', ...(version ? ['--version', version] : [])], { cwd: fixture.dir });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  assert.match((await rejection(promise)).message, pattern);
}

const test = suite('package registration (the deployment stand-in)');

test('PublisherId is the family name hash Windows computes (Microsoft\'s own publisher → 8wekyb3d8bbwe)', () => {
  assert.is(publisherId('CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US'), '8wekyb3d8bbwe');
});

test('a sparse package registers loose, with progress; found by name with its full name and external location; again with the same contents', async () => {
  using standIn = installDeploymentStandIn();
  using fixture = await app();
  const progress: string[] = [];
  const registered = (await registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir, onProgress: (p) => void progress.push(`${p.state} ${p.percent}`) }))!;
  assert.equal(progress, ['queued 0', 'processing 50', 'completed 100']);
  const publisher = readFileSync(join(fixture.packageDir, 'AppxManifest.xml'), 'utf8').match(/Publisher="([^"]+)"/)![1]!.replaceAll('&quot;', '"');
  assert.is(registered.fullName, `Winbg.Register_1.0.0.0_x64__${publisherId(publisher)}`);
  assert.equal([registered.name, registered.version, registered.externalPath, registered.developmentMode], ['Winbg.Register', '1.0.0.0', fixture.dir, true]);
  assert.equal(findPackages('Winbg.Register').map((p) => p.fullName), [registered.fullName]);
  assert.equal(findPackages('Winbg.Other'), []);
  await registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir });
  assert.is(standIn.packages.size, 1, 'registering the same contents again is no new package');
});

test('the same version with other contents registers again in place; a new version replaces the old one', async () => {
  using standIn = installDeploymentStandIn();
  using fixture = await app();
  await registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir });
  await reinit(fixture, undefined, 'primes renamed');
  const again = (await registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir }))!;
  assert.is(standIn.packages.size, 1);
  assert.match(standIn.packages.get(again.fullName)!.manifestText, /primes renamed/, 'the edited manifest is the registered one');
  await reinit(fixture, '1.0.1.0', 'primes renamed');
  const newer = (await registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir }))!;
  assert.equal([newer.version, [...standIn.packages.keys()]], ['1.0.1.0', [newer.fullName]]);
});

test('a lower version than the one registered is refused, saying what to do; allowDowngrade (ForceUpdateFromAnyVersion) replaces it', async () => {
  using standIn = installDeploymentStandIn();
  using fixture = await app(['--version', '1.2.0.0']);
  const higher = (await registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir }))!;
  // 1.10 is higher than 1.2: the parts compare as numbers, not as text.
  for (const [version, refused] of [['1.1.9.0', true], ['1.10.0.0', false]] as const) {
    await reinit(fixture, version);
    if (!refused) {
      assert.is((await registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir }))!.version, version, 'an upgrade needs no option');
      continue;
    }
    const error = await rejection(registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir }));
    assert.instance(error, ComError);
    assert.is((error as ComError).hresult, 0x80073d06 | 0);
    assert.match(error.message, /higher version of this package is registered.*--version.*allowDowngrade/);
    assert.match(error.message, /has version 1\.1\.9\.0\. A higher version 1\.2\.0\.0/, 'Windows\' text too');
    assert.equal([...standIn.packages.keys()], [higher.fullName], 'the higher version stays');
  }
  await reinit(fixture, '1.0.0.0');
  const lower = (await registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir, allowDowngrade: true }))!;
  assert.equal([lower.version, [...standIn.packages.keys()]], ['1.0.0.0', [lower.fullName]], 'forced: the lower version replaces the higher');
});

test('an update while the app runs: deferred until it exits (IsRegistered false, said so), refused without deferral, forced with ForceAppShutdown', async () => {
  using standIn = installDeploymentStandIn();
  using fixture = await app();
  const first = (await registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir }))!;
  const family = `Winbg.Register_${first.fullName.split('__')[1]}`;
  standIn.running.add(family);
  const same = await rejection(registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir }));
  assert.equal([(same as ComError).hresult, /deferred the registration/.test(same.message), standIn.deferred.has(family)], [0x80073d02 | 0, true, true], 'the same version again, running: deferred too');
  standIn.exited(family);
  standIn.running.add(family);
  await reinit(fixture, '1.0.1.0');
  // registerPackage asks for DeferRegistrationWhenPackagesAreInUse: the new version waits.
  const deferred = await rejection(registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir }));
  assert.is((deferred as ComError).hresult, 0x80073d02 | 0);
  assert.match(deferred.message, /deferred the registration until the package's processes exit.*close the app/);
  assert.equal([[...standIn.packages.keys()], standIn.deferred.get(family)?.info.version], [[first.fullName], '1.0.1.0'], 'the running version stays registered meanwhile');
  standIn.exited(family);
  assert.equal([...standIn.packages.values()].map((p) => p.info.version), ['1.0.1.0'], 'applied once the app exited');
  // Through the projection, without deferral: refused; with ForceAppShutdown: the app is shut down and the version registered.
  standIn.running.add(family);
  await reinit(fixture, '1.0.2.0');
  const manager = PackageManager.create();
  const registerWith = (configure: (options: RegisterPackageOptions) => void): Promise<unknown> => {
    const options = RegisterPackageOptions.create();
    options.DeveloperMode = true;
    options.ExternalLocationUri = Uri.create(pathToFileURL(fixture.dir).href);
    configure(options);
    return asPromise(manager.RegisterPackageByUriAsync(Uri.create(pathToFileURL(join(fixture.packageDir, 'AppxManifest.xml')).href), options));
  };
  const refused = (await rejection(registerWith(() => {}))) as ComError;
  assert.equal([refused.hresult, /processes are running/.test(refused.message)], [0x80073d02 | 0, true]);
  await registerWith((o) => void (o.ForceAppShutdown = true));
  assert.equal([[...standIn.packages.values()].map((p) => p.info.version), standIn.running.has(family)], [['1.0.2.0'], false], 'forced: shut down, registered');
});

test('every deployment HRESULT winbg explains says what to do', () => {
  const fixes: [number, RegExp][] = [
    [0x80073cf0, /unsigned, its Publisher does not match/],
    [0x80073cf3, /unregister it first.*ProcessorArchitecture/],
    [0x80073cf6, /manifest is not valid.*winbg package init/],
    [0x80073cfb, /raise its Version \(winbg package init --version\) or `winbg package unregister`/],
    [0x80073cff, /developer mode \(Settings > System > For developers > Developer Mode\)/],
    [0x80073d02, /close the app/],
    [0x80073d06, /raise the manifest's Version above it.*--allow-downgrade/],
    [0x80073d54, /<msix> element names the package's Publisher, Name and application Id/],
    [0x800b0100, /sign it, add it with allowUnsigned/],
    [0x800b0109, /Trusted People/],
  ];
  for (const [hresult, fix] of fixes) assert.match(explainDeployment(hresult) ?? '(none)', fix, hresult.toString(16));
  assert.is(explainDeployment(0x80004005), undefined, 'E_FAIL is not a deployment code');
});

test('developer mode off: 0x80073CFF, explained with where to turn it on', async () => {
  using _standIn = installDeploymentStandIn({ developerMode: false });
  using fixture = await app();
  const error = await rejection(registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir })) as ComError;
  assert.is(error.hresult, 0x80073cff | 0);
  assert.match(error.message, /developer mode \(Settings > System > For developers > Developer Mode\)/);
  assert.equal(findPackages('Winbg.Register'), []);
});

test('refused before Windows is asked: no package folder, no manifest, a malformed one, an external location without the launcher', async () => {
  using _standIn = installDeploymentStandIn();
  using fixture = await app();
  await rejects(registerPackage({ package: join(fixture.dir, 'missing') }), /package .*missing does not exist \(run `winbg package init` first/);
  await rejects(registerPackage({ package: fixture.dir }), /holds no AppxManifest\.xml/);
  await rejects(registerPackage({ package: join(fixture.dir, 'app.js') }), /is a file but not a \.msix or \.appx/);
  await rejects(registerPackage({ package: fixture.packageDir, externalLocation: join(fixture.packageDir) }), /Executable winbg-node\.exe is not in the external location/);
  writeFileSync(join(fixture.packageDir, 'AppxManifest.xml'), '<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10">\n  <Identity Name="x"\n</Package>');
  await rejects(registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir }), /AppxManifest\.xml:3:\d+: not well-formed XML/);
  await rejects(registerPackage(null as never), /expected options/);
});

test('the stand-in\'s own rules, called through the projection as Windows\' PackageManager would be: 0x80073CF6 with the line, the external location, DeveloperMode', async () => {
  using _standIn = installDeploymentStandIn();
  using fixture = await app();
  const manager = PackageManager.create();
  const register = async (configure: (options: RegisterPackageOptions) => void): Promise<ComError> => {
    const options = RegisterPackageOptions.create();
    configure(options);
    return (await rejection(asPromise(manager.RegisterPackageByUriAsync(Uri.create(pathToFileURL(join(fixture.packageDir, 'AppxManifest.xml')).href), options)))) as ComError;
  };
  const noMode = await register(() => {});
  assert.is(noMode.hresult, 0x80073cff | 0);
  const noLocation = await register((o) => void (o.DeveloperMode = true));
  assert.equal([noLocation.hresult, /no ExternalLocationUri/.test(noLocation.message)], [0x80073cf6 | 0, true]);
  const empty = await register((o) => {
    o.DeveloperMode = true;
    o.ExternalLocationUri = Uri.create(pathToFileURL(fixture.packageDir).href);
  });
  assert.match(empty.message, /the executable winbg-node\.exe is not in the external location/);
  writeFileSync(join(fixture.packageDir, 'AppxManifest.xml'), '<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10">\n</Package>');
  const invalid = await register((o) => void (o.DeveloperMode = true));
  assert.is(invalid.hresult, 0x80073cf6 | 0);
  assert.match(invalid.message, /App manifest validation error: .*the manifest has no <Identity>/);
});

test('unregister removes every registration of the name; removing what is not registered is 0x80073CF1', async () => {
  using standIn = installDeploymentStandIn();
  using fixture = await app();
  const registered = (await registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir }))!;
  const removed = await unregisterPackage('Winbg.Register');
  assert.equal(removed.map((p) => p.fullName), [registered.fullName]);
  assert.is(standIn.packages.size, 0);
  assert.equal(await unregisterPackage('Winbg.Register'), [], 'nothing left to remove');
  const error = (await rejection(asPromise(PackageManager.create().RemovePackageAsync(registered.fullName)))) as ComError;
  assert.is(error.hresult, 0x80073cf1 | 0);
});

test('winbg package register | status | unregister: what each prints, the progress, and misuse named', async () => {
  using _standIn = installDeploymentStandIn();
  using fixture = await app();
  const written: string[] = [];
  const progress = { write: (text: string) => void written.push(text), isTTY: false };
  const status = await packageCommand(['status'], { cwd: fixture.dir });
  assert.equal([status.exitCode, status.output], [1, 'Winbg.Register is not registered for this user (winbg package register)\n']);
  const registered = await packageCommand(['register'], { cwd: fixture.dir, progress });
  assert.is(registered.exitCode, 0);
  assert.match(registered.output, /^registered Winbg\.Register_1\.0\.0\.0_x64__\w{13} \(developer mode\)\n  installed: .*\n  external location: /);
  assert.equal(written.map((line) => line.replace(/^\[[█░]+\] +/, '')), ['0% queued\n', '50% processing\n', '100% completed\n']);
  assert.match((await packageCommand(['status', '--name', 'Winbg.Register'], { cwd: fixture.dir })).output, /^registered Winbg\.Register_/);
  assert.match((await packageCommand(['unregister'], { cwd: fixture.dir })).output, /^unregistered Winbg\.Register_1\.0\.0\.0_x64__\w{13}\n$/);
  assert.is((await packageCommand(['unregister'], { cwd: fixture.dir })).output, 'no registration to remove\n');
  await rejects(packageCommand(['register', '--package', 'nowhere'], { cwd: fixture.dir }), /--package .*nowhere does not exist/);
  await rejects(packageCommand(['register', '--app-dir', 'package'], { cwd: fixture.dir }), /Executable winbg-node\.exe is not in the external location/);
  await rejects(packageCommand(['status', '--package', 'nowhere'], { cwd: fixture.dir }), /package status needs --name/);
  await rejects(packageCommand(['register', '--bogus'], { cwd: fixture.dir }), /--bogus/);
  // A downgrade: refused, then --allow-downgrade.
  await reinit(fixture, '2.0.0.0');
  assert.is((await packageCommand(['register'], { cwd: fixture.dir })).exitCode, 0);
  await reinit(fixture, '1.0.0.0');
  await rejects(packageCommand(['register'], { cwd: fixture.dir }), /0x80073D06.*--allow-downgrade/s);
  assert.match((await packageCommand(['register', '--allow-downgrade'], { cwd: fixture.dir })).output, /^registered Winbg\.Register_1\.0\.0\.0_x64__/);
});

const missing = suite('package registration without Windows.Management.Deployment');
missing('no PackageManager (off Windows, or Wine): a ComError that names the class and what it needs', async () => {
  using fixture = await app();
  const error = (await rejection(registerPackage({ package: fixture.packageDir, externalLocation: fixture.dir }))) as ComError;
  assert.instance(error, ComError);
  // Wine 8 has no PackageManager; Wine 10 has one, but no RegisterPackageOptions.
  assert.match(error.message, isWindows ? /Windows\.Management\.Deployment\.\w+ is not available here: package registration needs Windows 10 2004 or later/ : /not available here|runtime classes are activated by Windows/, error.message);
});

test.run();
missing.run();
