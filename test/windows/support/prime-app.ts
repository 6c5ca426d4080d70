// The app of the broker test: what a package manifest's com:ExeServer starts. COM launches it
// with the LocalServer32 command line (plus -Embedding) when the broker activates the class; it
// serves the prime task and exits by itself once idle. What it does goes to a log file, one JSON
// object per line (a process COM starts has no console to read).
//   node prime-app.js -StartSampleTaskServer --clsid GUID --log FILE [--idle MS] [--start-timeout MS]
//                     (--out FILE --max N | --hold)
// --hold serves a task that reports progress 10 and holds its deferral until canceled.
import { appendFileSync } from 'node:fs';
import { createPrimesTask } from '../../../lib/samples/primes.js';
import { defineBackgroundTask, serve } from '../../../lib/tasks/index.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const logFile = option('--log')!;
const log = (fields: Record<string, unknown>): void => appendFileSync(logFile, `${JSON.stringify({ pid: process.pid, time: Date.now(), ...fields })}\n`);
log({ type: 'started', argv: args });
try {
  const clsid = option('--clsid')!;
  const task = args.includes('--hold')
    ? defineBackgroundTask({
      clsid,
      name: 'broker test hold',
      async run(instance, signal) {
        instance.progress = 10;
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      },
    })
    : createPrimesTask({ clsid, file: option('--out')!, max: Number(option('--max')), name: 'broker test primes', fsyncMs: 0 });
  const server = serve(task, {
    idleTimeoutMs: Number(option('--idle') ?? 1000),
    startTimeoutMs: Number(option('--start-timeout') ?? 30_000),
    onEvent: (event) => log({ ...event, error: 'error' in event && event.error !== undefined ? String(event.error) : undefined }),
  });
  if (!server) log({ type: 'not-activation' });
  else log({ type: 'exited', reason: await server.closed });
} catch (error) {
  log({ type: 'error', message: String(error) });
}
