// The broker's figures, run by Wine's node.exe (npm run bench -- --wine starts it): this process
// plays Windows' part with the portable host, the app is a local server COM starts
// (test/windows/support/prime-app.js, registered as LocalServer32), and the calls cross the
// process boundary through the test tier's proxy/stub DLL (node scripts/wine.mjs proxy).
//   cold   fire → Run entered (progress 10 reported by the app), COM starting the app each time
//   warm   the same with the app already serving (REGCLS_MULTIPLEUSE)
//   cancel host.cancel → the deferral completed by the app (the host's deferral-completed event)
//   native the same app against broker.exe, the native test broker (test/windows/native-broker):
//          CoCreateInstance → the app's first call from Run, and Invoke(Canceled) → Complete, warm,
//          each against the JS broker's figure of the same run
// Prints one JSON object per line: {"name", "value", "unit"}. Plain ESM over the tsc output.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const build = (file) => import(pathToFileURL(join(root, '.build', ...file.split('/'))).href);
const { initializeCom } = await build('lib/com/index.js');
const { createHost } = await build('lib/host/index.js');
const { registerBackgroundTask, timeTrigger } = await build('lib/tasks/index.js');
const { defineBackgroundTask, serve } = await build('lib/tasks/index.js');
const { registerLocalServer } = await build('test/windows/support/registry.js');
const { proxyStubClsid } = await build('test/windows/support/proxy-stub.js');
const { Guid } = await build('lib/com/index.js');
const APP = join(root, '.build', 'test', 'windows', 'support', 'prime-app.js');

const COLD = 5;
const CANCELS = 40;
const out = (name, value, unit, ratio, baseline) => console.log(JSON.stringify(ratio === undefined ? { name, value: Number(value.toPrecision(3)), unit } : { name, value: Number(value.toPrecision(3)), unit, ratio: Number(ratio.toPrecision(3)), baseline }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
};

if (proxyStubClsid(Guid.parse('7D13D534-FD12-43CE-8C22-EA1FF13C06DF')) === null) {
  console.error('no proxy/stub for IBackgroundTask is registered: run node scripts/wine.mjs proxy');
  process.exit(1);
}
initializeCom('mta');
const dir = mkdtempSync(join(tmpdir(), 'winbg-bench-broker-'));

/** A fresh class served by the app; `idle` is how long the app stays up after its last run. */
function app(idle) {
  const clsid = crypto.randomUUID().toUpperCase();
  const config = join(dir, `${clsid}.json`);
  writeFileSync(config, JSON.stringify({ clsid, log: join(dir, `${clsid}.log`), hold: true, idle }));
  return { clsid, unregister: registerLocalServer(clsid, `"${process.execPath}" "${APP}" -StartSampleTaskServer "${config}"`) };
}

const host = createHost({ graceMs: 5000 });
let progressAt = 0;
let completedAt = 0;
host.onEvent((event) => {
  if (event.type === 'progress' && event.progress === 10) progressAt = performance.now();
  if (event.type === 'deferral-completed') completedAt = performance.now();
});

/** One run: fire, Run entered, cancel, deferral completed; returns [fire → entered, cancel → completed] in ms. */
async function once(name) {
  const done = host.waitForCompletion(name);
  progressAt = 0;
  const fired = performance.now();
  host.fire(name);
  while (progressAt === 0) await sleep(1);
  const entered = progressAt - fired;
  await sleep(20);
  const canceled = performance.now();
  host.cancel(name, 'Abort');
  const run = await done;
  if (run.state !== 'completed') throw new Error(`run ${run.state}: ${run.error?.message}`);
  return [entered, completedAt - canceled];
}

/** CANCELS runs of `name`: their fire → entered and cancel → completed times. */
async function repeat(name) {
  const entered = [];
  const completed = [];
  for (let i = 0; i < CANCELS; i++) {
    const [a, b] = await once(name);
    entered.push(a);
    completed.push(b);
  }
  return [entered, completed];
}

try {
  const cold = [];
  for (let i = 0; i < COLD; i++) {
    const { clsid, unregister } = app(100);
    const registration = registerBackgroundTask({ name: `cold ${i}`, clsid, trigger: timeTrigger(15) }).registration;
    cold.push((await once(`cold ${i}`))[0]);
    registration.raw.dispose();
    await sleep(1500); // the app exits when idle
    unregister();
  }
  const { clsid, unregister } = app(60_000);
  const registration = registerBackgroundTask({ name: 'warm', clsid, trigger: timeTrigger(15) }).registration;
  await once('warm'); // starts the app
  const [warm, cancel] = await repeat('warm');
  registration.raw.dispose();
  unregister();

  // Baselines in the same run: a plain node.exe start to exit; the same task served in this
  // process (the class object registered here, activated by the same CoCreateInstance).
  const plain = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await new Promise((resolve, reject) => spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).once('exit', resolve).once('error', reject));
    plain.push(performance.now() - started);
  }
  const local = crypto.randomUUID();
  const server = serve(defineBackgroundTask({
    clsid: local,
    async run(instance, signal) {
      instance.progress = 10;
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    },
  }), { inProcess: true, handleSignals: false });
  const inProcess = registerBackgroundTask({ name: 'in process', clsid: local, trigger: timeTrigger(15) }).registration;
  const [localWarm, localCancel] = await repeat('in process');
  inProcess.raw.dispose();
  server.stop();

  // The native broker (when built: node scripts/wine.mjs broker), warm, against a fresh app.
  const brokerExe = join(root, '.cache', 'wine', 'broker', 'broker.exe');
  let native = null;
  if (existsSync(brokerExe)) {
    const { clsid: nativeClsid, unregister: unregisterNative } = app(10_000);
    const result = join(dir, 'native.json');
    const runs = CANCELS + 1;
    await new Promise((resolve, reject) => spawn(brokerExe, [nativeClsid, 'cooperative', result, '--runs', String(runs), '--cancel-after-ms', '20', '--settle-ms', '200', '--timeout-ms', '120000'], { stdio: 'ignore' })
      .once('exit', resolve).once('error', reject));
    unregisterNative();
    const perRun = JSON.parse(readFileSync(result, 'utf8')).perRun.slice(1); // the first run started the app
    native = {
      entered: perRun.map((r) => r.activationMs + r.runEnteredMs),
      cancel: perRun.map((r) => r.cancelToCompleteMs),
    };
  } else {
    console.error(`no native test broker at ${brokerExe} (node scripts/wine.mjs broker): its figures are left out`);
  }

  out('broker: a plain node.exe start to exit (baseline)', median(plain), 'ms');
  out(`broker: fire → Run entered, COM starting the app (cold), median of ${COLD}`, median(cold), 'ms', median(cold) / median(plain), 'a plain node.exe start');
  out(`broker: fire → Run entered, the task in the broker's process (baseline), median of ${CANCELS}`, median(localWarm), 'ms');
  out(`broker: fire → Run entered, the app serving (warm), median of ${CANCELS}`, median(warm), 'ms', median(warm) / median(localWarm), 'the task in process');
  out(`broker: cancel → deferral complete in the broker's process (baseline), p50 of ${CANCELS}`, percentile(localCancel, 0.5), 'ms');
  out(`broker: cancel → deferral complete across processes, p50 of ${CANCELS}`, percentile(cancel, 0.5), 'ms', percentile(cancel, 0.5) / percentile(localCancel, 0.5), 'in process');
  out(`broker: cancel → deferral complete across processes, p99 of ${CANCELS}`, percentile(cancel, 0.99), 'ms');
  out(`broker: fire → Run entered, the app serving (warm), p99 of ${CANCELS}`, percentile(warm, 0.99), 'ms');
  if (native) {
    for (const p of [0.5, 0.99]) {
      const name = p === 0.5 ? 'p50' : 'p99';
      out(`native broker: activation → Run entered (warm), ${name} of ${CANCELS}`, percentile(native.entered, p), 'ms', percentile(native.entered, p) / percentile(warm, p), 'the JS broker');
      out(`native broker: cancel → deferral complete, ${name} of ${CANCELS}`, percentile(native.cancel, p), 'ms', percentile(native.cancel, p) / percentile(cancel, p), 'the JS broker');
    }
  }
} finally {
  host.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
