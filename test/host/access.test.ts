// BackgroundExecutionManager in the host: RequestAccessAsync returns the injected decision,
// GetAccessStatus follows it, RemoveAccess forgets it, and denied access stops triggers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHost, ManualClock } from '../../lib/host/index.js';
import { Background, register, serveTask } from './support.js';

const { BackgroundAccessStatus, BackgroundAccessRequestKind } = Background;
const Manager = Background.BackgroundExecutionManager;

const test = suite('background access');

test('Unspecified until requested; RequestAccessAsync grants the decision; RemoveAccess forgets it', async () => {
  using host = createHost({ clock: new ManualClock() });
  assert.is(Manager.GetAccessStatus(), BackgroundAccessStatus.Unspecified);
  assert.is(host.accessStatus, 'Unspecified');
  assert.is(await Manager.RequestAccessAsync(), BackgroundAccessStatus.AllowedSubjectToSystemPolicy, 'the default decision');
  assert.is(Manager.GetAccessStatus(), BackgroundAccessStatus.AllowedSubjectToSystemPolicy);
  assert.is(Manager.GetAccessStatus('App'), BackgroundAccessStatus.AllowedSubjectToSystemPolicy, 'ForApplication alike');
  Manager.RemoveAccess();
  assert.is(Manager.GetAccessStatus(), BackgroundAccessStatus.Unspecified);
  assert.equal(host.log.filter((e) => e.type === 'access').map((e) => e.value), ['AllowedSubjectToSystemPolicy', 'Unspecified']);
});

test('the injected decision, and the user changing it later', async () => {
  using host = createHost({ clock: new ManualClock(), access: 'AlwaysAllowed' });
  host.access = 'DeniedByUser';
  assert.is(Manager.GetAccessStatus(), BackgroundAccessStatus.Unspecified, 'not requested yet');
  assert.is(await Manager.RequestAccessAsync(), BackgroundAccessStatus.DeniedByUser);
  assert.is(await Manager.RequestAccessKindAsync(BackgroundAccessRequestKind.AlwaysAllowed, 'sync mail'), false);
  host.access = 'AlwaysAllowed';
  assert.is(Manager.GetAccessStatus(), BackgroundAccessStatus.AlwaysAllowed, 'the setting changed after the request');
  assert.is(await Manager.RequestAccessKindAsync(BackgroundAccessRequestKind.AllowedSubjectToSystemPolicy, 'sync mail'), true);
  assert.throws(() => (host.access = 'Sometimes' as never), /"Sometimes" is not a BackgroundAccessStatus/);
});

test('while access is denied, triggers are dropped; registrations stay', async () => {
  using host = createHost({ clock: new ManualClock(), access: 'Denied' });
  let runs = 0;
  using served = serveTask(() => void runs++);
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'denied', trigger, clsid: served.clsid });
  await Manager.RequestAccessAsync();
  assert.is(host.fire('denied'), 0, 'none taken');
  await host.settled();
  assert.is(runs, 0);
  assert.equal(host.log.filter((e) => e.type === 'dropped').map((e) => e.message), ['background access is Denied']);
  host.access = 'AllowedSubjectToSystemPolicy';
  host.fire('denied');
  await host.settled();
  assert.is(runs, 1);
  assert.is(Background.BackgroundTaskRegistration.AllTasks.size, 1);
});

test.run();
