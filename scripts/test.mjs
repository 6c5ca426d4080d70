// The body of `npm test`: compiles lib/ and test/ with tsc, then runs each test tier in each
// JavaScript runtime as a child process of .build/test/harness.js, and closes with one line of
// totals, "N passed, N failed[, N skipped]", and exit code 0 exactly when nothing failed.
//
// Tiers (test files as compiled into .build/test/):
//   portable  **/*.test.js outside windows/; run by Node, and by Bun and Deno where found.
//   windows   windows/**/*.test.js; need Windows APIs. On Windows they run in the same runtimes;
//             on Linux under Wine, with the Windows builds of node, bun and deno (with the
//             portable suite too): under the system's Wine (8), or for a runtime that cannot
//             start there (deno.exe), under Wine 10 where scripts/wine10.mjs set it up. See
//             scripts/wine.mjs, scripts/wine-runtimes.mjs and scripts/wine10.mjs.
//
// Options:  --tier portable|windows   --runtime node|bun|deno   (each repeatable; default all)
//           --filter <substring>      passed to the harness, which runs only matching tests
//           --timeout <seconds>       per child process (default 600)
//           --arch x64|arm64          the CPU the tests run on (default this machine's). arm64 on an
//                                     x64 Linux machine: the portable tier with the Linux arm64
//                                     node under qemu-user (scripts/arm64.mjs), node only.
// Environment:
//   WINBG_REQUIRE_WINE=1              a Windows tier that cannot run under Wine fails, not skips
//   WINBG_REQUIRE_RUNTIMES=bun,deno   a listed runtime that is missing fails, not skips
//   WINBG_REQUIRE_WINE_RUNTIMES=bun,deno  under Wine, a listed runtime that cannot run fails, not skips
//   WINBG_REQUIRE_ARM64=1             with --arch arm64, a qemu run that cannot start fails, not skips
//   WINBG_PROXY_IDL=<file>            under Wine, build the proxy/stub DLL from this IDL instead of
//                                     the generator's (see scripts/wine-proxy.mjs)
//
// Contract with the harness: `harness.js --tier <tier> [--filter <s>]` prints, as its last line,
// `WINBG-RESULT {"passed":N,"failed":N,"skipped":N}`; the last such line counts, since stderr may
// arrive after it. A child that prints no such line, crashes or times out counts as one failure.
// Children see WINBG_TEST_TIER, WINBG_TEST_RUNTIME and, under Wine, WINBG_UNDER_WINE=1 (under
// qemu, WINBG_UNDER_QEMU=1).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { findOnPath } from './tools.mjs';
import { parseArgs } from 'node:util';
import { arm64Command, arm64Status } from './arm64.mjs';
import { ensureNativeTestLib } from './native.mjs';
import { ensureNativeBroker } from './wine-broker.mjs';
import { ensureWineRuntime } from './wine-runtimes.mjs';
import { ensureProxyRegistered } from './wine-proxy.mjs';
import { endWineProcesses, ensureWineReady, runUnderWine, selectWine } from './wine.mjs';
import { wine10Status } from './wine10.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(projectRoot, '.build');
const testBuildDir = path.join(buildDir, 'test');
const harnessPath = path.join(testBuildDir, 'harness.js');

const TIERS = ['portable', 'windows'];
const RUNTIMES = ['node', 'bun', 'deno'];
const RESULT_LINE = /^WINBG-RESULT (\{.*\})\s*$/;
// A harness prints one such line per failed test just before its result line.
const FAIL_LINE = /^WINBG-FAIL (.*)$/;
/** Every failure of this run, `[label] what`, printed again after the summary (CI keeps the end of the log). */
const failureReport = [];

const USAGE = `usage: node scripts/test.mjs [--tier portable|windows]... [--runtime node|bun|deno]...
                             [--filter <substring>] [--timeout <seconds>] [--arch x64|arm64]`;

/** Prints the closing line that CI reads, and sets the exit code from it. */
function finish({ passed, failed, skipped }) {
  console.log(skipped > 0 ? `${passed} passed, ${failed} failed, ${skipped} skipped` : `${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      tier: { type: 'string', multiple: true },
      runtime: { type: 'string', multiple: true },
      filter: { type: 'string' },
      timeout: { type: 'string' },
      arch: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const tiers = values.tier ?? TIERS;
  const runtimes = values.runtime ?? RUNTIMES;
  for (const tier of tiers) if (!TIERS.includes(tier)) throw new Error(`--tier must be one of ${TIERS.join(', ')}; got "${tier}"`);
  for (const rt of runtimes) if (!RUNTIMES.includes(rt)) throw new Error(`--runtime must be one of ${RUNTIMES.join(', ')}; got "${rt}"`);
  const timeoutSeconds = values.timeout === undefined ? 600 : Number(values.timeout);
  if (!(timeoutSeconds > 0)) throw new Error(`--timeout must be a positive number of seconds; got "${values.timeout}"`);
  const arch = values.arch ?? process.arch;
  if (arch !== process.arch && !(arch === 'arm64' && process.platform === 'linux' && process.arch === 'x64')) {
    throw new Error(`--arch ${arch}: only arm64 on x64 Linux (under qemu-user) is emulated; this is ${process.platform}-${process.arch}`);
  }
  return {
    help: values.help ?? false,
    // The tests run under qemu-user (portable tier, node only): see scripts/arm64.mjs.
    underQemu: arch !== process.arch,
    // Keep the canonical order whatever order the options came in.
    tiers: TIERS.filter((t) => tiers.includes(t)),
    runtimes: RUNTIMES.filter((r) => runtimes.includes(r)),
    filter: values.filter,
    timeoutMs: timeoutSeconds * 1000,
  };
}

function requiredRuntimes() {
  const listed = (process.env.WINBG_REQUIRE_RUNTIMES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of listed) {
    if (!RUNTIMES.includes(name)) throw new Error(`WINBG_REQUIRE_RUNTIMES: unknown runtime "${name}" (known: ${RUNTIMES.join(', ')})`);
  }
  return listed;
}

/** Compiles lib/ and test/ into .build/ afresh; returns tsc's output when it fails. */
function compile() {
  // A fresh .build/: tsc never deletes outputs, and the .js of a deleted test would still run.
  fs.rmSync(buildDir, { recursive: true, force: true });
  const tsc = path.join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!fs.existsSync(tsc)) return { ok: false, output: 'node_modules/typescript is missing; run npm ci.' };
  console.log('Compiling lib/ and test/ with tsc -p tsconfig.json ...');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], {
    cwd: projectRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 600_000,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}`;
  return { ok: result.status === 0, output };
}

/** Compiled test files of a tier, relative to .build/test/, sorted. */
function findTestFiles(tier) {
  const found = [];
  const walk = (dir, rel) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), relPath);
      else if (entry.name.endsWith('.test.js')) found.push(relPath);
    }
  };
  walk(testBuildDir, '');
  const inWindows = (file) => file.startsWith('windows/');
  return found.filter((file) => (tier === 'windows' ? inWindows(file) : !inWindows(file))).sort();
}

/** Subfolders of node_modules/<scope> whose name starts with `prefix`, as absolute paths. */
function scopedPackages(scope, prefix) {
  const dir = path.join(projectRoot, 'node_modules', scope);
  try {
    return fs.readdirSync(dir).filter((name) => name.startsWith(prefix)).map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

/**
 * Places where the bun or deno binary can be, best first. The npm packages `bun` and `deno` ship
 * the binary in a per-platform optional package; their postinstall scripts move (bun) or hard-link
 * (deno) it to node_modules/bun/bin/bun.exe and node_modules/deno/deno. npm may not run those
 * scripts (allowScripts, --ignore-scripts), and then node_modules/.bin/bun is a placeholder that
 * only prints an error, so the platform packages are looked at directly as well.
 */
function runtimeCandidates(name) {
  const exe = process.platform === 'win32' ? '.exe' : '';
  const nodeModules = path.join(projectRoot, 'node_modules');
  const onPath = findOnPath(name);
  if (name === 'bun') {
    // Bun names platforms windows/linux/darwin and arm64 aarch64; its Linux packages come in
    // glibc, musl and "baseline" (no AVX2) builds, and running --version tells which one works.
    const os = process.platform === 'win32' ? 'windows' : process.platform;
    const arch = process.arch === 'arm64' ? 'aarch64' : process.arch;
    return [
      path.join(nodeModules, 'bun', 'bin', 'bun.exe'),
      ...scopedPackages('@oven', `bun-${os}-${arch}`).map((dir) => path.join(dir, 'bin', `bun${exe}`)),
      ...(onPath ? [onPath] : []),
    ];
  }
  return [
    path.join(nodeModules, 'deno', `deno${exe}`),
    ...scopedPackages('@deno', `${process.platform}-${process.arch}`).map((dir) => path.join(dir, `deno${exe}`)),
    ...(onPath ? [onPath] : []),
  ];
}

/** The first candidate binary that answers --version, or null. */
function findRuntimeBinary(name) {
  for (const candidate of runtimeCandidates(name)) {
    if (!fs.existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ['--version'], { stdio: 'ignore', timeout: 20_000 });
    if (probe.status === 0) return candidate;
  }
  return null;
}

/** Command line that runs the harness in a runtime, or null when the runtime is not found. */
function harnessCommand(runtime, harnessArgs) {
  // The GC is exposed so that tests can prove a FinalizationRegistry releases forgotten references.
  if (runtime === 'node') return { command: process.execPath, args: ['--expose-gc', harnessPath, ...harnessArgs] };
  const binary = findRuntimeBinary(runtime);
  if (!binary) return null;
  if (runtime === 'bun') return { command: binary, args: [harnessPath, ...harnessArgs] };
  // -A grants everything, including --allow-ffi, which loading koffi's .node addon needs.
  // --node-modules-dir=manual: resolve bare imports (koffi, uvu) from our node_modules, installed
  // by npm, and never install anything itself. --no-lock: do not write a deno.lock into the repo.
  return {
    command: binary,
    args: ['run', '-A', '--node-modules-dir=manual', '--no-lock', '--v8-flags=--expose-gc', harnessPath, ...harnessArgs],
  };
}

/** Writes a child's output line by line, each line prefixed with the run's label. */
class LabelledEcho {
  constructor(label) {
    this.prefix = `[${label}] `;
    this.decoder = new StringDecoder('utf8');
    this.pending = '';
    this.lines = [];
  }

  write(chunk) {
    const text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const parts = text.split('\n');
    this.pending = parts.pop() ?? '';
    for (const line of parts) this.emit(line);
  }

  end() {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest) this.emit(rest);
  }

  emit(rawLine) {
    // node.exe writes CRLF on Windows and under Wine.
    const line = rawLine.replace(/\r$/, '');
    this.lines.push(line);
    process.stdout.write(`${this.prefix}${line}\n`);
  }
}

/** The child currently running, so that Ctrl+C can take it down too. */
let current = null;

function killTree(child) {
  if (process.platform === 'win32') {
    spawnSync('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore', timeout: 30_000 });
  } else {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Runs a native child with a timeout; never rejects, never waits past the timeout (plus a grace). */
function runNative(command, args, { env, timeoutMs, echo }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group on POSIX, so a timeout kills whatever the tests started as well.
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    current = { kill: () => killTree(child) };
    let timedOut = false;
    let exitCode = null;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      current = null;
      echo.end();
      resolve({ code: exitCode, timedOut });
    };
    child.stdout.on('data', (chunk) => echo.write(chunk));
    child.stderr.on('data', (chunk) => echo.write(chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child);
      setTimeout(settle, 5_000).unref();
    }, timeoutMs);
    child.on('error', (error) => {
      echo.write(`could not start ${command}: ${error.message}\n`);
      settle();
    });
    child.on('exit', (code) => {
      exitCode = code;
      // Output can still be in the pipes after exit; 'close' says it has all been read. A process
      // the child left behind can hold the pipes open, so do not wait for 'close' for long.
      setTimeout(settle, 2_000).unref();
    });
    child.on('close', settle);
  });
}

/** Turns what a child printed and how it ended into counts for the totals. */
function tally(label, lines, { code, timedOut }, timeoutMs) {
  const resultLine = lines.findLast((line) => RESULT_LINE.test(line));
  let counts = null;
  if (resultLine) {
    try {
      const parsed = JSON.parse(RESULT_LINE.exec(resultLine)[1]);
      const valid = ['passed', 'failed', 'skipped'].every((key) => Number.isInteger(parsed[key]) && parsed[key] >= 0);
      if (valid) counts = { passed: parsed.passed, failed: parsed.failed, skipped: parsed.skipped };
    } catch {
      // reported below as a missing result
    }
  }
  const problems = [];
  if (timedOut) problems.push(`timed out after ${timeoutMs / 1000} s and was killed`);
  if (!counts) {
    problems.push(
      resultLine ? `printed a malformed result line: ${resultLine}` : `ended (exit code ${code}) without a WINBG-RESULT line`,
    );
    counts = { passed: 0, failed: 0, skipped: 0 };
  } else if (!timedOut && code !== 0 && counts.failed === 0) {
    problems.push(`reported no failure but exited with code ${code}`);
  }
  for (const line of lines) {
    const failure = FAIL_LINE.exec(line);
    if (failure) failureReport.push(`[${label}] ${failure[1]}`);
  }
  if (problems.length > 0) {
    console.log(`[${label}] FAILED: ${problems.join('; ')}`);
    failureReport.push(`[${label}] ${problems.join('; ')}`);
    counts.failed += 1;
  }
  return counts;
}

/**
 * Whether a runtime's Windows build runs a script under Wine (deno.exe 2.9.6 aborts in V8 under
 * Wine 8 before any script runs). Resolves { ok } or { ok: false, reason } with its last output.
 */
async function probeUnderWine({ exe, scriptArgs }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'winbg-probe-'));
  const script = path.join(dir, 'probe.mjs');
  fs.writeFileSync(script, "console.log('WINBG-PROBE ' + typeof globalThis.process);\n");
  try {
    const result = await runUnderWine(script, [], { exe, nodeArgs: scriptArgs, timeoutMs: 120_000 });
    if (result.output.includes('WINBG-PROBE object')) return { ok: true };
    // V8 frames its fatal errors in lines of '#'.
    const said = result.output.split(/\r?\n/).map((line) => line.replace(/^#\s*/, '').trim()).filter(Boolean);
    return {
      ok: false,
      reason: `${path.basename(exe)} does not run a script under Wine (exit code ${result.code}): ${said[0] || 'it printed nothing'}`,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  let options;
  let required;
  try {
    options = parseOptions(process.argv.slice(2));
    required = requiredRuntimes();
  } catch (error) {
    console.log(`${error.message}\n${USAGE}`);
    return finish({ passed: 0, failed: 1, skipped: 0 });
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const requireWine = process.env.WINBG_REQUIRE_WINE === '1';
  const requiredUnderWine = (process.env.WINBG_REQUIRE_WINE_RUNTIMES ?? '').split(',').map((name) => name.trim()).filter(Boolean);

  const compiled = compile();
  if (!compiled.ok) {
    console.log(compiled.output.trimEnd());
    console.log('tsc failed: nothing was run.');
    return finish({ passed: 0, failed: 1, skipped: 0 });
  }
  if (!fs.existsSync(harnessPath)) {
    console.log(`${path.relative(projectRoot, harnessPath)} is missing after compiling (test/harness.ts?).`);
    return finish({ passed: 0, failed: 1, skipped: 0 });
  }

  const totals = { passed: 0, failed: 0, skipped: 0 };
  const summary = [];
  const record = (label, counts, note = '') => {
    totals.passed += counts.passed;
    totals.failed += counts.failed;
    totals.skipped += counts.skipped;
    summary.push(`  ${label.padEnd(20)} ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${note}`);
  };
  // A run that cannot happen: skipped, or failed when the environment says it is required.
  const notRun = (label, reason, isRequired) => {
    console.log(`[${label}] ${isRequired ? 'FAILED' : 'SKIPPED'}: ${reason}`);
    if (isRequired) failureReport.push(`[${label}] not run: ${reason}`);
    record(label, isRequired ? { passed: 0, failed: 1, skipped: 0 } : { passed: 0, failed: 0, skipped: 1 }, ' (not run)');
  };

  const harnessArgs = (tier) => ['--tier', tier, ...(options.filter !== undefined ? ['--filter', options.filter] : [])];
  const runtimeEnv = (tier, runtime) => ({
    WINBG_TEST_TIER: tier,
    WINBG_TEST_RUNTIME: runtime,
    // Deno otherwise looks for a newer version of itself in the background.
    DENO_NO_UPDATE_CHECK: '1',
  });

  /** Runs one harness as a native child, echoing its output under `label`, and records its counts. */
  const runAndRecord = async (label, command, args, env) => {
    const echo = new LabelledEcho(label);
    const started = Date.now();
    const result = await runNative(command, args, { env, timeoutMs: options.timeoutMs, echo });
    record(label, tally(label, echo.lines, result, options.timeoutMs), ` (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  };

  /** The portable tier with the Linux arm64 node under qemu-user (scripts/arm64.mjs). */
  const runUnderQemu = async (tier, args, fileCount) => {
    const label = `${tier}/node-arm64`;
    const qemu = arm64Status();
    const requireArm64 = process.env.WINBG_REQUIRE_ARM64 === '1';
    if (!qemu.ok) {
      notRun(label, `${qemu.reason}${requireArm64 ? ' (WINBG_REQUIRE_ARM64=1)' : ''}`, requireArm64);
      return;
    }
    const testLib = ensureNativeTestLib({ target: 'linux-arm64', log: (line) => console.log(`[${label}] ${line}`) });
    if (!testLib.ok) console.log(`[${label}] winbgtest not available: ${testLib.reason}`);
    const command = arm64Command(harnessPath, args, { nodeArgs: ['--expose-gc'] });
    console.log(`[${label}] ${fileCount} test file(s): ${command.command} -L ${command.args[1]} ${command.args[2]}`);
    await runAndRecord(label, command.command, command.args, { ...command.env, ...runtimeEnv(tier, 'node'), WINBG_UNDER_QEMU: '1' });
  };

  /**
   * The Windows tier under Wine with one runtime's Windows build: node.exe (scripts/wine.mjs),
   * bun.exe or deno.exe (scripts/wine-runtimes.mjs), under the system's Wine, or where that
   * runtime cannot run a script there (deno.exe under Wine 8), under Wine 10 (scripts/wine10.mjs)
   * when it is set up. A runtime that runs under neither is not run, with what it printed as the
   * reason; WINBG_REQUIRE_WINE_RUNTIMES makes that a failure.
   */
  const runWineTier = async (tier, runtime, fileCount) => {
    try {
      const chosen = await chooseWine(tier, runtime);
      if (chosen) await runWineHarness(tier, runtime, fileCount, chosen);
    } finally {
      selectWine('system');
    }
  };

  /** Selects the Wine to run `runtime` under and returns its label and launch, or null (recorded as not run). */
  const chooseWine = async (tier, runtime) => {
    const reasons = [];
    for (const wine of runtime === 'node' ? ['system'] : ['system', 'wine10']) {
      selectWine(wine);
      const label = `${tier}/${wine === 'system' ? 'wine' : wine}-${runtime}`;
      const log = (line) => console.log(`[${label}] ${line}`);
      const named = (reason) => (wine === 'system' ? reason : `under Wine 10: ${reason}`);
      if (wine === 'wine10' && !wine10Status().ok) {
        reasons.push(named(wine10Status().reason));
        continue;
      }
      let ready;
      try {
        ready = ensureWineReady({ log });
      } catch (error) {
        ready = { ok: false, reason: `could not set Wine up: ${error.message}` };
      }
      if (!ready.ok) {
        reasons.push(named(ready.reason));
        continue;
      }
      if (runtime === 'node') return { label, log, launch: { exe: ready.nodeExe, nodeArgs: ['--expose-gc'] } };
      const status = ensureWineRuntime(runtime, { log });
      if (!status.ok) {
        reasons.push(status.reason);
        break;
      }
      const probe = await probeUnderWine(status);
      if (probe.ok) return { label, log, launch: { exe: status.exe, nodeArgs: status.scriptArgs } };
      reasons.push(named(probe.reason));
    }
    const isRequired = runtime === 'node' ? requireWine : requiredUnderWine.includes(runtime);
    const flag = runtime === 'node' ? 'WINBG_REQUIRE_WINE=1' : 'WINBG_REQUIRE_WINE_RUNTIMES';
    notRun(`${tier}/wine-${runtime}`, `${reasons.join('; ')}${isRequired ? ` (${flag})` : ''}`, isRequired);
    return null;
  };

  /** Runs the harness under the Wine chooseWine selected, and records its counts. */
  const runWineHarness = async (tier, runtime, fileCount, { label, log, launch }) => {
    // The proxy/stub DLL for cross-process calls (test tooling, scripts/wine-proxy.mjs). Without
    // it the tier still runs; the tests that need it see it missing and skip, saying why.
    const proxy = await ensureProxyRegistered({ log });
    if (!proxy.ok) log(`proxy/stub DLL not available: ${proxy.reason}`);
    // The native test broker (scripts/wine-broker.mjs), likewise: native-broker.test skips without it.
    const broker = ensureNativeBroker({ log });
    if (!broker.ok) log(`native test broker not available: ${broker.reason}`);
    // winbgtest.dll (scripts/native.mjs), built here because node.exe cannot run the cross-compiler.
    const testLib = ensureNativeTestLib({ target: 'win32-x64', log });
    if (!testLib.ok) log(`winbgtest.dll not available: ${testLib.reason}`);
    log(`${fileCount} test file(s), ${path.basename(launch.exe)} under Wine`);
    const echo = new LabelledEcho(label);
    const started = Date.now();
    current = { kill: () => endWineProcesses() };
    // --with-portable: the portable suite runs here too, against Wine's real combase and ole32.
    const result = await runUnderWine(harnessPath, [...harnessArgs(tier), '--with-portable'], {
      timeoutMs: options.timeoutMs,
      env: { ...runtimeEnv(tier, runtime), WINBG_UNDER_WINE: '1' },
      ...launch,
      onOutput: (text) => echo.write(text),
    });
    current = null;
    echo.end();
    record(label, tally(label, echo.lines, result, options.timeoutMs), ` (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  };

  // winbgtest (scripts/native.mjs): native threads for the tests of the native IUnknown. Built
  // here for this machine (and for arm64 under qemu); the tests that need it skip without it,
  // saying why, except in CI.
  if (options.tiers.includes('portable') && !options.underQemu) {
    const testLib = ensureNativeTestLib({ log: (line) => console.log(`[native] ${line}`) });
    if (!testLib.ok) console.log(`[native] winbgtest not available: ${testLib.reason}`);
  }

  for (const tier of options.tiers) {
    const files = findTestFiles(tier);
    if (files.length === 0) {
      console.log(`[${tier}] no test files in .build/test${tier === 'windows' ? '/windows' : ''}; nothing to run.`);
      continue;
    }
    if (options.underQemu) {
      // --arch arm64 on x64 Linux: the arm64 node under qemu-user, portable tier only.
      if (tier === 'windows') {
        notRun(`${tier}/arm64`, 'the Windows tier runs on x64 only (Wine); --arch arm64 runs the portable tier.', false);
        continue;
      }
      for (const runtime of options.runtimes) {
        if (runtime !== 'node') notRun(`${tier}/${runtime}-arm64`, 'under qemu only node runs (--arch arm64 --runtime node).', false);
        else await runUnderQemu(tier, harnessArgs(tier), files.length);
      }
      continue;
    }
    const underWine = tier === 'windows' && process.platform === 'linux';
    if (tier === 'windows' && !underWine && process.platform !== 'win32') {
      notRun(`${tier}`, `the Windows tier needs Windows, or Linux with Wine; this is ${process.platform}.`, false);
      continue;
    }

    if (underWine) {
      for (const runtime of options.runtimes) await runWineTier(tier, runtime, files.length);
      continue;
    }

    for (const runtime of options.runtimes) {
      const label = `${tier}/${runtime}`;
      const command = harnessCommand(runtime, harnessArgs(tier));
      if (!command) {
        const isRequired = required.includes(runtime);
        notRun(
          label,
          `${runtime} not found (looked in node_modules and on PATH); npm ci installs it when package.json lists it as a ` +
            `devDependency${isRequired ? ' (WINBG_REQUIRE_RUNTIMES)' : ''}.`,
          isRequired,
        );
        continue;
      }
      console.log(`[${label}] ${files.length} test file(s): ${command.command}`);
      await runAndRecord(label, command.command, command.args, runtimeEnv(tier, runtime));
    }

    // Two more passes of the COM runtime's suites (com/, or --filter) with Node, on this machine:
    // with IUnknown as koffi callbacks (WINBG_NATIVE_UNKNOWN=0, the fallback where no machine
    // code can run), and on arm64 under qemu-user where it is set up (node scripts/arm64.mjs
    // prepare; WINBG_REQUIRE_ARM64=1 makes its absence a failure).
    if (tier === 'portable' && options.runtimes.includes('node')) {
      const args = ['--tier', tier, '--filter', options.filter ?? 'com/'];
      const label = `${tier}/node-js-unknown`;
      console.log(`[${label}] IUnknown as koffi callbacks (WINBG_NATIVE_UNKNOWN=0)`);
      const command = harnessCommand('node', args);
      await runAndRecord(label, command.command, command.args, { ...runtimeEnv(tier, 'node'), WINBG_NATIVE_UNKNOWN: '0' });
      if (process.platform === 'linux' && process.arch === 'x64' && (arm64Status().ok || process.env.WINBG_REQUIRE_ARM64 === '1')) {
        await runUnderQemu(tier, args, files.length);
      }
    }
  }

  if (summary.length > 0) console.log(`Summary:\n${summary.join('\n')}`);
  if (failureReport.length > 0) console.log(`Failures:\n${failureReport.map((line) => `  ${line}`).join('\n')}`);
  finish(totals);
}

// Ctrl+C: children run in their own process groups and would not get the signal themselves.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    current?.kill();
    console.log(`Interrupted (${signal}).`);
    process.exit(130);
  });
}

await main();
