// The registration API (winbg/tasks) against the portable host's emulation of Windows: the same
// code that runs on Windows registers, lists, reports progress and completion, and unregisters.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComError, E_ACCESSDENIED, ERROR_NOT_SUPPORTED, Guid, initializeCom, registerClassObject } from '../../lib/com/index.js';
import { createHost, ManualClock, type BackgroundHost } from '../../lib/host/index.js';
import {
  applicationTrigger, defineBackgroundTask, explain, listBackgroundTasks, maintenanceTrigger, registerBackgroundTask,
  requestBackgroundAccess, systemTrigger, timeTrigger, unregisterBackgroundTask,
} from '../../lib/tasks/index.js';

const MINUTE = 60_000;
const test = suite('registerBackgroundTask and friends');
let host: BackgroundHost;
let clock: ManualClock;
let served: Disposable;
const clsid = Guid.parse('7a0c9d3e-1b2f-4e5a-8c6d-9e0f1a2b3c01');
const progress: number[] = [];
let fail = false;

test.before(() => {
  initializeCom('mta');
});
test.before.each(() => {
  clock = new ManualClock();
  host = createHost({ clock, clsidTriggers: 'all' });
  progress.length = 0;
  fail = false;
  const task = defineBackgroundTask({
    clsid,
    run(instance) {
      instance.progress = 40;
      instance.progress = 100;
      if (fail) throw new ComError(E_ACCESSDENIED, 'the task refused');
    },
  });
  served = registerClassObject(clsid, task.classDefinition);
});
test.after.each(() => {
  served[Symbol.dispose]();
  host.close();
});

test('registers once by name; replace makes a new one; list and unregister', () => {
  const first = registerBackgroundTask({ name: 'primes', clsid, trigger: timeTrigger(15) }).registration;
  assert.is(first.name, 'primes');
  const again = registerBackgroundTask({ name: 'primes', clsid, trigger: timeTrigger(30) }).registration;
  assert.ok(again.taskId.equals(first.taskId), 'the existing registration is returned, not a second one');
  assert.is(listBackgroundTasks().length, 1);
  const replaced = registerBackgroundTask({ name: 'primes', clsid, trigger: timeTrigger(30), replace: true }).registration;
  assert.not.ok(replaced.taskId.equals(first.taskId));
  assert.equal(listBackgroundTasks().map((r) => r.name), ['primes']);
  registerBackgroundTask({ name: 'other', clsid, trigger: maintenanceTrigger(60, { oneShot: true }) });
  assert.is(unregisterBackgroundTask('primes'), 1);
  assert.is(unregisterBackgroundTask('primes'), 0);
  assert.equal(listBackgroundTasks().map((r) => r.name), ['other']);
});

test('onProgress and onCompleted report a run; a failure arrives as a ComError', async () => {
  const registration = registerBackgroundTask({ name: 'primes', clsid, trigger: timeTrigger(15) }).registration;
  const completions: (ComError | null)[] = [];
  const offProgress = registration.onProgress((value) => progress.push(value));
  const offCompleted = registration.onCompleted((error) => completions.push(error));
  let completion = host.waitForCompletion('primes');
  host.fire('primes');
  await completion;
  assert.equal(progress, [40, 100]);
  assert.equal(completions, [null]);
  fail = true;
  completion = host.waitForCompletion('primes');
  host.fire('primes');
  await completion;
  assert.is(completions.length, 2);
  assert.instance(completions[1], ComError);
  assert.is(completions[1]!.hresult, E_ACCESSDENIED);
  offProgress();
  offCompleted[Symbol.dispose](); // one Subscription type: callable and disposable
  offCompleted();
  const seen = [progress.length, completions.length];
  fail = false;
  completion = host.waitForCompletion('primes');
  host.fire('primes');
  await completion;
  assert.equal([progress.length, completions.length], seen, 'neither handler is called after it was removed');
});

test('a task whose promise rejects after Run returned: its deferral completes, Completed sees the failure', async () => {
  const late = Guid.parse('7a0c9d3e-1b2f-4e5a-8c6d-9e0f1a2b3c02');
  const task = defineBackgroundTask({
    clsid: late,
    async run() {
      await new Promise((resolve) => setTimeout(resolve, 1));
      throw new ComError(E_ACCESSDENIED, 'refused later');
    },
  });
  using _server = registerClassObject(late, task.classDefinition);
  const registration = registerBackgroundTask({ name: 'late', clsid: late, trigger: timeTrigger(15) }).registration;
  const completions: (ComError | null)[] = [];
  registration.onCompleted((error) => completions.push(error));
  const completion = host.waitForCompletion('late');
  host.fire('late');
  const run = await completion;
  assert.is(run.state, 'failed');
  assert.is(run.deferralsCompleted, 1, 'the deferral was completed');
  assert.is(completions.length, 1);
  assert.is(completions[0]!.hresult, E_ACCESSDENIED);
  assert.match(completions[0]!.message, /refused later/);
});

test('application triggers are requested by the app', async () => {
  const trigger = applicationTrigger();
  await trigger.request().then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /register a task with this trigger before requesting it/));
  registerBackgroundTask({ name: 'on demand', clsid, trigger });
  const completion = host.waitForCompletion('on demand'); // the next run of that registration
  assert.is(await trigger.request(), 'Allowed');
  const run = await completion;
  assert.is(run.state, 'completed');
  assert.is(run.progress, 100);
  // The app starts again: the registration exists, and a new trigger object requests it.
  const again = applicationTrigger();
  const same = registerBackgroundTask({ name: 'on demand', clsid, trigger: again }).registration;
  assert.is(same.name, 'on demand');
  const second = host.waitForCompletion('on demand');
  assert.is(await again.request(), 'Allowed', 'the existing registration\'s trigger is requested');
  assert.is((await second).state, 'completed');
  // A registration of that name made with another trigger: said so.
  registerBackgroundTask({ name: 'timed', clsid, trigger: timeTrigger(15) });
  const mismatch = applicationTrigger();
  registerBackgroundTask({ name: 'timed', clsid, trigger: mismatch });
  await mismatch.request().then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /"timed" already existed with another kind of trigger; register with replace: true/));
});

test('conditions and options reach the registration; validation happens before Windows sees anything', () => {
  registerBackgroundTask({ name: 'net', clsid, trigger: systemTrigger('InternetAvailable'), conditions: ['InternetAvailable', 'UserPresent'], cancelOnConditionLoss: true, isNetworkRequested: true });
  assert.equal(listBackgroundTasks().map((r) => r.name), ['net']);
  assert.throws(() => timeTrigger(10), /whole number from 15/);
  assert.throws(() => timeTrigger(15.5), /got 15\.5/);
  assert.throws(() => maintenanceTrigger(0), /maintenanceTrigger: minutes/);
  assert.throws(() => systemTrigger('Nope' as never), /unknown SystemTriggerType "Nope" \(use SmsReceived, UserPresent/);
  assert.throws(() => registerBackgroundTask({ name: 'x', clsid, trigger: timeTrigger(15), conditions: ['Sunny' as never] }), /unknown SystemConditionType "Sunny"/);
  assert.throws(() => registerBackgroundTask({ name: '', clsid, trigger: timeTrigger(15) }), /name must be a non-empty string/);
  assert.throws(() => registerBackgroundTask({ name: 'x', clsid: 'nope', trigger: timeTrigger(15) }), /Invalid GUID "nope"/);
  assert.throws(() => registerBackgroundTask({ name: 'x', clsid, trigger: {} as never }), /trigger must come from timeTrigger/);
  assert.equal(listBackgroundTasks().map((r) => r.name), ['net'], 'nothing was registered by the failed calls');
});

test('an existing registration is reported as it differs: trigger from Windows, CLSID, conditions and flags from winbg\'s record', () => {
  const other = Guid.parse('7a0c9d3e-1b2f-4e5a-8c6d-9e0f1a2b3c02');
  const first = registerBackgroundTask({ name: 'primes', clsid, trigger: timeTrigger(15), conditions: ['UserPresent'] });
  assert.equal([first.created, first.changed, first.unverified], [true, [], []]);
  const same = registerBackgroundTask({ name: 'primes', clsid: String(clsid).toLowerCase(), trigger: timeTrigger(15), conditions: ['UserPresent'], replace: 'if-changed' });
  assert.equal([same.created, same.changed, same.unverified], [false, [], []], 'the same registration: kept, even with if-changed');
  assert.ok(same.registration.taskId.equals(first.registration.taskId));

  const different = registerBackgroundTask({ name: 'primes', clsid: other, trigger: maintenanceTrigger(60, { oneShot: true }), conditions: ['InternetAvailable', 'UserPresent'], isNetworkRequested: true });
  assert.not.ok(different.created, 'reported, not replaced, unless asked');
  assert.equal(different.changed, [
    { property: 'trigger', registered: 'TimeTrigger(15 min)', requested: 'MaintenanceTrigger(60 min, one shot)' },
    { property: 'clsid', registered: String(clsid), requested: String(other) },
    { property: 'conditions', registered: 'UserPresent', requested: 'InternetAvailable, UserPresent' },
    { property: 'isNetworkRequested', registered: 'false', requested: 'true' },
  ]);
  assert.ok(different.registration.taskId.equals(first.registration.taskId));

  const replaced = registerBackgroundTask({ name: 'primes', clsid: other, trigger: timeTrigger(15), replace: 'if-changed' });
  assert.ok(replaced.created, 'if-changed replaces one that differs');
  assert.equal(replaced.changed.map((c) => c.property), ['clsid', 'conditions'], 'and says what the old one had');
  assert.not.ok(replaced.registration.taskId.equals(first.registration.taskId));
  assert.equal(listBackgroundTasks().map((r) => r.name), ['primes'], 'one registration of that name');
  assert.throws(() => registerBackgroundTask({ name: 'primes', clsid, trigger: timeTrigger(15), replace: 'yes' as never }), /replace must be true, false or 'if-changed', got "yes"/);
});

test('a registration winbg has no record of: CLSID, conditions and flags unverified, and if-changed replaces it', () => {
  const first = registerBackgroundTask({ name: 'primes', clsid, trigger: timeTrigger(15) }).registration;
  const record = join(process.env['WINBG_STATE_DIR']!, 'registrations', `${String(first.taskId).toLowerCase()}.json`);
  assert.ok(existsSync(record), 'the record is kept in WINBG_STATE_DIR');
  writeFileSync(record, '{ not json');
  const kept = registerBackgroundTask({ name: 'primes', clsid, trigger: timeTrigger(15) });
  assert.equal([kept.created, kept.changed, kept.unverified], [false, [], ['clsid', 'conditions', 'cancelOnConditionLoss', 'isNetworkRequested']], 'an unreadable record is no record');
  const replaced = registerBackgroundTask({ name: 'primes', clsid, trigger: timeTrigger(15), replace: 'if-changed' });
  assert.ok(replaced.created);
  assert.not.ok(existsSync(record), 'unregistering removed the old record');
  assert.is(unregisterBackgroundTask('primes'), 1);
  assert.not.ok(existsSync(join(process.env['WINBG_STATE_DIR']!, 'registrations', `${String(replaced.registration.taskId).toLowerCase()}.json`)));
});

test('Windows refusing a trigger for a COM task is explained', () => {
  host.close();
  host = createHost({ clock }); // clsidTriggers 'windows': system triggers are refused for COM tasks
  try {
    registerBackgroundTask({ name: 'sys', clsid, trigger: systemTrigger('TimeZoneChange') });
    assert.unreachable();
  } catch (error) {
    assert.is((error as ComError).hresult, ERROR_NOT_SUPPORTED);
    assert.match((error as ComError).message, /only time and maintenance triggers for a task registered with SetTaskEntryPointClsid/);
  }
  assert.match(explain(0x80073d54 | 0)!, /no package identity.*sparse package/s);
});

test('requestBackgroundAccess gives the status by name', async () => {
  assert.type(await requestBackgroundAccess(), 'string');
  host.access = 'DeniedByUser' as never;
  const status = await requestBackgroundAccess();
  assert.ok(/Denied/.test(status), status);
  clock.advance(MINUTE);
});

test.run();
