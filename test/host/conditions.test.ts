// SystemConditionType conditions: the state the host evaluates them against, a trigger latched
// until its conditions hold, and CancelOnConditionLoss.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Conditions, createHost, ManualClock } from '../../lib/host/index.js';
import type { BackgroundTaskCanceledError } from '../../lib/tasks/task.js';
import { Background, register, serveTask } from './support.js';

const { SystemConditionType } = Background;

const state = suite('Conditions');

state('defaults: a present user, online, on a free network, in a connected session', () => {
  const conditions = new Conditions();
  assert.equal(Object.fromEntries(conditions.entries()), {
    UserPresent: true,
    UserNotPresent: false,
    InternetAvailable: true,
    InternetNotAvailable: false,
    SessionConnected: true,
    SessionDisconnected: false,
    FreeNetworkAvailable: true,
    BackgroundWorkCostNotHigh: true,
  });
});

state('a condition and its negation are one fact; listeners hear of changes only', () => {
  const conditions = new Conditions({ InternetNotAvailable: true });
  assert.is(conditions.get('InternetAvailable'), false);
  assert.is(conditions.get(SystemConditionType.InternetNotAvailable), true, 'by value too');
  const heard: [string, boolean][] = [];
  const stop = conditions.onChange((name, value) => heard.push([name, value]));
  conditions.set('InternetAvailable', true);
  conditions.set('InternetNotAvailable', false);
  conditions.set('UserNotPresent', true);
  stop();
  conditions.set('UserPresent', true);
  assert.equal(heard, [['InternetAvailable', true], ['UserNotPresent', true]]);
  assert.is(conditions.get('UserPresent'), true);
});

state('unknown names, Invalid, contradictions and non-booleans are refused', () => {
  assert.throws(() => new Conditions({ UserPresent: true, UserNotPresent: true }), /UserPresent and UserNotPresent contradict each other/);
  const conditions = new Conditions();
  assert.throws(() => conditions.get('Sunny' as never), /"Sunny" is not a SystemConditionType/);
  assert.throws(() => conditions.set(SystemConditionType.Invalid, true), /is not a SystemConditionType/);
  assert.throws(() => conditions.set('UserPresent', 1 as never), /true or false/);
});

state.run();

const latching = suite('conditions of a registration');

latching('a trigger whose conditions do not hold is latched, and runs once when they do', async () => {
  const clock = new ManualClock();
  using host = createHost({ clock, conditions: { InternetAvailable: false } });
  let runs = 0;
  using served = serveTask(() => void runs++);
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'online', trigger, clsid: served.clsid, conditions: [SystemConditionType.InternetAvailable, SystemConditionType.UserPresent] });
  host.fire('online');
  clock.advance(1000);
  host.fire('online');
  await host.settled();
  assert.is(runs, 0);
  assert.equal(host.log.filter((e) => e.type === 'latched' || e.type === 'coalesced').map((e) => [e.type, e.waitingFor]), [
    ['latched', ['InternetAvailable']],
    ['coalesced', ['InternetAvailable']],
  ]);
  host.conditions.set('UserPresent', false);
  host.conditions.set('InternetAvailable', true);
  await host.settled();
  assert.is(runs, 0, 'every condition must hold');
  clock.advance(1000);
  host.conditions.set('UserPresent', true);
  const run = await host.waitForCompletion('online');
  assert.is(runs, 1, 'the latched fires ran once');
  assert.equal([run.triggeredAt, run.startedAt], [0, 2000], 'it ran when the conditions came, not when the trigger fired');
  host.fire('online');
  await host.settled();
  assert.is(runs, 2, 'with its conditions met, a trigger runs at once');
});

latching('CancelOnConditionLoss: losing a condition cancels the run with ConditionLoss; without it the run goes on', async () => {
  using host = createHost({ clock: new ManualClock() });
  const reasons: [string, string][] = [];
  const releases: (() => void)[] = [];
  const task = (name: string) => serveTask(async (_instance, signal) => {
    await new Promise<void>((resolve) => {
      releases.push(resolve);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    if (signal.aborted) reasons.push([name, (signal.reason as BackgroundTaskCanceledError).reason]);
  });
  using strict = task('strict');
  using lenient = task('lenient');
  using trigger = Background.TimeTrigger.create(15, false);
  using a = register({ name: 'strict', trigger, clsid: strict.clsid, conditions: [SystemConditionType.InternetAvailable], cancelOnConditionLoss: true });
  using b = register({ name: 'lenient', trigger, clsid: lenient.clsid, conditions: [SystemConditionType.InternetAvailable] });
  host.fire('strict');
  host.fire('lenient');
  await host.settled();
  host.conditions.set('UserPresent', false);
  assert.equal(host.runs.map((r) => r.state), ['running', 'running'], 'a condition the task does not require changes nothing');
  host.conditions.set('InternetAvailable', false);
  const strictRun = await host.waitForCompletion('strict');
  assert.equal([strictRun.state, strictRun.cancelReason], ['completed', 'ConditionLoss']);
  assert.is(host.runs[1]!.state, 'running');
  releases.forEach((release) => release());
  const lenientRun = await host.waitForCompletion('lenient');
  assert.equal([lenientRun.state, lenientRun.cancelReason], ['completed', null]);
  assert.equal(reasons, [['strict', 'ConditionLoss']]);
});

latching.run();
