// A background task's whole life in the host, written the way an app and a task are written:
// the generated projection to register, defineBackgroundTask for the task, registerClassObject
// to serve it. The host activates the class and calls Run through the vtable.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComError, E_ACCESSDENIED, E_ABORT, E_FAIL, E_INVALIDARG, ERROR_CANCELLED, Guid, REGDB_E_CLASSNOTREG } from '../../lib/com/index.js';
import { createHost, GRACE_PERIOD_EXPIRED, ManualClock } from '../../lib/host/index.js';
import type { BackgroundTaskCanceledError, RunRecord } from '../../lib/tasks/task.js';
import { Background, flush, MINUTE, register, serveTask } from './support.js';

const { BackgroundTaskCancellationReason } = Background;

/** What Completed reported: the sender's name, the InstanceId, and CheckResult's HRESULT (0 when it returns). */
type Completion = [name: string, instanceId: string, hresult: number];

function watchCompleted(registration: Background.BackgroundTaskRegistration, into: Completion[]): Disposable {
  return registration.onCompleted((sender, args) => {
    let hresult = 0;
    try {
      args.CheckResult();
    } catch (error) {
      hresult = (error as ComError).hresult;
    }
    into.push([sender.Name, String(args.InstanceId), hresult]);
  });
}

const never = (): Promise<void> => new Promise(() => {});
const aborted = (signal: AbortSignal): Promise<void> => new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

const test = suite('a task run');

test('register → trigger → activate → Run → progress → deferral → Completed', async () => {
  const clock = new ManualClock();
  using host = createHost({ clock });
  const seen: { id: Guid; task: string | undefined; details: unknown; suspended: number; throttled: number }[] = [];
  let finish!: () => void;
  using served = serveTask(async (instance) => {
    seen.push({
      id: instance.instanceId,
      task: (instance.task as Background.BackgroundTaskRegistration | null)?.Name,
      details: instance.triggerDetails,
      suspended: instance.suspendedCount,
      throttled: instance.throttleCount('Cpu'),
    });
    instance.progress = 10;
    await new Promise<void>((resolve) => (finish = resolve));
    instance.progress = 100;
  });
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'lifecycle', trigger, clsid: served.clsid });
  const progress: [string, number, string][] = [];
  const completed: Completion[] = [];
  using onProgress = registration.onProgress((sender, args) => progress.push([sender.Name, args.Progress, String(args.InstanceId)]));
  using onCompleted = watchCompleted(registration, completed);

  clock.advance(15 * MINUTE - 1);
  await host.settled();
  assert.is(seen.length, 0, 'not before its freshness time');
  clock.advance(1);
  assert.is(host.runs[0]!.state, 'activating', 'activated on a later turn, as Windows does');
  await host.settled();
  assert.is(seen.length, 1, 'Run was called');
  const id = String(seen[0]!.id);
  assert.equal({ ...seen[0]!, id }, { id, task: 'lifecycle', details: null, suspended: 0, throttled: 0 });
  assert.is(host.runs[0]!.state, 'running');
  assert.is(host.runs[0]!.deferrals, 1, 'the async task took a deferral');
  assert.equal(progress, [['lifecycle', 10, id]]);
  assert.equal(completed, [], 'the deferral holds the run open after Run returned');

  finish();
  const run = await host.waitForCompletion('lifecycle');
  assert.is(String(run.instanceId), id);
  assert.equal(progress.map(([, value]) => value), [10, 100]);
  assert.equal(completed, [['lifecycle', id, 0]]);
  assert.equal(
    { state: run.state, hresult: run.hresult, progress: run.progress, deferrals: run.deferrals, completedDeferrals: run.deferralsCompleted, startedAt: run.startedAt, trigger: run.trigger },
    { state: 'completed', hresult: 0, progress: 100, deferrals: 1, completedDeferrals: 1, startedAt: 15 * MINUTE, trigger: 'TimeTrigger(15 min)' },
  );
  assert.equal(
    host.log.filter((e) => String(e.instanceId) === id || e.type === 'triggered').map((e) => e.type),
    ['triggered', 'activated', 'progress', 'deferral', 'progress', 'deferral-completed', 'completed'],
  );
  assert.ok(host.log.every((e) => e.time === 0 || e.time === 15 * MINUTE), 'times are the host clock\'s');
});

test('each run has its own InstanceId; a run without a deferral ends when Run returns', async () => {
  const clock = new ManualClock();
  using host = createHost({ clock });
  const ids: string[] = [];
  using served = serveTask((instance) => void ids.push(String(instance.instanceId)));
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'sync', trigger, clsid: served.clsid });
  host.fire('sync');
  await host.settled();
  host.fire('sync');
  await host.settled();
  assert.is(ids.length, 2);
  assert.is.not(ids[0], ids[1]);
  assert.equal(host.runs.map((r) => [r.state, r.deferrals]), [['completed', 0], ['completed', 0]]);
  assert.equal(host.runs.map((r) => String(r.instanceId)), ids);
});

test('cancel with each BackgroundTaskCancellationReason: Canceled carries it, the task ends, Completed succeeds', async () => {
  using host = createHost({ clock: new ManualClock() });
  const reasons: string[] = [];
  using served = serveTask(async (_instance, signal) => {
    await aborted(signal);
    reasons.push((signal.reason as BackgroundTaskCanceledError).reason);
  });
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'cancel me', trigger, clsid: served.clsid });
  const completed: Completion[] = [];
  using onCompleted = watchCompleted(registration, completed);
  const names = Object.keys(BackgroundTaskCancellationReason);
  assert.is(names.length, 12);
  for (const [i, name] of names.entries()) {
    host.fire('cancel me');
    await host.settled();
    const reason = i % 2 === 0 ? name : BackgroundTaskCancellationReason[name as keyof typeof BackgroundTaskCancellationReason];
    assert.is(host.cancel('cancel me', reason as never), 1);
    assert.is(host.cancel('cancel me', reason as never), 0, 'a second cancel does nothing');
    const run = await host.waitForCompletion('cancel me');
    assert.equal([run.state, run.cancelReason, run.hresult], ['completed', name, 0]);
  }
  assert.equal(reasons, names);
  assert.equal(completed.map(([, , hresult]) => hresult), names.map(() => 0));
  assert.equal(host.log.filter((e) => e.type === 'canceled').map((e) => e.reason), names);
});

test('the Canceled handler gets the instance and the reason through the projection', async () => {
  using host = createHost({ clock: new ManualClock() });
  const calls: [string, number][] = [];
  using served = serveTask(async (instance, signal) => {
    const raw = instance.raw as unknown as Background.IBackgroundTaskInstance;
    using subscription = raw.onCanceled((sender, reason) => calls.push([String(sender.InstanceId), reason]));
    await aborted(signal);
  });
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'sender', trigger, clsid: served.clsid });
  host.fire('sender');
  await host.settled();
  const id = host.runs[0]!.instanceId;
  assert.is(host.cancel(id, 'LoggingOff'), 1, 'an InstanceId names the run');
  await host.waitForCompletion(id);
  assert.equal(calls, [[String(id), BackgroundTaskCancellationReason.LoggingOff]]);
});

test('a canceled run that keeps its deferral is terminated after the grace period', async () => {
  const clock = new ManualClock();
  using host = createHost({ clock });
  using served = serveTask(never);
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'stuck', trigger, clsid: served.clsid });
  const completed: Completion[] = [];
  using onCompleted = watchCompleted(registration, completed);
  host.fire('stuck');
  await host.settled();
  host.cancel('stuck', 'Terminating');
  clock.advance(4999);
  assert.is(host.runs[0]!.state, 'canceling', 'Windows gives it about five seconds');
  const ended = host.waitForCompletion('stuck');
  clock.advance(1);
  const run = await ended;
  assert.equal([run.state, run.hresult, run.endedAt, run.deferrals, run.deferralsCompleted], ['terminated', GRACE_PERIOD_EXPIRED, 5000, 1, 0]);
  assert.match(run.error!.message, /terminated 5000 ms after it was canceled \(Terminating\): 1 deferral not completed/);
  assert.equal(completed.map(([, , hresult]) => hresult), [GRACE_PERIOD_EXPIRED], 'CheckResult throws it');
  assert.equal(host.log.filter((e) => e.type === 'terminated').map((e) => e.deferrals), [1]);
});

test('graceMs sets the grace period; a task that finishes within it completes', async () => {
  const clock = new ManualClock();
  using host = createHost({ clock, graceMs: 1000 });
  let stop!: () => void;
  using served = serveTask(async (_instance, signal) => {
    await aborted(signal);
    await new Promise<void>((resolve) => (stop = resolve)); // cleans up for a while
  });
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'slow to stop', trigger, clsid: served.clsid });
  host.fire('slow to stop');
  await host.settled();
  host.cancel('slow to stop');
  await flush();
  clock.advance(999);
  stop();
  const run = await host.waitForCompletion('slow to stop');
  assert.equal([run.state, run.cancelReason, run.hresult], ['completed', 'Abort', 0]);
  host.fire('slow to stop');
  await host.settled();
  host.cancel('slow to stop');
  const second = host.waitForCompletion('slow to stop');
  clock.advance(1000);
  assert.is((await second).state, 'terminated', 'the next one took too long');
  assert.is(clock.pendingTimers, 1, 'no grace timer left behind: only the time trigger\'s next fire');
});

test('Run that throws: Completed.CheckResult throws its HRESULT (E_FAIL for a plain Error)', async () => {
  using host = createHost({ clock: new ManualClock() });
  using invalid = serveTask(() => {
    throw new ComError(E_INVALIDARG, 'the task refuses');
  });
  using plain = serveTask(() => {
    throw new TypeError('oops');
  });
  using trigger = Background.TimeTrigger.create(15, false);
  using a = register({ name: 'throws ComError', trigger, clsid: invalid.clsid });
  using b = register({ name: 'throws Error', trigger, clsid: plain.clsid });
  const completed: Completion[] = [];
  using onA = watchCompleted(a, completed);
  using onB = watchCompleted(b, completed);
  host.fire('throws ComError');
  host.fire('throws Error');
  const [first, second] = await Promise.all([host.waitForCompletion('throws ComError'), host.waitForCompletion('throws Error')]);
  assert.equal([first.state, first.hresult], ['failed', E_INVALIDARG]);
  assert.equal([second.state, second.hresult], ['failed', E_FAIL]);
  assert.match(first.error!.message, /throws ComError: IBackgroundTask\.Run failed/);
  assert.equal(completed.map(([name, , hresult]) => [name, hresult]).sort(), [['throws ComError', E_INVALIDARG], ['throws Error', E_FAIL]]);
});

test('an async task that rejects: its deferral is completed exactly once, Completed sees the failure (IWinbgRunReport), onRunEnded has the error', async () => {
  using host = createHost({ clock: new ManualClock() });
  const ended: RunRecord[] = [];
  using served = serveTask(async () => {
    await Promise.resolve();
    throw new ComError(E_ACCESSDENIED, 'failed later');
  });
  const stop = served.task.onRunEnded((record) => ended.push(record));
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'rejects', trigger, clsid: served.clsid });
  const completed: Completion[] = [];
  using onCompleted = watchCompleted(registration, completed);
  host.fire('rejects');
  const run = await host.waitForCompletion('rejects');
  stop();
  assert.equal([run.state, run.hresult, run.deferrals, run.deferralsCompleted], ['failed', E_ACCESSDENIED, 1, 1]);
  assert.is(host.log.filter((e) => e.type === 'deferral-completed').length, 1);
  assert.equal(completed.map(([, , hresult]) => hresult), [E_ACCESSDENIED], 'the task reported its rejection to the host before completing the deferral');
  assert.is(ended.length, 1);
  assert.is((ended[0]!.error as ComError).hresult, E_ACCESSDENIED);
  assert.ok(ended[0]!.instanceId.equals(run.instanceId));
});

test("a task's own deferrals: the run ends when the last one is completed; completing one twice is harmless", async () => {
  using host = createHost({ clock: new ManualClock() });
  const deferrals: Background.BackgroundTaskDeferral[] = [];
  using served = serveTask((instance) => {
    const raw = instance.raw as unknown as Background.IBackgroundTaskInstance;
    deferrals.push(raw.GetDeferral(), raw.GetDeferral());
  });
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'deferred', trigger, clsid: served.clsid });
  host.fire('deferred');
  await host.settled();
  const [first, second] = deferrals;
  assert.equal([host.runs[0]!.state, host.runs[0]!.deferrals], ['running', 2], 'Run returned; the deferrals hold the run');
  first!.Complete();
  first!.Complete();
  assert.is(host.runs[0]!.state, 'running', 'completing the same deferral twice does not count twice');
  second!.Complete();
  assert.equal([host.runs[0]!.state, host.runs[0]!.deferralsCompleted], ['completed', 2]);
  second!.Complete();
  first!.dispose();
  second!.dispose();
  assert.equal(host.log.filter((e) => e.type === 'deferral-completed').map((e) => e.deferrals), [1, 2]);
});

test('a run canceled before its task was activated never runs', async () => {
  using host = createHost({ clock: new ManualClock() });
  let ran = false;
  using served = serveTask(() => void (ran = true));
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'too late', trigger, clsid: served.clsid });
  host.fire('too late');
  const ended = host.waitForCompletion('too late');
  assert.is(host.cancel('too late', 'ServicingUpdate'), 1);
  const run = await ended;
  await host.settled();
  assert.equal([run.state, run.hresult, run.cancelReason, ran], ['failed', ERROR_CANCELLED, 'ServicingUpdate', false]);
});

test('a trigger while an instance runs is latched and runs next; more coalesce into it', async () => {
  using host = createHost({ clock: new ManualClock() });
  const releases: (() => void)[] = [];
  using served = serveTask(() => new Promise<void>((resolve) => releases.push(resolve)));
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'busy', trigger, clsid: served.clsid });
  host.fire('busy');
  await host.settled();
  host.fire('busy');
  host.fire('busy');
  await host.settled();
  assert.is(releases.length, 1, 'one instance at a time');
  assert.equal(host.log.filter((e) => e.type === 'latched' || e.type === 'coalesced').map((e) => [e.type, e.waitingFor]), [
    ['latched', ['the running instance']],
    ['coalesced', ['the running instance']],
  ]);
  releases[0]!();
  await host.waitForCompletion('busy');
  await host.settled();
  assert.is(releases.length, 2, 'the latched trigger ran');
  releases[1]!();
  await host.waitForCompletion('busy');
  await host.settled();
  assert.is(releases.length, 2, 'and only once');
  assert.equal(host.runs.map((r) => r.state), ['completed', 'completed']);
});

test('Unregister(true) cancels the running instance (Abort); Unregister(false) lets it finish', async () => {
  using host = createHost({ clock: new ManualClock() });
  const releases = new Map<string, () => void>();
  using served = serveTask(async (instance, signal) => {
    const name = (instance.task as Background.BackgroundTaskRegistration).Name;
    await Promise.race([aborted(signal), new Promise<void>((resolve) => releases.set(name, resolve))]);
  });
  using trigger = Background.TimeTrigger.create(15, false);
  using canceled = register({ name: 'canceled', trigger, clsid: served.clsid });
  using finished = register({ name: 'finished', trigger, clsid: served.clsid });
  const completed: Completion[] = [];
  using onA = watchCompleted(canceled, completed);
  using onB = watchCompleted(finished, completed);
  host.fire('canceled');
  host.fire('finished');
  await host.settled();
  canceled.Unregister(true);
  finished.Unregister(false);
  const first = await host.waitForCompletion('canceled');
  assert.equal([first.state, first.cancelReason], ['completed', 'Abort']);
  assert.is(host.runs.find((r) => r.name === 'finished')!.state, 'running', 'left to finish');
  assert.is(Background.BackgroundTaskRegistration.AllTasks.size, 0, 'both are gone from AllTasks already');
  releases.get('finished')!();
  const second = await host.waitForCompletion('finished');
  assert.equal([second.state, second.cancelReason], ['completed', null]);
  assert.equal(completed.map(([name, , hresult]) => [name, hresult]), [['canceled', 0], ['finished', 0]], 'Completed still reaches their handlers');
  assert.is(host.fire('finished'), 0);
});

test('executionTimeLimitMs cancels a run with ExecutionTimeExceeded', async () => {
  const clock = new ManualClock();
  using host = createHost({ clock, executionTimeLimitMs: 30_000 });
  using served = serveTask(async (_instance, signal) => aborted(signal));
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'long', trigger, clsid: served.clsid });
  host.fire('long');
  await host.settled();
  clock.advance(29_999);
  assert.is(host.runs[0]!.state, 'running');
  clock.advance(1);
  const run = await host.waitForCompletion('long');
  assert.equal([run.state, run.cancelReason], ['completed', 'ExecutionTimeExceeded']);
});

test('an entry point that cannot be activated: the run fails with REGDB_E_CLASSNOTREG', async () => {
  using host = createHost({ clock: new ManualClock(), entryPoints: { 'Tasks.Served': Guid.parse(crypto.randomUUID()) } });
  using trigger = Background.TimeTrigger.create(15, false);
  using byClsid = register({ name: 'not served', trigger, clsid: Guid.parse(crypto.randomUUID()) });
  using byName = register({ name: 'unknown name', trigger, entryPoint: 'Tasks.Unknown' });
  const completed: Completion[] = [];
  using onA = watchCompleted(byClsid, completed);
  using onB = watchCompleted(byName, completed);
  host.fire('not served');
  host.fire('unknown name');
  const runs = await Promise.all([host.waitForCompletion('not served'), host.waitForCompletion('unknown name')]);
  assert.equal(runs.map((r) => [r.state, r.hresult]), [['failed', REGDB_E_CLASSNOTREG], ['failed', REGDB_E_CLASSNOTREG]]);
  assert.equal(completed.map(([, , hresult]) => hresult), [REGDB_E_CLASSNOTREG, REGDB_E_CLASSNOTREG]);
});

test('a TaskEntryPoint name runs the COM class entryPoints maps it to', async () => {
  let ran = 0;
  using served = serveTask(() => void ran++);
  using host = createHost({ clock: new ManualClock(), entryPoints: { 'Tasks.Named': served.clsid } });
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'named', trigger, entryPoint: 'Tasks.Named' });
  host.fire('named');
  assert.is((await host.waitForCompletion('named')).state, 'completed');
  assert.is(ran, 1);
});

test('close: running instances are canceled (Terminating) and reported terminated; waiters reject; no timer is left', async () => {
  const clock = new ManualClock();
  using host = createHost({ clock }); // closed by the test; `using` closes it again (harmlessly) if an assertion fails first
  let reason = '';
  using served = serveTask(async (_instance, signal) => {
    await aborted(signal);
    reason = (signal.reason as BackgroundTaskCanceledError).reason;
    await never();
  });
  using trigger = Background.TimeTrigger.create(15, false);
  using registration = register({ name: 'open at close', trigger, clsid: served.clsid });
  const completed: Completion[] = [];
  using onCompleted = watchCompleted(registration, completed);
  host.fire('open at close');
  await host.settled();
  const waiting = host.waitForCompletion('open at close');
  const next = host.waitForCompletion(Guid.parse(crypto.randomUUID())).then(() => null, (error: ComError) => error);
  host.close();
  const run = await waiting;
  await flush();
  assert.is(reason, 'Terminating', 'the task heard why');
  assert.equal([run.state, run.hresult], ['terminated', E_ABORT]);
  assert.match(run.error!.message, /the host closed while the instance ran \(1 deferral not completed\)/);
  assert.equal(completed.map(([, , hresult]) => hresult), [E_ABORT]);
  assert.match((await next)!.message, /host closed/);
  assert.is(clock.pendingTimers, 0, 'the time trigger and the grace timer are gone');
  await host.waitForCompletion('open at close').then(() => assert.unreachable(), (error: ComError) => assert.match(error.message, /closed/));
  assert.is((await host.waitForCompletion(run.instanceId)).state, 'terminated', 'an ended run is still found by its InstanceId');
});

test.run();
