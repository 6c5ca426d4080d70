// The module test/tasks/worker.test.ts serves from a worker thread (serveInWorker): it calls
// serve(), as an app's task module does. Its arguments (the worker's process.argv) choose how:
//   --fail            throw while loading, before serving
//   --start-timeout   stop by itself 50 ms after starting (no activation comes)
//   --hang            never serve, and never end (a worker stuck before serving)
// Otherwise it serves until stopped. It also activates its own class once, when --activate is
// given, so that the parent hears a run start and end.
import { createInstanceSync, Guid } from '../../lib/com/index.js';
import { defineBackgroundTask, serve } from '../../lib/tasks/index.js';
import { FakeInstance, ifaceOf } from './support.js';

const has = (flag: string): boolean => process.argv.includes(flag);
if (has('--fail')) throw new Error('the task module failed to load');
if (has('--hang')) setInterval(() => {}, 1000);
const clsid = Guid.parse('5e0a7c41-9b2f-4d3e-8a61-0c7b2e9f4a31');
const task = defineBackgroundTask({ clsid, name: 'worker task', run() {} });
const server = has('--hang') ? null : serve(task, { startTimeoutMs: has('--start-timeout') ? 50 : 60_000, idleTimeoutMs: 60_000 });
if (server && has('--activate')) {
  using object = createInstanceSync<{ Run(instance: unknown): void }>(clsid, ifaceOf('IBackgroundTask'));
  object.Run(new FakeInstance());
}
