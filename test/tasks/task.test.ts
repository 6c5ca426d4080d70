// defineBackgroundTask: a JS run(instance, signal) as the COM class IBackgroundTask, driven
// through its vtable by a JS IBackgroundTaskInstance as Windows would drive it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ComError, createInstanceSync, E_ACCESSDENIED, E_FAIL, Guid, registerClassObject, type Com } from '../../lib/com/index.js';
import { BackgroundTaskCanceledError, cancellationReasons, defineBackgroundTask, type RunRecord, type TaskInstance } from '../../lib/tasks/index.js';
import { FakeInstance, ifaceOf } from './support.js';

const CLSID = Guid.parse('14C5882B-35D3-41BE-86B2-5106269B97E6');
const tick = (ms = 1): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Activates the task's class and calls Run(instance) through the vtables; returns Run's outcome. */
function runThroughCom(task: ReturnType<typeof defineBackgroundTask>, instance: FakeInstance): unknown {
  using registration = registerClassObject(task.clsid, task.classDefinition);
  using object = createInstanceSync<{ Run(instance: unknown): void }>(task.clsid, ifaceOf('IBackgroundTask'));
  try {
    object.Run(instance);
    return null;
  } catch (error) {
    return error;
  }
}

const test = suite('defineBackgroundTask');

test('a synchronous run: progress, instance members, no deferral', () => {
  const seen: Partial<Record<keyof TaskInstance, unknown>> = {};
  const task = defineBackgroundTask({
    clsid: CLSID,
    run(instance) {
      instance.progress = 10;
      seen.instanceId = instance.instanceId;
      seen.suspendedCount = instance.suspendedCount;
      seen.triggerDetails = instance.triggerDetails;
      seen.task = instance.task;
      seen.throttleCount = instance.throttleCount('Network');
      assert.throws(() => (instance.progress = 101), /progress must be an integer from 0 to 100, got 101/);
      assert.throws(() => (instance.progress = 1.5), /got 1\.5/);
      assert.throws(() => instance.throttleCount('Disk' as never), /counter must be one of All, Cpu, Network/);
    },
  });
  const instance = new FakeInstance();
  assert.is(runThroughCom(task, instance), null);
  assert.equal(instance.progressLog, [10]);
  assert.ok((seen.instanceId as Guid).equals(instance.id));
  assert.is(seen.suspendedCount, 2);
  assert.is(seen.triggerDetails, null);
  assert.is(seen.task, null);
  assert.is(seen.throttleCount, 12, 'GetThrottleCount(Network = 2) through IBackgroundTaskInstance2');
  assert.is(instance.deferrals, 0);
  assert.is(instance.handlers.size, 0, 'the Canceled handler is removed when run ends');
  assert.is(task.activeInstances, 0);
});

test('an asynchronous run holds a deferral and completes it exactly once when it settles', async () => {
  let finish!: () => void;
  const task = defineBackgroundTask({ clsid: CLSID, run: () => new Promise<void>((resolve) => (finish = resolve)) });
  const ended: RunRecord[] = [];
  task.onRunEnded((record) => ended.push(record));
  const instance = new FakeInstance();
  assert.is(runThroughCom(task, instance), null, 'Run returns at once');
  assert.is(instance.deferrals, 1);
  assert.is(instance.completions, 0);
  assert.is(task.activeInstances, 1);
  finish();
  await tick();
  assert.is(instance.completions, 1);
  assert.is(task.activeInstances, 0);
  assert.is(ended.length, 1);
  assert.is(ended[0]!.error, undefined);
});

test('Canceled becomes the AbortSignal, with the reason by name', async () => {
  let reason: unknown;
  const task = defineBackgroundTask({
    clsid: CLSID,
    run: (_instance, signal) =>
      new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          reason = signal.reason;
          resolve();
        });
      }),
  });
  for (const [code, name] of cancellationReasons().entries()) {
    const instance = new FakeInstance();
    runThroughCom(task, instance);
    instance.cancel(code);
    await tick();
    assert.instance(reason, BackgroundTaskCanceledError);
    assert.is((reason as BackgroundTaskCanceledError).reason, name);
    assert.is((reason as BackgroundTaskCanceledError).code, code);
    assert.is(instance.completions, 1, `deferral completed after ${name}`);
  }
  assert.ok(cancellationReasons().includes('ConditionLoss') && cancellationReasons()[0] === 'Abort');
});

test('rejecting with the signal\'s reason after a cancellation is a normal end, not a failure', async () => {
  const task = defineBackgroundTask({
    clsid: CLSID,
    run: (_instance, signal) => new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
  });
  const ended: RunRecord[] = [];
  task.onRunEnded((record) => ended.push(record));
  const instance = new FakeInstance();
  runThroughCom(task, instance);
  instance.cancel(6);
  await tick();
  assert.is(instance.completions, 1);
  assert.is(ended[0]!.error, undefined);
  assert.is(ended[0]!.canceled!.reason, 'ConditionLoss');
});

test('a synchronous throw is the HRESULT Run returns; the server keeps serving', () => {
  let calls = 0;
  const task = defineBackgroundTask({
    clsid: CLSID,
    run() {
      calls++;
      if (calls === 1) throw new ComError(E_ACCESSDENIED, 'no access');
      throw new Error('plain');
    },
  });
  const first = runThroughCom(task, new FakeInstance());
  assert.instance(first, ComError);
  assert.is((first as ComError).hresult, E_ACCESSDENIED);
  const second = runThroughCom(task, new FakeInstance());
  assert.is((second as ComError).hresult, E_FAIL);
  assert.is(task.activeInstances, 0);
});

test('a rejection still completes the deferral once, and is reported to watchers', async () => {
  const task = defineBackgroundTask({ clsid: CLSID, run: async () => { await tick(); throw new Error('late failure'); } });
  const ended: RunRecord[] = [];
  task.onRunEnded((record) => ended.push(record));
  const instance = new FakeInstance();
  assert.is(runThroughCom(task, instance), null);
  await tick(10);
  assert.is(instance.completions, 1);
  assert.match(String(ended[0]!.error), /late failure/);
});

test('a class with a static clsid and a run method; one object per run', () => {
  const objects = new Set<object>();
  class Counting {
    static readonly clsid = CLSID;
    run(instance: TaskInstance): void {
      objects.add(this);
      instance.progress = 50;
    }
  }
  const task = defineBackgroundTask(Counting);
  assert.ok(task.clsid.equals(CLSID));
  assert.is(task.name, 'Counting');
  const first = new FakeInstance();
  runThroughCom(task, first);
  runThroughCom(task, new FakeInstance());
  assert.equal(first.progressLog, [50]);
  assert.is(objects.size, 2);
  assert.throws(() => defineBackgroundTask(class NoRun { static clsid = CLSID; } as never), /class NoRun needs a run/);
  assert.throws(() => defineBackgroundTask(class NoClsid { run(): void {} } as never), /class NoClsid needs a static clsid/);
});

test('add_Canceled failing: Run fails with its HRESULT, start and end stay paired, nothing stays active', () => {
  const started: RunRecord[] = [];
  const ended: RunRecord[] = [];
  let ran = false;
  const task = defineBackgroundTask({ clsid: CLSID, run: () => void (ran = true) });
  task.onRunStarted((record) => started.push(record));
  task.onRunEnded((record) => ended.push(record));
  const instance = new FakeInstance();
  instance.add_Canceled = () => {
    throw new ComError(E_ACCESSDENIED, 'the broker refuses the handler');
  };
  const error = runThroughCom(task, instance);
  assert.instance(error, ComError);
  assert.is((error as ComError).hresult, E_ACCESSDENIED);
  assert.not.ok(ran, 'run is not called without a Canceled subscription');
  assert.is(started.length, 1);
  assert.is(ended.length, 1, 'a failed start still ends');
  assert.is(ComError.hresultOf(ended[0]!.error), E_ACCESSDENIED);
  assert.is(task.activeInstances, 0);
});

test('InstanceId failing: Run fails, start and end stay paired', () => {
  const ended: RunRecord[] = [];
  let started = 0;
  const task = defineBackgroundTask({ clsid: CLSID, run: () => {} });
  task.onRunStarted(() => void started++);
  task.onRunEnded((record) => ended.push(record));
  const instance = new FakeInstance();
  instance.get_InstanceId = () => {
    throw new ComError(E_FAIL, 'no id');
  };
  assert.instance(runThroughCom(task, instance), ComError);
  assert.equal([started, ended.length, task.activeInstances], [1, 1, 0]);
});

test('Complete failing after the task resolved: the run ends as failed with that HRESULT, no unhandled rejection', async () => {
  const ended: RunRecord[] = [];
  const task = defineBackgroundTask({ clsid: CLSID, run: async () => tick() });
  task.onRunEnded((record) => ended.push(record));
  const instance = new FakeInstance();
  const getDeferral = instance.GetDeferral.bind(instance);
  instance.GetDeferral = () => ({ ...getDeferral(), Complete: () => { throw new ComError(E_ACCESSDENIED, 'gone'); } });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    assert.is(runThroughCom(task, instance), null);
    for (let i = 0; i < 50 && ended.length === 0; i++) await tick(5);
    await tick(20);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.is(ended.length, 1);
  assert.is(ComError.hresultOf(ended[0]!.error), E_ACCESSDENIED);
  assert.match(String((ended[0]!.error as Error).message), /Complete failed/);
  assert.equal(unhandled, []);
  assert.is(task.activeInstances, 0);
});

test('GetDeferral failing: Run fails, the task is aborted, and the run ends only once the task has stopped', async () => {
  const ended: RunRecord[] = [];
  let aborted: unknown = null;
  let settle!: () => void;
  const task = defineBackgroundTask({
    clsid: CLSID,
    run: (_instance, signal) => new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => void (aborted = signal.reason), { once: true });
      settle = resolve;
    }),
  });
  task.onRunEnded((record) => ended.push(record));
  const instance = new FakeInstance();
  instance.GetDeferral = () => {
    throw new ComError(E_ACCESSDENIED, 'no deferral');
  };
  const error = runThroughCom(task, instance);
  assert.is(ComError.hresultOf(error), E_ACCESSDENIED);
  assert.is(ComError.hresultOf(aborted), E_ACCESSDENIED, 'the task was told to stop');
  assert.equal([ended.length, task.activeInstances], [0, 1], 'still running until its promise settles');
  settle();
  await tick(5);
  assert.equal([ended.length, task.activeInstances], [1, 0]);
  assert.is(ComError.hresultOf(ended[0]!.error), E_ACCESSDENIED);
  assert.is(instance.handlers.size, 0, 'the Canceled handler was removed');
});

test('onRunStarted and onRunEnded return a Subscription: callable once, disposable, idempotent', () => {
  const task = defineBackgroundTask({ clsid: CLSID, run() {} });
  const seen: string[] = [];
  const started = task.onRunStarted(() => void seen.push('started'));
  {
    using ended = task.onRunEnded(() => void seen.push('ended'));
    assert.is(runThroughCom(task, new FakeInstance()), null);
    assert.equal(seen, ['started', 'ended']);
    assert.type(ended[Symbol.dispose], 'function');
  }
  started();
  started();
  started[Symbol.dispose]();
  assert.is(runThroughCom(task, new FakeInstance()), null);
  assert.equal(seen, ['started', 'ended'], 'both removed: one by its call, one by `using`');
});

test('validation', () => {
  assert.throws(() => defineBackgroundTask({ clsid: 'nope', run() {} }), /Invalid GUID "nope"/);
  assert.throws(() => defineBackgroundTask({ clsid: CLSID } as never), /run must be a function/);
  assert.throws(() => defineBackgroundTask(null as never), /expected \{ clsid, run \}/);
  void (null as unknown as Com);
});

test.run();
