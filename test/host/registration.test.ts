// The host's registration store through the generated projection: what Register returns, what
// AllTasks lists, duplicates, Unregister, and the factories' lifetime.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CLASS_E_CLASSNOTAVAILABLE, ComError, E_ILLEGAL_STATE_CHANGE, Guid, REGDB_E_CLASSNOTREG } from '../../lib/com/index.js';
import { createHost, ManualClock } from '../../lib/host/index.js';
import { Background, register } from './support.js';

const CLSID = Guid.parse('5a0c3e7b-21d4-4f3a-8b6e-0c9d8e7f6a51');

const hresultOf = (action: () => unknown): number => {
  try {
    action();
  } catch (error) {
    return (error as ComError).hresult;
  }
  return 0;
};

const test = suite('registrations');

test('Register returns the registration: Name, a new TaskId, the trigger it was given', () => {
  using host = createHost({ clock: new ManualClock() });
  using trigger = Background.TimeTrigger.create(30, false);
  using registration = register({ name: 'sync', trigger, clsid: CLSID });
  assert.is(registration.winrtType, 'Windows.ApplicationModel.Background.BackgroundTaskRegistration');
  assert.is(registration.Name, 'sync');
  assert.instance(registration.TaskId, Guid);
  assert.not.ok(registration.TaskId.equals(CLSID), 'the TaskId identifies the registration, not the entry point');
  using registered = registration.Trigger;
  assert.ok(registered.comPtr().equals(trigger.comPtr()), 'Trigger is the very trigger object');
  assert.is(registration.TaskGroup, null);
  assert.equal(registration.TaskLastThrottledInStandbyTimestamp, { UniversalTime: 0n });
  assert.is(registration.AppEnergyUsePredictionContribution, 0);
  assert.ok(host.registrations[0]!.taskId.equals(registration.TaskId));
});

test('AllTasks: an IMapView<Guid, IBackgroundTaskRegistration> of the same objects, in registration order', () => {
  using host = createHost({ clock: new ManualClock() });
  assert.is(Background.BackgroundTaskRegistration.AllTasks.size, 0);
  using trigger = Background.TimeTrigger.create(15, false);
  using a = register({ name: 'a', trigger, clsid: CLSID });
  using b = register({ name: 'b', trigger, clsid: CLSID });
  using all = Background.BackgroundTaskRegistration.AllTasks;
  assert.is(all.size, 2);
  assert.equal([...all.keys()].map(String), [a.TaskId, b.TaskId].map(String));
  using found = all.get(b.TaskId)!;
  assert.is(found.Name, 'b');
  assert.ok(found.comPtr().equals(b.comPtr()), 'one COM object per registration');
  assert.is(all.get(CLSID), undefined, 'keyed by TaskId');
  assert.is(host.registrations.length, 2);
});

test('the same name twice: Windows keeps both, with different TaskIds', () => {
  using host = createHost({ clock: new ManualClock() });
  using trigger = Background.TimeTrigger.create(15, false);
  using first = register({ name: 'twice', trigger, clsid: CLSID });
  using second = register({ name: 'twice', trigger, clsid: CLSID });
  assert.not.ok(first.TaskId.equals(second.TaskId));
  using all = Background.BackgroundTaskRegistration.AllTasks;
  assert.equal([...all.values()].map((r) => r.Name), ['twice', 'twice']);
  assert.is(host.fire('twice'), 2, 'a name names both');
  assert.is(host.fire(first.TaskId), 1, 'a TaskId names one');
});

test('Unregister removes one registration; again does nothing', () => {
  using host = createHost({ clock: new ManualClock() });
  using trigger = Background.TimeTrigger.create(15, false);
  using first = register({ name: 'dup', trigger, clsid: CLSID });
  using second = register({ name: 'dup', trigger, clsid: CLSID });
  first.Unregister(false);
  first.Unregister(true);
  first.Unregister(false);
  using all = Background.BackgroundTaskRegistration.AllTasks;
  assert.equal([...all.keys()].map(String), [String(second.TaskId)], 'the other one stays');
  assert.is(first.Name, 'dup', 'the unregistered object still answers');
  assert.equal(host.log.filter((e) => e.type === 'unregistered').length, 1);
  second.Unregister(false);
  assert.is(Background.BackgroundTaskRegistration.AllTasks.size, 0);
  assert.is(host.fire('dup'), 0);
});

test('the factories live as long as the host; one host at a time', () => {
  using first = createHost({ clock: new ManualClock() }); // closed below; `using` is for a failure before
  assert.is(hresultOf(() => createHost()), E_ILLEGAL_STATE_CHANGE);
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'gone', trigger, clsid: CLSID });
  first.close();
  first.close();
  assert.ok(first.closed);
  assert.is(hresultOf(() => Background.BackgroundTaskBuilder.create()), REGDB_E_CLASSNOTREG, 'no Windows and no host: no class');
  // Wine 10 registers the namespace's DLL, which cannot make the class: CLASS_E_CLASSNOTAVAILABLE.
  assert.ok([REGDB_E_CLASSNOTREG, CLASS_E_CLASSNOTAVAILABLE].includes(hresultOf(() => Background.BackgroundTaskRegistration.AllTasks)), 'statics too');
  registration.Unregister(true); // harmless on a closed host
  using second = createHost({ clock: new ManualClock() });
  assert.is(Background.BackgroundTaskRegistration.AllTasks.size, 0, 'a new host starts empty (registrations live in the host)');
  using again = register({ name: 'again', trigger, clsid: CLSID });
  assert.is(Background.BackgroundTaskRegistration.AllTasks.size, 1, 'statics reach the host open now');
});

test.run();
