// The app of the broker test: what a package manifest's com:ExeServer starts. COM launches it
// with the LocalServer32 command line (plus -Embedding) when the broker activates the class; it
// serves the prime task and exits by itself once idle. What it does goes to a log file, one JSON
// object per line (a process COM starts has no console to read).
//   node prime-app.js -StartSampleTaskServer <config.json>
// The configuration (clsid, log, and out + max, or hold; idle, startTimeout) is in a file because
// Wine 8's COM fails to start a local server whose command line is longer than MAX_PATH
// (REGDB_E_CLASSNOTREG). With hold, the task reports progress 10 and holds its deferral until
// canceled. With sta, the app's main thread is made a single-threaded apartment before winbg is
// loaded, as Electron's main process is: serve() must refuse it, and the app serves from a worker
// thread (serveInWorker) that runs this same module.
import { appendFileSync, readFileSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';
import koffi from 'koffi';

const args = process.argv.slice(2);
interface Config {
  readonly clsid: string;
  readonly log: string;
  readonly out?: string;
  readonly max?: number;
  readonly hold?: boolean;
  readonly idle?: number;
  readonly startTimeout?: number;
  readonly sta?: boolean;
  /** Log the event loop's lag: a 'beat' line every 5 s, and one whenever a 250 ms timer is 200 ms late. */
  readonly heartbeat?: boolean;
}
const config = JSON.parse(readFileSync(args.find((a) => a.endsWith('.json'))!, 'utf8')) as Config;
// One file per thread (the main thread's is config.log, a worker's adds .thread-N): two threads
// appending to one file interleave inside a line under bun.exe on Wine. The test merges them.
const logFile = isMainThread ? config.log : `${config.log}.thread-${threadId}`;
// time in milliseconds with a fraction (performance.timeOrigin + now()): the test orders two threads' lines by it.
const log = (fields: Record<string, unknown>): void => appendFileSync(logFile, `${JSON.stringify({ pid: process.pid, thread: threadId, time: performance.timeOrigin + performance.now(), ...fields })}\n`);
log({ type: 'started', argv: args, mainThread: isMainThread, exe: process.execPath });
if (config.heartbeat) {
  let expected = Date.now() + 250;
  let beats = 0;
  setInterval(() => {
    const now = Date.now();
    const lag = now - expected;
    expected = now + 250;
    if (lag > 200 || ++beats % 20 === 0) log({ type: 'beat', lag });
  }, 250).unref();
}
if (config.sta && isMainThread) {
  // CoInitializeEx(NULL, COINIT_APARTMENTTHREADED), straight through koffi: winbg is not loaded yet.
  const CoInitializeEx = koffi.load('ole32.dll').func('int32 __stdcall CoInitializeEx(void *reserved, uint32 flags)');
  log({ type: 'sta', hr: CoInitializeEx(null, 0x2) as number });
}
const { createPrimesTask } = await import('../../../lib/samples/primes.js');
const { liveComObjects, nativeMemoryInUse } = await import('../../../lib/diagnostics/index.js');
const { defineBackgroundTask, serve, serveInWorker } = await import('../../../lib/tasks/index.js');
try {
  const clsid = config.clsid;
  const task = config.hold
    ? defineBackgroundTask({
      clsid,
      name: 'broker test hold',
      async run(instance, signal) {
        instance.progress = 10;
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      },
    })
    : createPrimesTask({ clsid, file: config.out!, max: config.max!, name: 'broker test primes', fsyncMs: 0 });
  if (config.sta && isMainThread) {
    try {
      serve(task);
      log({ type: 'error', message: 'serve() accepted a thread that is a single-threaded apartment' });
    } catch (error) {
      log({ type: 'serve-refused', hresult: (error as { hresult?: number }).hresult, message: String(error) });
    }
    const server = serveInWorker(new URL(import.meta.url), { onEvent: (event) => log({ type: `worker-${event.type}` }) });
    if (!server) log({ type: 'not-activation' });
    else log({ type: 'worker-closed', reason: await server.closed });
  } else {
    const server = serve(task, {
      idleTimeoutMs: config.idle ?? 1000,
      startTimeoutMs: config.startTimeout ?? 30_000,
      // A run's start also records what the app holds (its JS COM objects, winbg's native memory,
      // its resident set), so that a soak can show them flat.
      onEvent: (event) => log({
        ...event,
        error: 'error' in event && event.error !== undefined ? String(event.error) : undefined,
        ...(event.type === 'run-started' ? { live: liveComObjects(), nativeBytes: nativeMemoryInUse().bytes, rss: process.memoryUsage().rss } : {}),
      }),
    });
    if (!server) log({ type: 'not-activation' });
    else log({ type: 'exited', reason: await server.closed });
  }
} catch (error) {
  log({ type: 'error', message: String(error) });
}
