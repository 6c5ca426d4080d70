// The committed projection (lib/generated): its types resolve, instantiations get the IIDs that
// Windows' own headers give them, and `describe` reports slots in ABI order.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import '../../lib/generated/index.js';
import { describe } from '../../lib/winrt/describe.js';
import { guidOf, registeredTypeNames, resolveType } from '../../lib/winrt/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const test = suite('generated projection');

test('the Background namespace and its closure are registered and resolve', () => {
  const names = registeredTypeNames();
  assert.ok(names.length > 600, `${names.length} types`);
  for (const name of [
    'Windows.ApplicationModel.Background.BackgroundTaskBuilder',
    'Windows.ApplicationModel.Background.IBackgroundTask',
    'Windows.ApplicationModel.Background.TimeTrigger',
    'Windows.ApplicationModel.Background.SystemTriggerType',
    'Windows.Foundation.IAsyncOperation`1',
    'Windows.Foundation.Collections.IMapView`2',
    'Windows.System.User',
    'Windows.Storage.ApplicationData',
  ]) assert.ok(names.includes(name), name);
  // Every interface and delegate that is not generic builds, with every method parsed.
  let methods = 0;
  const placeholders: string[] = [];
  for (const name of names) {
    const type = resolveTypeSafe(name);
    if (!type || (type.kind !== 'interface' && type.kind !== 'delegate')) continue;
    for (const method of type.iface.methods) {
      methods++;
      if (method.unavailable) placeholders.push(method.unavailable);
    }
  }
  assert.ok(methods > 1000, `${methods} methods`);
  // Only methods of the depth-limited roots may reach beyond the projection (winmd/projection.json).
  assert.ok(placeholders.length <= methods / 100, placeholders.join('\n'));
  assert.ok(placeholders.every((p) => !p.startsWith('Windows.ApplicationModel.Background.') && !p.startsWith('Windows.Foundation.')), placeholders.join('\n'));
});

function resolveTypeSafe(name: string): ReturnType<typeof resolveType> | null {
  try {
    return resolveType(name);
  } catch (error) {
    if (/takes \d+ type argument/.test(String(error))) return null; // a generic definition
    throw error;
  }
}

test('guidOf: instantiations get the IIDs of the Windows SDK headers', () => {
  const cases: [string, string][] = [
    ['Windows.Foundation.Collections.IIterable`1<Windows.Foundation.Collections.IKeyValuePair`2<Guid, Windows.ApplicationModel.Background.IBackgroundTaskRegistration>>', '80FB0327-5A00-55CC-85DB-A852719981B9'],
    ['Windows.Foundation.Collections.IIterable<Windows.Foundation.Collections.IKeyValuePair<Guid, Windows.ApplicationModel.Background.BackgroundTaskRegistration>>', '62AE0FDA-B238-554F-A275-1DC16D6CA03A'],
    ['Windows.Foundation.Collections.IIterable`1<String>', 'E2FCC7C1-3BFC-5A0B-B2B0-72E769D1CB7E'],
    ['Windows.Foundation.Collections.IIterable<Windows.Foundation.Collections.IKeyValuePair<Guid, Object>>', 'F3B20528-E3B3-5331-B2D0-0C2623AEE785'],
  ];
  for (const [name, iid] of cases) assert.is(guidOf(name).toString(), iid, name);
  assert.is(guidOf('Windows.ApplicationModel.Background.IBackgroundTask').toString(), '7D13D534-FD12-43CE-8C22-EA1FF13C06DF');
  assert.is(guidOf('Windows.ApplicationModel.Background.BackgroundTaskBuilder').toString(), guidOf('Windows.ApplicationModel.Background.IBackgroundTaskBuilder').toString(), 'a class has its default interface\'s GUID');
  const mapView = guidOf('Windows.Foundation.Collections.IMapView`2<Guid, Windows.ApplicationModel.Background.IBackgroundTaskRegistration>');
  assert.is(mapView.toString().length, 36);
  assert.throws(() => guidOf('Windows.ApplicationModel.Background.NoSuchType'), /Unknown WinRT type Windows\.ApplicationModel\.Background\.NoSuchType/);
});

test('describe: slots in ABI order with ABI and metadata names, for every kind', () => {
  const builder = describe('Windows.ApplicationModel.Background.IBackgroundTaskBuilder');
  assert.is(builder.kind, 'interface');
  assert.is(builder.iid, '0351550E-3E64-4572-A93A-84075A37C917');
  assert.equal(builder.methods.map((m) => m.name), ['put_TaskEntryPoint', 'get_TaskEntryPoint', 'SetTrigger', 'AddCondition', 'put_Name', 'get_Name', 'Register']);
  assert.equal(builder.methods[2]!.params, [{ name: 'trigger', type: 'Windows.ApplicationModel.Background.IBackgroundTrigger', direction: 'in' }]);
  assert.is(builder.methods[6]!.returns, 'Windows.ApplicationModel.Background.BackgroundTaskRegistration');
  const api = describe('Windows.Foundation.Metadata.IApiInformationStatics');
  const overload = api.methods.find((m) => m.name === 'IsApiContractPresentByMajor')!;
  assert.is(overload.metadataName, 'IsApiContractPresent', 'the Overload attribute gives the ABI name');
  assert.is(describe('Windows.ApplicationModel.Background.BackgroundTaskBuilder').kind, 'class');
  const handler = describe('Windows.ApplicationModel.Background.BackgroundTaskCanceledEventHandler');
  assert.is(handler.kind, 'delegate');
  assert.equal(handler.methods.map((m) => m.name), ['Invoke']);
  const reason = describe('Windows.ApplicationModel.Background.BackgroundTaskCancellationReason');
  assert.is(reason.kind, 'enum');
  assert.is(reason.values!.Abort, 0);
  assert.equal(describe('Windows.Foundation.Point').fields, [{ name: 'X', type: 'Single' }, { name: 'Y', type: 'Single' }]);
  const generic = describe('Windows.Foundation.IAsyncOperation`1<Boolean>');
  assert.equal(generic.methods.map((m) => m.name), ['put_Completed', 'get_Completed', 'GetResults']);
  assert.is(generic.iid, guidOf('Windows.Foundation.IAsyncOperation`1<Boolean>').toString());
  assert.throws(() => describe('Nope.Nothing'), /Unknown WinRT type Nope\.Nothing/);
});

test('npx winbg describe prints JSON; an unknown name exits 1 with the reason', () => {
  const cli = join(here, '..', '..', 'lib', 'cli.js');
  const ok = spawnSync(process.execPath, [cli, 'describe', 'Windows.ApplicationModel.Background.IBackgroundTask'], { encoding: 'utf8' });
  if (ok.error || ok.status === null) {
    // Under Wine a child's pipes are not readable (see NOTES); the in-process describe is tested above.
    return;
  }
  assert.is(ok.status, 0, ok.stderr);
  const json = JSON.parse(ok.stdout) as { name: string; iid: string; methods: { name: string }[] };
  assert.is(json.iid, '7D13D534-FD12-43CE-8C22-EA1FF13C06DF');
  assert.equal(json.methods.map((m) => m.name), ['Run']);
  const bad = spawnSync(process.execPath, [cli, 'describe', 'Nope.Type'], { encoding: 'utf8' });
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /Unknown WinRT type Nope\.Type/);
  const usage = spawnSync(process.execPath, [cli, 'frobnicate'], { encoding: 'utf8' });
  assert.is(usage.status, 2);
  assert.match(usage.stderr, /unknown command frobnicate/);
});

test.run();
