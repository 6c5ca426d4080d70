// A worker thread of the test process that activates a class the main thread serves: COM calls
// the JS class factory and object from this thread, and koffi hands each call to the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { CLSCTX_LOCAL_SERVER, createInstanceSync, initializeCom } from '../../../lib/com/index.js';
import { ICalculator, type Calculator } from '../../support/interfaces.js';

const { clsid } = workerData as { clsid: string };
try {
  initializeCom('mta');
  const calc = createInstanceSync<Calculator>(clsid, ICalculator, CLSCTX_LOCAL_SERVER);
  const sum = calc.Add(19, 23);
  const echo = calc.Echo('from a worker');
  calc.dispose();
  parentPort!.postMessage({ ok: true, sum, echo });
} catch (error) {
  parentPort!.postMessage({ ok: false, error: String(error) });
}
