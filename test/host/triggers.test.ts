// Triggers in the host: time and maintenance triggers on an injected clock (periodic and one-shot,
// on the 15-minute tick), AC power, system events by name, and ApplicationTrigger.RequestAsync.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComPtr, getRuntimeClassName, Guid } from '../../lib/com/index.js';
import { project, resolveType } from '../../lib/winrt/index.js';
import { createHost, ManualClock } from '../../lib/host/index.js';
import { Background, ifaceOf, MINUTE, register, serveTask } from './support.js';

const { ApplicationTriggerResult, SystemTriggerType } = Background;

const time = suite('time and maintenance triggers');

time('periodic: every freshness period, on the clock', async () => {
  const clock = new ManualClock();
  using host = createHost({ clock });
  const starts: number[] = [];
  using served = serveTask(() => void starts.push(clock.now()));
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'periodic', trigger, clsid: served.clsid });
  await clock.advanceAsync(60 * MINUTE, () => host.settled());
  assert.equal(starts, [15, 30, 45, 60].map((m) => m * MINUTE));
  assert.equal(host.runs.map((r) => r.state), ['completed', 'completed', 'completed', 'completed']);
  assert.is(clock.pendingTimers, 1, 'the next fire is scheduled');
});

time('one-shot: fires once; the registration stays', async () => {
  const clock = new ManualClock();
  using host = createHost({ clock });
  let runs = 0;
  using served = serveTask(() => void runs++);
  using trigger = Background.TimeTrigger.create(30, true);
  using registration = register({ name: 'once', trigger, clsid: served.clsid });
  await clock.advanceAsync(29 * MINUTE, () => host.settled());
  assert.is(runs, 0);
  await clock.advanceAsync(6 * 60 * MINUTE, () => host.settled());
  assert.is(runs, 1);
  assert.is(clock.pendingTimers, 0, 'nothing more is scheduled');
  assert.is(Background.BackgroundTaskRegistration.AllTasks.size, 1);
  assert.is(host.log.filter((e) => e.type === 'triggered').length, 1);
});

time('the 15-minute timer tick: a trigger due between ticks fires on the next one (timerTickMs: 0 fires on time)', async () => {
  for (const [tick, expected] of [[undefined, [30, 45]], [0, [16, 31, 46]]] as const) {
    const clock = new ManualClock();
    using host = createHost({ clock, timerTickMs: tick });
    const starts: number[] = [];
    using served = serveTask(() => void starts.push(clock.now() / MINUTE));
    using trigger = Background.TimeTrigger.create(15, false);
    clock.advance(MINUTE);
    using registration = register({ name: 'late', trigger, clsid: served.clsid });
    await clock.advanceAsync(45 * MINUTE, () => host.settled());
    assert.equal(starts, [...expected], `timerTickMs ${String(tick)}`);
  }
});

time('a long freshness time', async () => {
  const clock = new ManualClock();
  using host = createHost({ clock });
  let runs = 0;
  using served = serveTask(() => void runs++);
  using trigger = Background.TimeTrigger.create(24 * 60, false);
  using registration = register({ name: 'daily', trigger, clsid: served.clsid });
  await clock.advanceAsync(24 * 60 * MINUTE - 1, () => host.settled());
  assert.is(runs, 0);
  await clock.advanceAsync(1, () => host.settled());
  assert.is(runs, 1);
});

time('maintenance: waits for AC power; losing it cancels the run (Abort)', async () => {
  const clock = new ManualClock();
  using host = createHost({ clock, acPower: false });
  const reasons: string[] = [];
  using served = serveTask(async (_instance, signal) => {
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    reasons.push(String((signal.reason as { reason: string }).reason));
  });
  using trigger = Background.MaintenanceTrigger.create(15, false);
  using registration = register({ name: 'maintenance', trigger, clsid: served.clsid });
  await clock.advanceAsync(15 * MINUTE, () => host.settled());
  assert.is(host.runs.length, 0, 'on battery');
  assert.equal(host.log.filter((e) => e.type === 'latched').map((e) => e.waitingFor), [['ACPower']]);
  host.acPower = true;
  await host.settled();
  assert.equal(host.runs.map((r) => [r.state, r.triggeredAt, r.startedAt]), [['running', 15 * MINUTE, 15 * MINUTE]]);
  host.acPower = false;
  const run = await host.waitForCompletion('maintenance');
  assert.equal([run.state, run.cancelReason], ['completed', 'Abort']);
  assert.equal(reasons, ['Abort']);
  assert.equal(host.log.filter((e) => e.type === 'power').map((e) => e.value), [true, false]);
});

time.run();

const system = suite('system triggers');

system('fireSystemTrigger runs the registrations of that type only (TaskEntryPoint tasks, as Windows allows)', async () => {
  const ran: string[] = [];
  using network = serveTask(() => void ran.push('network'));
  using presence = serveTask(() => void ran.push('presence'));
  using host = createHost({ clock: new ManualClock(), entryPoints: { 'Tasks.Network': network.clsid, 'Tasks.Presence': presence.clsid } });
  using online = Background.SystemTrigger.create(SystemTriggerType.InternetAvailable, false);
  using present = Background.SystemTrigger.create(SystemTriggerType.UserPresent, false);
  using a = register({ name: 'network', trigger: online, entryPoint: 'Tasks.Network' });
  using b = register({ name: 'presence', trigger: present, entryPoint: 'Tasks.Presence' });
  assert.is(host.fireSystemTrigger('InternetAvailable'), 1);
  await host.settled();
  assert.equal(ran, ['network']);
  assert.is(host.fireSystemTrigger(SystemTriggerType.UserPresent), 1, 'by value too');
  await host.settled();
  assert.equal(ran, ['network', 'presence']);
  assert.is(host.fireSystemTrigger('TimeZoneChange'), 0);
  assert.throws(() => host.fireSystemTrigger('Sunrise' as never), /"Sunrise" is not a SystemTriggerType/);
  assert.equal(host.runs.map((r) => r.trigger), ['SystemTrigger(InternetAvailable)', 'SystemTrigger(UserPresent)']);
});

system('a one-shot system trigger fires once', async () => {
  using host = createHost({ clock: new ManualClock(), clsidTriggers: 'all' });
  let runs = 0;
  using served = serveTask(() => void runs++);
  using trigger = Background.SystemTrigger.create(SystemTriggerType.SessionConnected, true);
  using registration = register({ name: 'once', trigger, clsid: served.clsid });
  assert.is(host.fireSystemTrigger('SessionConnected'), 1);
  await host.settled();
  assert.is(host.fireSystemTrigger('SessionConnected'), 0);
  await host.settled();
  assert.is(runs, 1);
});

system.run();

const application = suite('ApplicationTrigger.RequestAsync');

application('Allowed: the task runs, with ApplicationTriggerDetails; CurrentlyRunning while it runs', async () => {
  using host = createHost({ clock: new ManualClock(), clsidTriggers: 'all' });
  const details: unknown[] = [];
  let finish!: () => void;
  using served = serveTask(async (instance) => {
    details.push(instance.triggerDetails);
    await new Promise<void>((resolve) => (finish = resolve));
  });
  using trigger = Background.ApplicationTrigger.create();
  using registration = register({ name: 'on demand', trigger, clsid: served.clsid });
  assert.is(await trigger.RequestAsync(), ApplicationTriggerResult.Allowed);
  await host.settled();
  assert.is(details.length, 1);
  // TriggerDetails is an Object: the task asks for the interface it expects, as `as ApplicationTriggerDetails` does in C#.
  using raw = details[0] as ComPtr;
  assert.instance(raw, ComPtr);
  assert.is(getRuntimeClassName(raw), 'Windows.ApplicationModel.Background.ApplicationTriggerDetails');
  using triggerDetails = project(raw.as(ifaceOf('IApplicationTriggerDetails')), resolveType('Windows.ApplicationModel.Background.ApplicationTriggerDetails')) as Background.ApplicationTriggerDetails;
  assert.is(triggerDetails.Arguments, null, 'RequestAsync() passes no arguments');
  assert.is(await trigger.RequestAsync(), ApplicationTriggerResult.CurrentlyRunning, 'the system denied triggering the task because it is running');
  finish();
  await host.waitForCompletion('on demand');
  assert.is(await trigger.RequestAsync(), ApplicationTriggerResult.Allowed);
  await host.settled();
  finish();
  await host.waitForCompletion('on demand');
  assert.is(host.runs.length, 2);
});

application('UnknownError for a trigger no registration uses; DisabledByPolicy when access is denied', async () => {
  using host = createHost({ clock: new ManualClock(), clsidTriggers: 'all' });
  using trigger = Background.ApplicationTrigger.create();
  assert.is(await trigger.RequestAsync(), ApplicationTriggerResult.UnknownError);
  using registration = register({ name: 'app', trigger, clsid: Guid.parse(crypto.randomUUID()) });
  host.access = 'DeniedBySystemPolicy';
  await Background.BackgroundExecutionManager.RequestAccessAsync();
  assert.is(await trigger.RequestAsync(), ApplicationTriggerResult.DisabledByPolicy);
  registration.Unregister(false);
  host.access = 'AlwaysAllowed';
  assert.is(await trigger.RequestAsync(), ApplicationTriggerResult.UnknownError, 'unregistered');
  assert.is(host.runs.length, 0);
});

application.run();
