// A worker thread that runs a served task the way a broker thread would: CoCreateInstance of the
// CLSID, then Run with the IBackgroundTaskInstance whose pointer the main thread passed (an
// in-process pointer is valid in every thread). Run is called with callAsync: the task's JS runs
// on the main thread, so this thread's JS must stay free while it does.
import { parentPort, workerData } from 'node:worker_threads';
import { CLSCTX_LOCAL_SERVER, ComPtr, createInstanceSync, initializeCom } from '../../../lib/com/index.js';
import { ifaceOf } from '../../tasks/support.js';

const { clsid, instance } = workerData as { clsid: string; instance: string };
try {
  initializeCom('mta');
  const task = createInstanceSync<{ Run(instance: unknown): void }>(clsid, ifaceOf('IBackgroundTask'), CLSCTX_LOCAL_SERVER);
  const taskInstance = ComPtr.copyFrom(BigInt(instance), ifaceOf('IBackgroundTaskInstance'));
  await task.callAsync('Run', taskInstance);
  taskInstance.dispose();
  task.dispose();
  parentPort!.postMessage({ ok: true });
} catch (error) {
  parentPort!.postMessage({ ok: false, error: String(error) });
}
