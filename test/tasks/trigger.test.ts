// triggerBackgroundTask (winbg trigger): a registered task runs now, whatever its trigger, through
// IPackageDebugSettings::ActivateBackgroundTask, here the portable host's (lib/host/debug.ts),
// which keeps Windows' rules: a TaskId that is no registration's is ERROR_NOT_FOUND, and the run
// goes as for its trigger (its conditions hold it back).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CLSCTX_INPROC_SERVER, ComError, createInstance, ERROR_NOT_FOUND, Guid, hresultHex, initializeCom, registerClassObject } from '../../lib/com/index.js';
import { createHost, ManualClock, type BackgroundHost } from '../../lib/host/index.js';
import { defineBackgroundTask, IPackageDebugSettings, PACKAGE_DEBUG_SETTINGS_CLSID, registerBackgroundTask, timeTrigger, triggerBackgroundTask } from '../../lib/tasks/index.js';

const test = suite('triggerBackgroundTask');
const clsid = Guid.parse('7a0c9d3e-1b2f-4e5a-8c6d-9e0f1a2b3c21');
let host: BackgroundHost;
let served: Disposable;
let runs = 0;

test.before(() => {
  initializeCom('mta');
});
test.before.each(() => {
  host = createHost({ clock: new ManualClock() });
  runs = 0;
  served = registerClassObject(clsid, defineBackgroundTask({ clsid, run() { runs++; } }).classDefinition);
});
test.after.each(() => {
  served[Symbol.dispose]();
  host.close();
});

test('a 15-minute TimeTrigger\'s task runs at once, by name and by TaskId, without the clock moving', async () => {
  const { registration } = registerBackgroundTask({ name: 'primes', clsid, trigger: timeTrigger(15) });
  const done = host.waitForCompletion('primes');
  const triggered = await triggerBackgroundTask('primes');
  assert.equal(triggered.map((t) => [t.name, t.taskId.toString()]), [['primes', registration.taskId.toString()]]);
  assert.is((await done).state, 'completed');
  assert.is(runs, 1);
  const again = host.waitForCompletion('primes');
  await triggerBackgroundTask(registration.taskId.toString().toLowerCase());
  assert.is((await again).state, 'completed');
  assert.is(runs, 2);
  registration.raw.dispose();
});

test('a run that its conditions hold back waits for them, as for its trigger', async () => {
  host.conditions.set('InternetAvailable', false);
  const { registration } = registerBackgroundTask({ name: 'online', clsid, trigger: timeTrigger(15), conditions: ['InternetAvailable'] });
  await triggerBackgroundTask('online');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.is(runs, 0, 'not while offline');
  const done = host.waitForCompletion('online');
  host.conditions.set('InternetAvailable', true);
  assert.is((await done).state, 'completed');
  registration.raw.dispose();
});

test('no such registration: ERROR_NOT_FOUND naming what there is', async () => {
  registerBackgroundTask({ name: 'primes', clsid, trigger: timeTrigger(15) }).registration.raw.dispose();
  for (const target of ['nope', '6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A90']) {
    await triggerBackgroundTask(target).then(() => assert.unreachable(target), (error: unknown) => {
      assert.instance(error, ComError);
      assert.is((error as ComError).hresult, ERROR_NOT_FOUND, hresultHex((error as ComError).hresult));
      assert.match((error as Error).message, /no background task registration (named "nope"|with TaskId 6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A90) \(there are: primes\)/);
    });
  }
  await triggerBackgroundTask(' ').then(() => assert.unreachable('a blank name'), (error: unknown) => {
    assert.instance(error, TypeError);
    assert.match((error as Error).message, /give the registration's name or its TaskId/);
  });
});

test('the host\'s ActivateBackgroundTask itself refuses a TaskId that is no registration\'s', async () => {
  using settings = await createInstance<{ ActivateBackgroundTask(taskId: Guid): void }>(PACKAGE_DEBUG_SETTINGS_CLSID, IPackageDebugSettings, CLSCTX_INPROC_SERVER);
  try {
    await settings.callAsync('ActivateBackgroundTask', Guid.parse('6B0A5E3C-0D7E-4B61-9F5A-2C8B1E4D7A91'));
    assert.unreachable('an unknown TaskId was taken');
  } catch (error) {
    assert.instance(error, ComError);
    assert.is((error as ComError).hresult, ERROR_NOT_FOUND);
  }
});

test.run();

const without = suite('triggerBackgroundTask without a host');
without('off Windows, or under Wine, which has no Windows.ApplicationModel.Background: a ComError saying so, naming the portable host', async () => {
  await triggerBackgroundTask('primes').then(() => assert.unreachable('it triggered without Windows or a host'), (error: unknown) => {
    assert.instance(error, ComError);
    assert.match((error as Error).message, /Windows\.ApplicationModel\.Background is not available here .*portable host/);
  });
});
without.run();
