// A task server in a process of its own: publishes a JS background task with registerClassObject
// (CLSCTX_LOCAL_SERVER) and waits for one run, which another process starts through COM. The run
// talks to that process's IBackgroundTaskInstance across processes: InstanceId, Progress, and a
// deferral (the promise from run holds one until it settles). Reports in files, since a child's
// output cannot be read under Wine:
//   node task-server.js <clsid> <ready-file> <result-file>
// <ready-file> appears once the class object is registered; <result-file> holds JSON once the run
// has ended (or the wait for it timed out).
import { writeFileSync } from 'node:fs';
import { initializeCom, registerClassObject } from '../../../lib/com/index.js';
import { defineBackgroundTask } from '../../../lib/tasks/index.js';

const [clsid, readyFile, resultFile] = process.argv.slice(2);
const result: Record<string, unknown> = { pid: process.pid };
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

try {
  initializeCom('mta');
  const task = defineBackgroundTask({
    clsid: clsid!,
    async run(instance) {
      result.instanceId = instance.instanceId.toString();
      instance.progress = 25;
      await delay(50); // Run has returned by now: the caller holds only the deferral
      instance.progress = 100;
      result.progressRead = instance.progress;
    },
  });
  const ended = new Promise<void>((resolve) => {
    task.onRunEnded((record) => {
      if (record.error !== undefined) result.runError = String(record.error);
      resolve();
    });
  });
  const registration = registerClassObject(clsid!, task.classDefinition);
  writeFileSync(readyFile!, String(process.pid));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([ended.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, 60_000, true)))]);
  clearTimeout(timer);
  result.ok = !timedOut && result.runError === undefined;
  if (timedOut) result.error = 'no run ended within 60 s';
  registration.revoke();
} catch (error) {
  result.ok = false;
  result.error = String(error);
}
writeFileSync(resultFile!, JSON.stringify(result));
