// BackgroundTaskBuilder.Register's validation in the host, through the generated projection:
// each rule fails Register (not the factories) with its HRESULT, and Validate agrees.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComError, E_ACCESSDENIED, E_INVALIDARG, ERROR_NOT_SUPPORTED, Guid, isWindows } from '../../lib/com/index.js';
import { createHost, ManualClock, MIN_FRESHNESS_MINUTES } from '../../lib/host/index.js';
import { Background, ifaceOf, register } from './support.js';

const CLSID = Guid.parse('8f7d1c2e-3b4a-4d5e-9f60-718293a4b5c6');
const { SystemConditionType, SystemTriggerType } = Background;

/**
 * The HRESULT `action` fails with. The host's explanation travels with it where COM keeps error
 * information (Windows: RoOriginateError); elsewhere the caller sees the HRESULT alone.
 */
function failure(action: () => unknown, message?: RegExp): number {
  try {
    action();
  } catch (error) {
    assert.instance(error, ComError);
    if (message && isWindows) assert.match((error as ComError).message, message);
    return (error as ComError).hresult;
  }
  assert.unreachable('expected a ComError');
  return 0;
}

const test = suite('BackgroundTaskBuilder.Register: validation');

test('a complete builder registers; Validate says so first', () => {
  using host = createHost({ clock: new ManualClock() });
  using builder = Background.BackgroundTaskBuilder.create();
  assert.is(builder.Validate(), false, 'an empty builder');
  builder.Name = 'complete';
  using trigger = Background.TimeTrigger.create(15, false);
  builder.SetTrigger(trigger);
  builder.SetTaskEntryPointClsid(CLSID);
  assert.is(builder.Validate(), true);
  using registration = builder.Register();
  assert.is(registration.Name, 'complete');
  assert.is(host.registrations.length, 1);
});

test('no trigger: E_INVALIDARG', () => {
  using host = createHost({ clock: new ManualClock() });
  using builder = Background.BackgroundTaskBuilder.create();
  builder.Name = 'no trigger';
  builder.SetTaskEntryPointClsid(CLSID);
  assert.is(failure(() => builder.Register()), E_INVALIDARG);
  assert.is(builder.Validate(), false);
  assert.is(host.registrations.length, 0, 'nothing was registered');
});

test('no entry point (neither SetTaskEntryPointClsid nor TaskEntryPoint): E_INVALIDARG', () => {
  using host = createHost({ clock: new ManualClock() });
  using builder = Background.BackgroundTaskBuilder.create();
  builder.Name = 'no entry point';
  using trigger = Background.TimeTrigger.create(30, false);
  builder.SetTrigger(trigger);
  assert.is(failure(() => builder.Register()), E_INVALIDARG);
  builder.TaskEntryPoint = 'Tasks.Named';
  assert.is(builder.TaskEntryPoint, 'Tasks.Named');
  assert.is(builder.Validate(), true, 'a TaskEntryPoint name is an entry point');
  builder.TaskEntryPoint = '';
  assert.is(builder.Validate(), false, 'an empty TaskEntryPoint is none');
  assert.is(host.registrations.length, 0);
});

test('an empty name: E_INVALIDARG', () => {
  using host = createHost({ clock: new ManualClock() });
  using trigger = Background.TimeTrigger.create(15, false);
  assert.is(failure(() => register({ name: '', trigger, clsid: CLSID })), E_INVALIDARG);
  assert.is(host.registrations.length, 0);
});

test('freshness under 15 minutes: the factories accept it, Register fails with E_INVALIDARG', () => {
  using host = createHost({ clock: new ManualClock() });
  assert.is(MIN_FRESHNESS_MINUTES, 15);
  for (const factory of [Background.TimeTrigger, Background.MaintenanceTrigger]) {
    using short = factory.create(14, false);
    assert.is(short.FreshnessTime, 14, 'created as asked');
    assert.is(failure(() => register({ name: 'short', trigger: short, clsid: CLSID }), /FreshnessTime must be at least 15 minutes, got 14/), E_INVALIDARG);
    using zero = factory.create(0, true);
    assert.is(failure(() => register({ name: 'zero', trigger: zero, clsid: CLSID })), E_INVALIDARG);
    using enough = factory.create(15, true);
    using registration = register({ name: 'enough', trigger: enough, clsid: CLSID });
    assert.is(registration.Name, 'enough');
  }
  assert.equal(host.registrations.map((r) => r.trigger), ['TimeTrigger(15 min, one shot)', 'MaintenanceTrigger(15 min, one shot)']);
});

test('SystemTrigger and ApplicationTrigger with a COM entry point: ERROR_NOT_SUPPORTED, as on Windows', () => {
  using host = createHost({ clock: new ManualClock() });
  using system = Background.SystemTrigger.create(SystemTriggerType.InternetAvailable, false);
  assert.is(failure(() => register({ name: 'system', trigger: system, clsid: CLSID }), /SystemTrigger\(InternetAvailable\) is not supported for a task with a COM entry point/), ERROR_NOT_SUPPORTED);
  using application = Background.ApplicationTrigger.create();
  assert.is(failure(() => register({ name: 'application', trigger: application, clsid: CLSID })), ERROR_NOT_SUPPORTED);
  using named = register({ name: 'by name', trigger: system, entryPoint: 'Tasks.Network' });
  assert.is(named.Name, 'by name', 'a TaskEntryPoint task takes any trigger');
  assert.is(host.registrations.length, 1);
});

test("with clsidTriggers: 'all', a COM task takes SystemTrigger and ApplicationTrigger", () => {
  using host = createHost({ clock: new ManualClock(), clsidTriggers: 'all' });
  using system = Background.SystemTrigger.create(SystemTriggerType.SessionConnected, true);
  using application = Background.ApplicationTrigger.create();
  using a = register({ name: 'system', trigger: system, clsid: CLSID });
  using b = register({ name: 'application', trigger: application, clsid: CLSID });
  assert.equal(host.registrations.map((r) => r.trigger), ['SystemTrigger(SessionConnected, one shot)', 'ApplicationTrigger']);
});

test('SystemTriggerType and SystemConditionType Invalid (or unknown): E_INVALIDARG', () => {
  using host = createHost({ clock: new ManualClock(), clsidTriggers: 'all' });
  using invalid = Background.SystemTrigger.create(SystemTriggerType.Invalid, false);
  assert.is(invalid.TriggerType, SystemTriggerType.Invalid);
  assert.is(failure(() => register({ name: 'invalid', trigger: invalid, clsid: CLSID })), E_INVALIDARG);
  using unknown = Background.SystemTrigger.create(99, false);
  assert.is(failure(() => register({ name: 'unknown', trigger: unknown, clsid: CLSID })), E_INVALIDARG);
  using trigger = Background.TimeTrigger.create(15, false);
  assert.is(failure(() => register({ name: 'bad condition', trigger, clsid: CLSID, conditions: [SystemConditionType.Invalid] }), /ConditionType 0/), E_INVALIDARG);
  assert.is(failure(() => register({ name: 'bad condition', trigger, clsid: CLSID, conditions: [SystemConditionType.UserPresent, 42] })), E_INVALIDARG);
  assert.is(host.registrations.length, 0);
});

test('background access denied: E_ACCESSDENIED until access is allowed again', async () => {
  using host = createHost({ clock: new ManualClock(), access: 'DeniedByUser' });
  using trigger = Background.TimeTrigger.create(15, false);
  using before = register({ name: 'before asking', trigger, clsid: CLSID });
  assert.is(before.Name, 'before asking', 'registering without RequestAccessAsync is allowed (Unspecified)');
  assert.is(await Background.BackgroundExecutionManager.RequestAccessAsync(), Background.BackgroundAccessStatus.DeniedByUser);
  assert.is(failure(() => register({ name: 'denied', trigger, clsid: CLSID }), /background access is denied/), E_ACCESSDENIED);
  host.access = 'AllowedSubjectToSystemPolicy';
  using after = register({ name: 'allowed', trigger, clsid: CLSID });
  assert.equal(host.registrations.map((r) => r.name), ['before asking', 'allowed']);
});

test('a trigger or condition the host does not emulate: ERROR_NOT_SUPPORTED', () => {
  using host = createHost({ clock: new ManualClock() });
  using builder = Background.BackgroundTaskBuilder.create();
  builder.Name = 'foreign';
  builder.SetTaskEntryPointClsid(CLSID);
  // A JS object that implements IBackgroundTrigger, but is none of the host's triggers.
  builder.SetTrigger({ interfaces: [ifaceOf('IBackgroundTrigger')] } as never);
  assert.is(failure(() => builder.Register(), /emulates TimeTrigger, MaintenanceTrigger, SystemTrigger and ApplicationTrigger only/), ERROR_NOT_SUPPORTED);
  using trigger = Background.TimeTrigger.create(15, false);
  builder.SetTrigger(trigger);
  builder.AddCondition({ interfaces: [ifaceOf('IBackgroundCondition')] } as never);
  assert.is(failure(() => builder.Register(), /SystemCondition only/), ERROR_NOT_SUPPORTED);
  assert.is(host.registrations.length, 0);
});

test('builder properties round-trip', () => {
  using host = createHost({ clock: new ManualClock() });
  using builder = Background.BackgroundTaskBuilder.create();
  assert.is(builder.Name, '');
  assert.is(builder.CancelOnConditionLoss, false);
  builder.CancelOnConditionLoss = true;
  builder.IsNetworkRequested = true;
  builder.AllowRunningTaskInStandby = true;
  assert.is(builder.CancelOnConditionLoss, true);
  assert.is(builder.IsNetworkRequested, true);
  assert.is(builder.AllowRunningTaskInStandby, true);
  assert.is(Background.BackgroundTaskBuilder.IsRunningTaskInStandbySupported, false);
  assert.ok(host.registrations.length === 0);
});

test.run();
