// The app against a native broker: test/windows/native-broker/broker.c (built by
// scripts/wine-broker.mjs into .cache/wine/broker/broker.exe) plays Windows' background
// infrastructure in C, as Windows does: it activates the app's class out of process
// (CoCreateInstance, CLSCTX_LOCAL_SERVER: COM starts the app from LocalServer32, exactly as in
// broker.test), calls Run with a free-threaded IBackgroundTaskInstance of its own, invokes
// Canceled from a thread of its own, and counts every reference it hands out. Each scenario is
// something native event sources and Windows do that a JS broker cannot: calling the app's
// delegate back inside the app's own call (QueryInterface in add_Canceled, Release in
// remove_Canceled or in Complete), canceling while the app is inside a call, going away while the
// app holds a deferral. The broker writes what it saw as JSON to a file (node.exe under Wine
// cannot read a pipe) and never hangs: it has its own time limits, and so does every wait here;
// whatever is left running is killed at the end of each test.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Guid } from '../../lib/com/index.js';
import { primeText } from '../support/primes.js';
import { proxyStubClsid } from './support/proxy-stub.js';
import { readAppLog, type AppLogLine } from './support/app-log.js';
import { registerLocalServer, serverCommandLine } from './support/registry.js';
import { removeTree } from '../support/files.js';

const here = dirname(fileURLToPath(import.meta.url));
const APP = join(here, 'support', 'prime-app.js');
// .build/test/windows/ → the project root; WINBG_NATIVE_BROKER overrides (another build of it).
const BROKER = process.env.WINBG_NATIVE_BROKER || join(resolve(here, '..', '..', '..'), '.cache', 'wine', 'broker', 'broker.exe');
const IID_IBackgroundTask = '7D13D534-FD12-43CE-8C22-EA1FF13C06DF';

const test = suite('native broker: the app against a broker written in C');
const proxy = proxyStubClsid(Guid.parse(IID_IBackgroundTask)) !== null;
const built = existsSync(BROKER);
// CI builds the broker under Wine (.ci/run: node scripts/wine.mjs broker), so there a missing
// one is a failure. The native Windows jobs have nothing that builds it: they skip, saying why.
const required = process.env.CI === 'true' && process.env.WINBG_UNDER_WINE === '1';
const enabled = proxy && built;
const it = enabled ? test : test.skip;
if (!proxy) console.log('  (skipped: no proxy/stub registered for IBackgroundTask; run node scripts/wine.mjs proxy)');
else if (!built) {
  const reason = `the native test broker is not built: ${BROKER} is missing; run node scripts/wine.mjs broker (mingw-w64)`;
  if (required) test('the native test broker is built (required under CI)', () => assert.unreachable(reason));
  else console.log(`  (skipped: ${reason})`);
}

/** What broker.exe writes (see the top of broker.c); the fields the tests read. */
interface BrokerRun {
  readonly index: number;
  readonly runHr: number;
  readonly completed: boolean;
  readonly canceled: boolean;
  readonly invokeHr: number;
  readonly cancelDuringCall: string | null;
  readonly deferrals: number;
  readonly progress: number[];
  readonly handlerReleasedIn: string | null;
  readonly instanceRefsOutstanding: number | null;
  readonly deferralRefsOutstanding: number | null;
  readonly handlerReleased: boolean;
  readonly qiAgileHr?: number;
  readonly qiUnknownHr?: number;
  readonly activationMs: number | null;
  readonly runEnteredMs: number | null;
  readonly cancelToCompleteMs: number | null;
}
interface BrokerResult {
  readonly scenario: string;
  readonly runsStarted: number;
  readonly runsCompleted: number;
  readonly runHr: number;
  readonly completed: boolean;
  readonly canceled: boolean;
  readonly cancelReason: number;
  readonly completeMs: number | null;
  readonly progress: number[];
  readonly instanceRefsOutstanding: number | null;
  readonly deferralRefsOutstanding: number | null;
  readonly handlerAdded: number;
  readonly handlerRemoved: number;
  readonly handlerReleased: boolean;
  readonly timedOut: boolean;
  readonly exitedAfterRun: boolean;
  readonly errors: string[];
  readonly stuck: string[];
  readonly perRun: BrokerRun[];
}
type Line = AppLogLine;
interface Outcome {
  readonly result: BrokerResult | null;
  readonly code: number | null;
  readonly log: Line[];
  /** The prime file's text ('' when there is none). */
  readonly primes: string;
  /** Everything known, for assertion messages. */
  readonly describe: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the exit code, or null once `ms` passed (the process is then still running). */
function exited(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => resolve(null), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
    child.once('error', () => {
      clearTimeout(timer);
      resolve(-1);
    });
  });
}

interface Options {
  /** The app's task: 'primes' (createPrimesTask, max 1e12) or 'hold' (holds its deferral until canceled). */
  readonly task: 'primes' | 'hold';
  /** broker.exe's options (see broker.c); its time limits come from here too. */
  readonly args: readonly string[];
  /** How long to wait for broker.exe to exit (beyond its own --timeout-ms). */
  readonly brokerMs: number;
  /** How long to wait for the app to exit by itself once the broker has. */
  readonly appExitMs?: number;
  /** The app's idle timeout (default 500 ms). */
  readonly idle?: number;
}

/**
 * Registers the app under a fresh CLSID, runs broker.exe with `scenario` against it, waits for the
 * broker to exit and for the app to exit by itself, and returns what both recorded. Whatever is
 * still running at the end (a hung broker, an app that did not exit) is killed, and the
 * registration and files are removed.
 */
async function runScenario(scenario: string, options: Options): Promise<Outcome> {
  const clsid = crypto.randomUUID().toUpperCase();
  // A short folder name: see registerLocalServer's limit.
  const dir = mkdtempSync(join(tmpdir(), 'nb-'));
  const logFile = join(dir, 'app.log');
  const configFile = join(dir, 'app.json');
  const resultFile = join(dir, 'result.json');
  const primesFile = join(dir, 'primes.log');
  const task = options.task === 'hold' ? { hold: true } : { out: primesFile, max: 1e12 };
  // The heartbeat shows in the app's log whether its event loop ran (a hang's first question).
  writeFileSync(configFile, JSON.stringify({ clsid, log: logFile, idle: options.idle ?? 500, heartbeat: true, ...task }));
  const unregister = registerLocalServer(clsid, serverCommandLine(APP, ['-StartSampleTaskServer', configFile]));
  const readLog = (): Line[] => readAppLog(dir);
  let broker: ChildProcess | null = null;
  try {
    broker = spawn(BROKER, [clsid, scenario, resultFile, ...options.args], { stdio: 'ignore', windowsHide: true });
    const code = await exited(broker, options.brokerMs);
    const result = existsSync(resultFile) ? (JSON.parse(readFileSync(resultFile, 'utf8')) as BrokerResult) : null;
    // The app exits by itself once idle; a broker that gave up leaves an app that may never.
    const appExitMs = options.appExitMs ?? (result && !result.timedOut ? 15_000 : 5_000);
    const started = Date.now();
    for (;;) {
      const lines = readLog();
      const pids = new Set(lines.filter((l) => l.type === 'started').map((l) => l.pid));
      if (pids.size > 0 && [...pids].every((pid) => lines.some((l) => l.type === 'exited' && l.pid === pid))) break;
      if (pids.size === 0 && Date.now() - started > 2000) break; // COM never started it
      if (Date.now() - started > appExitMs) break;
      await sleep(50);
    }
    const log = readLog();
    const primes = existsSync(primesFile) ? readFileSync(primesFile, 'latin1') : '';
    const { perRun, ...summary } = result ?? ({ perRun: [] } as unknown as BrokerResult);
    const describe =
      `broker.exe ${scenario}: ${code === null ? `still running after ${options.brokerMs} ms (killed)` : `exit code ${code}`}` +
      // The errors on the first line: the summary after a run shows only a failure's first line.
      `${result?.errors.length ? `; errors: ${result.errors.join(' | ')}` : ''}${result?.stuck.length ? `; stuck: ${result.stuck.join(' | ')}` : ''}\n` +
      `result: ${result ? JSON.stringify(summary) : '(no result file)'}\n` +
      `first run: ${perRun[0] ? JSON.stringify(perRun[0]) : '(none)'}\n` +
      `app log:\n${log.map((l) => `  ${JSON.stringify(l)}`).join('\n') || '  (empty)'}`;
    return { result, code, log, primes, describe };
  } finally {
    if (broker && broker.exitCode === null) broker.kill();
    // An app that did not log its exit: end it (TerminateProcess), so that it serves no later test.
    const lines = readLog();
    for (const pid of new Set(lines.filter((l) => l.type === 'started').map((l) => l.pid))) {
      if (lines.some((l) => l.type === 'exited' && l.pid === pid)) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    unregister();
    await sleep(100);
    removeTree(dir);
  }
}

/** The checks every scenario that is meant to end well shares. */
function assertClean(outcome: Outcome, { reason, runs = 1 }: { reason: number; runs?: number }): BrokerResult {
  const { result, describe } = outcome;
  assert.ok(result, `broker.exe wrote no result\n${describe}`);
  assert.not.ok(result.timedOut, `broker.exe gave up, stuck: ${result.stuck.join('; ')}\n${describe}`);
  assert.equal(result.errors, [], `broker.exe saw errors: ${describe}`);
  assert.is(outcome.code, 0, describe);
  assert.equal([result.runsStarted, result.runsCompleted, result.runHr], [runs, runs, 0], describe);
  assert.ok(result.completed, `the deferral was completed\n${describe}`);
  for (const run of result.perRun) {
    assert.equal([run.canceled, run.invokeHr], [true, 0], `run ${run.index} canceled, Invoke returned S_OK\n${describe}`);
  }
  assert.is(result.cancelReason, reason);
  assert.equal([result.instanceRefsOutstanding, result.deferralRefsOutstanding], [0, 0], `every reference the broker handed out came back\n${describe}`);
  assert.ok(result.handlerReleased, `the broker released every reference it took on the Canceled handler\n${describe}`);
  assert.is(result.handlerAdded, runs, describe);
  const lines = outcome.log;
  assert.equal(lines.filter((l) => l.type === 'started').length, 1, `COM started the app once\n${describe}`);
  const ended = lines.filter((l) => l.type === 'run-ended');
  assert.is(ended.length, runs, `the app ended ${runs} run(s)\n${describe}`);
  for (const line of ended) assert.is(line.error, undefined, `a canceled run ends without an error\n${describe}`);
  assert.is(lines.find((l) => l.type === 'exited')?.reason, 'idle', `the app exited by itself, idle\n${describe}`);
  return result;
}

/** The prime file is an exact prefix of the prime sequence, ending on a record (flushed at the end). */
function assertPrimePrefix(outcome: Outcome, { sieved }: { sieved: boolean }): void {
  const text = outcome.primes;
  if (sieved) assert.ok(text.length > 0, `the task sieved\n${outcome.describe}`);
  if (text === '') return;
  assert.ok(text.endsWith(', '), 'the file ends on a record');
  const last = Number(text.slice(0, -2).split(', ').at(-1));
  assert.ok(Number.isInteger(last) && last >= 2, `the last record is a number (${last})`);
  assert.ok(text === primeText(last), 'the file is the exact prime sequence up to its last record');
}

const BROKER_LIMITS = ['--run-timeout-ms', '12000', '--timeout-ms', '25000'];
const BROKER_MS = 40_000;
// The prime task writes tens of MB a second here: cancel soon, so that checking the file stays quick.
const PRIMES = { task: 'primes', brokerMs: BROKER_MS } as const;

it('cooperative: Run, Canceled from the broker\'s thread, Complete; every reference comes back; the app exits idle', async () => {
  const outcome = await runScenario('cooperative', { ...PRIMES, args: ['--cancel-after-ms', '250', '--cancel-reason', '0', ...BROKER_LIMITS] });
  const result = assertClean(outcome, { reason: 0 });
  assert.equal(result.progress.slice(0, 1), [10], 'progress 10 when the task starts');
  assertPrimePrefix(outcome, { sieved: true });
  const run = result.perRun[0]!;
  console.log(`  native broker figures: activation (cold) ${run.activationMs} ms; Run → first call ${run.runEnteredMs} ms; cancel → Complete ${run.cancelToCompleteMs} ms`);
});

it('qi-in-add: the broker QueryInterfaces the handler (IAgileObject, IUnknown) inside add_Canceled, as WRL and C++/WinRT do', async () => {
  const outcome = await runScenario('qi-in-add', { ...PRIMES, args: ['--cancel-after-ms', '250', '--cancel-reason', '6', ...BROKER_LIMITS] });
  const result = assertClean(outcome, { reason: 6 });
  const run = result.perRun[0]!;
  assert.is(run.qiUnknownHr, 0, `QueryInterface(IUnknown) answered S_OK\n${outcome.describe}`);
  assert.ok(run.qiAgileHr === 0 || run.qiAgileHr === 0x80004002 - 0x100000000, `QueryInterface(IAgileObject) answered S_OK or E_NOINTERFACE: ${run.qiAgileHr}`);
  assertPrimePrefix(outcome, { sieved: true });
});

it('release-in-remove: the broker releases the handler inside remove_Canceled, as winrt::event and WRL\'s EventSource do', async () => {
  const outcome = await runScenario('release-in-remove', { ...PRIMES, args: ['--cancel-after-ms', '250', '--cancel-reason', '1', ...BROKER_LIMITS] });
  const result = assertClean(outcome, { reason: 1 });
  assert.match(result.perRun[0]!.handlerReleasedIn ?? '', /^remove_Canceled/, `released inside remove_Canceled\n${outcome.describe}`);
  assertPrimePrefix(outcome, { sieved: true });
});

it('release-in-complete: the broker keeps its reference to the handler and releases it inside Complete', async () => {
  const outcome = await runScenario('release-in-complete', { ...PRIMES, args: ['--cancel-after-ms', '250', '--cancel-reason', '9', ...BROKER_LIMITS] });
  const result = assertClean(outcome, { reason: 9 });
  assert.match(result.perRun[0]!.handlerReleasedIn ?? '', /^Complete/, `released inside Complete\n${outcome.describe}`);
  assertPrimePrefix(outcome, { sieved: true });
});

it('cancel-during-call: Canceled is invoked from another broker thread while the app is inside a call into the broker', async () => {
  const outcome = await runScenario('cancel-during-call', { ...PRIMES, args: ['--delay-ms', '300', '--cancel-after-ms', '5000', '--cancel-reason', '0', ...BROKER_LIMITS] });
  const result = assertClean(outcome, { reason: 0 });
  const during = result.perRun[0]!.cancelDuringCall;
  assert.ok(during, `Invoke was issued while the app was inside a call (${during})\n${outcome.describe}`);
  // Canceled arrived before the sieve's first slice could end: the file may be empty, but it is a prefix.
  assertPrimePrefix(outcome, { sieved: false });
});

it('exit-after-run: the broker exits while the app holds a deferral; the app ends the run as failed and exits idle', async () => {
  // The hold task: nothing but the broker's disappearance can end its run (the prime task would
  // fill the disk meanwhile).
  const outcome = await runScenario('exit-after-run', { task: 'hold', brokerMs: BROKER_MS, appExitMs: 30_000, args: BROKER_LIMITS });
  const { result, describe } = outcome;
  assert.ok(result, `broker.exe wrote no result\n${describe}`);
  assert.equal([result.exitedAfterRun, result.timedOut, result.errors, result.runHr], [true, false, [], 0], describe);
  assert.is(result.perRun[0]!.deferrals, 1, `the app held a deferral when Run returned\n${describe}`);
  const lines = outcome.log;
  const ended = lines.filter((l) => l.type === 'run-ended');
  assert.is(ended.length, 1, `the app ended the run\n${describe}`);
  assert.ok(typeof ended[0]!.error === 'string' && ended[0]!.error.length > 0, `as failed (with an error)\n${describe}`);
  const exit = lines.find((l) => l.type === 'exited');
  assert.is(exit?.reason, 'idle', `the app exited by itself, idle\n${describe}`);
  assert.ok(exit!.time >= ended[0]!.time, 'after the run ended');
});

// Known problem (README, Known problems): in 3 of the 5 fresh-clone CI runs of 2026-12-03's
// first session (under bun.exe twice, node.exe once), one activation of the soak hung: the
// broker's CoCreateInstance waited more than 12 s after the app's factory had created the object.
// Not understood (issue 12). It has not come back since, in 26 soaks under Wine (node.exe, bun.exe
// and deno.exe; under CPU load, inside whole Windows tiers, and in a fresh clone at CI's checkout
// path with all three runtimes) nor in 3,400 fast activations, so the soak runs again under Wine,
// for CI to catch it should it return: its failure then carries the app's log with its heartbeat
// (whether the JS thread ran). WINBG_SOAK=0 skips it, saying so.
const soak = process.env.WINBG_SOAK !== '0';
if (enabled && !soak) console.log('  (soak skipped: WINBG_SOAK=0)');
(enabled && soak ? test : test.skip)('soak: 200 activations back to back against one server with the strict broker; every reference comes back', async () => {
  const runs = 200;
  const outcome = await runScenario('strict', {
    task: 'hold',
    // Longer than the broker's gaps between runs (its settle waits), so that one server serves all.
    idle: 5000,
    brokerMs: 200_000,
    args: ['--runs', String(runs), '--delay-ms', '20', '--cancel-after-ms', '2000', '--cancel-reason', '0', '--settle-ms', '1000', '--run-timeout-ms', '12000', '--timeout-ms', '180000'],
  });
  const result = assertClean(outcome, { reason: 0, runs });
  for (const run of result.perRun) {
    assert.equal([run.instanceRefsOutstanding, run.deferralRefsOutstanding, run.handlerReleased], [0, 0, true], `run ${run.index}: references came back`);
    assert.ok(run.cancelDuringCall, `run ${run.index}: canceled during a call`);
  }
  const starts = outcome.log.filter((l) => l.type === 'run-started');
  assert.equal(new Set(starts.map((l) => l.pid)).size, 1, 'one server process');
  // What the app holds, flat: at each run's start, the same JS COM objects and native memory as
  // after the first ten runs (warm-up: vtables, layouts, caches), and a bounded resident set.
  const warm = starts[10]!;
  const last = starts.at(-1)!;
  assert.equal([last.live, last.nativeBytes], [warm.live, warm.nativeBytes], `the app's live objects and native memory return to their baseline (run 10: ${warm.live} objects, ${warm.nativeBytes} bytes; run ${runs - 1}: ${last.live}, ${last.nativeBytes})`);
  const growth = ((last.rss as number) - (warm.rss as number)) / 1e6;
  assert.ok(growth < 32, `the app's resident set grew by ${growth.toFixed(1)} MB over ${runs - 10} runs`);
  const figures = (name: 'activationMs' | 'runEnteredMs' | 'cancelToCompleteMs'): string => {
    const values = result.perRun.slice(1).map((r) => r[name] ?? NaN).sort((a, b) => a - b);
    return `median ${values[values.length >> 1]!.toFixed(1)} ms, max ${values[values.length - 1]!.toFixed(1)} ms`;
  };
  console.log(`  native broker soak (${runs} runs, warm): activation ${figures('activationMs')}; Run → first call ${figures('runEnteredMs')}; cancel → Complete ${figures('cancelToCompleteMs')}; app: ${last.live} live objects, RSS ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB from run 10 to ${runs - 1}`);
});

test.run();
