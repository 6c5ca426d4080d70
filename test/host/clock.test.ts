// The clocks the host runs on: a manual one for tests and demos, the system one otherwise.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock, systemClock } from '../../lib/host/index.js';

const manual = suite('ManualClock');

manual('timers fire in time order, same-time ones in the order they were set, with now() at their time', () => {
  const clock = new ManualClock(1000);
  const fired: [string, number][] = [];
  clock.setTimer(30, () => fired.push(['c', clock.now()]));
  clock.setTimer(10, () => fired.push(['a', clock.now()]));
  clock.setTimer(10, () => fired.push(['b', clock.now()]));
  clock.advance(9);
  assert.equal(fired, []);
  clock.advance(100);
  assert.equal(fired, [['a', 1010], ['b', 1010], ['c', 1030]]);
  assert.is(clock.now(), 1109);
});

manual('a canceled timer never fires; canceling twice, or after it fired, is harmless', () => {
  const clock = new ManualClock();
  let fired = 0;
  const cancel = clock.setTimer(5, () => fired++);
  const done = clock.setTimer(1, () => fired++);
  cancel();
  cancel();
  clock.advance(10);
  done();
  assert.is(fired, 1);
  assert.is(clock.pendingTimers, 0);
});

manual('timers set by a callback fire in the same advance when they fall due within it', () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  const every = (ms: number): void => void clock.setTimer(ms, () => {
    fired.push(clock.now());
    every(ms);
  });
  every(10);
  clock.advance(35);
  assert.equal(fired, [10, 20, 30]);
  assert.is(clock.pendingTimers, 1);
});

manual('advanceAsync lets promise reactions run between timers', async () => {
  const clock = new ManualClock();
  const order: string[] = [];
  clock.setTimer(1, () => void Promise.resolve().then(() => order.push('reaction to 1')).then(() => order.push('chained')));
  clock.setTimer(2, () => order.push('timer 2'));
  await clock.advanceAsync(2);
  assert.equal(order, ['reaction to 1', 'chained', 'timer 2']);
  const sync = new ManualClock();
  const syncOrder: string[] = [];
  sync.setTimer(1, () => void Promise.resolve().then(() => syncOrder.push('reaction to 1')));
  sync.setTimer(2, () => syncOrder.push('timer 2'));
  sync.advance(2);
  await Promise.resolve();
  assert.equal(syncOrder, ['timer 2', 'reaction to 1'], 'advance fires synchronously');
});

manual('bad numbers are refused', () => {
  assert.throws(() => new ManualClock(Number.NaN), /finite/);
  const clock = new ManualClock();
  assert.throws(() => clock.setTimer(Number.NaN, () => {}), /number of milliseconds/);
  assert.throws(() => clock.advance('1' as never), /number of milliseconds/);
  clock.advance(-5);
  assert.is(clock.now(), 0, 'a negative advance does not go back');
});

manual.run();

const system = suite('systemClock');

system('now() is Date.now(); a timer fires after its delay, a canceled one never', async () => {
  const clock = systemClock();
  const before = Date.now();
  assert.ok(Math.abs(clock.now() - before) < 50);
  let canceled = false;
  const cancel = clock.setTimer(1, () => (canceled = true));
  cancel();
  const at = await new Promise<number>((resolve) => clock.setTimer(2, () => resolve(Date.now())));
  assert.ok(at - before >= 1, 'not before its time');
  await new Promise((resolve) => setTimeout(resolve, 2));
  assert.is(canceled, false);
});

system.run();
