// Builds winbgtest, the small native library of test/support/native/winbgtest.c (test tooling,
// never shipped), for the machine the tests run on: threads that hammer a COM object's IUnknown
// from native code, a minimal native COM object, and a timed AddRef/Release loop.
// Plain ESM, Node built-ins only, so that it runs before anything is compiled.
//
//   node scripts/native.mjs build [--target T]... [--force]   build (if the source changed)
//   node scripts/native.mjs path [--target T]                  print where the library is
//   node scripts/native.mjs check [--threads N] [--iterations N]
//        load the library of this process's platform with koffi (which this one command imports)
//        and hammer its native object: a self-test, also meant to be run under Wine
//        (node scripts/wine.mjs run scripts/native.mjs check) and qemu (scripts/arm64.mjs run ...)
//
// Targets: linux-x64 (cc/gcc), linux-arm64 (aarch64-linux-gnu-gcc, or cc on an arm64 host) and
// win32-x64 (x86_64-w64-mingw32-gcc, a DLL that Wine's node.exe loads). T defaults to this
// process's <platform>-<arch>; "all" means every target.
// Output: .cache/native/<target>/winbgtest.{so,dll}, with winbgtest.stamp beside it holding the
// SHA-256 of the source and the compiler command: the library is rebuilt only when that changes.
// Under Wine, node.exe cannot run the Linux cross-compiler: build on the host first (the stamp then
// matches and the guest rebuilds nothing). Under qemu-user the guest can build: the x64 compiler
// it spawns runs natively.

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath } from './tools.mjs';
import { parseArgs } from 'node:util';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const NATIVE_SOURCE = path.join(projectRoot, 'test', 'support', 'native', 'winbgtest.c');
const outRoot = path.join(projectRoot, '.cache', 'native');

export const TARGETS = ['linux-x64', 'linux-arm64', 'win32-x64'];

/** The target of this process: <platform>-<arch>, e.g. linux-x64 (under Wine: win32-x64). */
export function hostTarget() {
  return `${process.platform}-${process.arch}`;
}

const COMMON_FLAGS = ['-std=c11', '-O2', '-Wall', '-Wextra'];

/** Compilers to try for a target, best first, and the flags for each. */
function toolchains(target) {
  const host = hostTarget();
  const linuxFlags = [...COMMON_FLAGS, '-shared', '-fPIC', '-pthread', '-fvisibility=hidden'];
  switch (target) {
    case 'linux-x64':
      return (host === 'linux-x64' ? ['cc', 'gcc', 'clang'] : []).concat(['x86_64-linux-gnu-gcc']).map((cc) => ({ cc, flags: linuxFlags }));
    case 'linux-arm64':
      // The triplet's name first: under qemu-user this process says arm64, but the cc it finds
      // is the host's x64 one (the machine check below would refuse its output).
      return ['aarch64-linux-gnu-gcc', ...(host === 'linux-arm64' ? ['cc', 'gcc', 'clang'] : [])].map((cc) => ({ cc, flags: linuxFlags }));
    case 'win32-x64':
      // -static-libgcc: the DLL then imports KERNEL32 and msvcrt only, nothing from MinGW.
      return ['x86_64-w64-mingw32-gcc', ...(host === 'win32-x64' ? ['gcc'] : [])].map((cc) => ({
        cc,
        flags: [...COMMON_FLAGS, '-shared', '-static-libgcc'],
      }));
    default:
      return [];
  }
}

/** Where a target's library goes (whether or not it is built). */
export function nativeTestLibPath(target = hostTarget()) {
  return path.join(outRoot, target, target.startsWith('win32-') ? 'winbgtest.dll' : 'winbgtest.so');
}

/** The machine a built library is for, from its ELF or PE header: 'x64', 'arm64', or a number. */
function machineOf(file) {
  const header = Buffer.alloc(512);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, header.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (header.readUInt32BE(0) === 0x7f454c46) {
    const machine = header.readUInt16LE(18); // e_machine
    return machine === 62 ? 'x64' : machine === 183 ? 'arm64' : machine;
  }
  if (header.toString('latin1', 0, 2) === 'MZ') {
    const pe = header.readUInt32LE(0x3c); // e_lfanew
    if (pe + 6 <= header.length && header.readUInt32LE(pe) === 0x00004550) {
      const machine = header.readUInt16LE(pe + 4);
      return machine === 0x8664 ? 'x64' : machine === 0xaa64 ? 'arm64' : machine;
    }
  }
  return 'unknown';
}

function stampPath(target) {
  return path.join(outRoot, target, 'winbgtest.stamp');
}

/** What identifies a build: the source and the command (not the compiler's absolute path). */
function buildHash(source, toolchain) {
  return crypto.createHash('sha256').update(source).update('\0').update([toolchain.cc, ...toolchain.flags].join(' ')).digest('hex');
}

function readStamp(target) {
  try {
    return JSON.parse(fs.readFileSync(stampPath(target), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Makes sure the library for `target` is built from the current source; builds it when missing
 * or stale (unless `force`, only then). Synchronous; about a second when it compiles.
 * @param {{ target?: string, log?: (line: string) => void, force?: boolean }} [options]
 * @returns {{ ok: true, path: string, rebuilt: boolean } | { ok: false, path: string, reason: string }}
 */
export function ensureNativeTestLib({ target = hostTarget(), log = () => {}, force = false } = {}) {
  const libPath = nativeTestLibPath(target);
  if (!TARGETS.includes(target)) return { ok: false, path: libPath, reason: `unknown target "${target}" (known: ${TARGETS.join(', ')})` };
  let source;
  try {
    source = fs.readFileSync(NATIVE_SOURCE);
  } catch (error) {
    return { ok: false, path: libPath, reason: `cannot read ${path.relative(projectRoot, NATIVE_SOURCE)}: ${error.message}` };
  }
  const candidates = toolchains(target);
  // Up to date: the stamp names the hash of this source with the compiler that built it, and
  // any of this target's compilers would do. Checked before looking for a compiler, so that a
  // guest without one (Wine, qemu) uses the library the host built.
  const stamp = readStamp(target);
  if (!force && stamp && fs.existsSync(libPath)) {
    const built = candidates.find((toolchain) => toolchain.cc === stamp.cc);
    if (built && stamp.hash === buildHash(source, built)) return { ok: true, path: libPath, rebuilt: false };
  }
  const toolchain = candidates.find((candidate) => findOnPath(candidate.cc));
  if (!toolchain) {
    const names = candidates.map((candidate) => candidate.cc).join(' or ') || '(none for this host)';
    const hint = process.platform === 'win32' && process.env.WINBG_UNDER_WINE === '1' ? `; under Wine, build it on the host: node scripts/native.mjs build --target ${target}` : '';
    return { ok: false, path: libPath, reason: `no C compiler for ${target} on PATH (looked for ${names})${hint}` };
  }
  fs.mkdirSync(path.dirname(libPath), { recursive: true });
  // Built under a temporary name and renamed, so that a loader never sees a half-written file;
  // the stamp is written last, so that a build cut short is redone.
  const partial = `${libPath}.partial-${process.pid}${path.extname(libPath)}`;
  const args = [...toolchain.flags, '-o', partial, NATIVE_SOURCE];
  log(`Building ${path.relative(projectRoot, libPath)}: ${toolchain.cc} ${args.map((arg) => path.relative(projectRoot, arg) || arg).join(' ')}`);
  const started = Date.now();
  const result = spawnSync(toolchain.cc, args, { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  if (result.status !== 0) {
    fs.rmSync(partial, { force: true });
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    return { ok: false, path: libPath, reason: `${toolchain.cc} failed (${result.error?.message ?? `exit ${result.status}`})${output ? `:\n${output}` : ''}` };
  }
  const warnings = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  if (warnings) log(warnings);
  const machine = machineOf(partial);
  const wanted = target.split('-')[1];
  if (machine !== wanted) {
    fs.rmSync(partial, { force: true });
    return { ok: false, path: libPath, reason: `${toolchain.cc} built a library for ${machine}, not ${wanted}; install a ${target} cross-compiler` };
  }
  fs.rmSync(stampPath(target), { force: true });
  fs.renameSync(partial, libPath);
  fs.writeFileSync(stampPath(target), `${JSON.stringify({ hash: buildHash(source, toolchain), cc: toolchain.cc, flags: toolchain.flags })}\n`);
  log(`Built in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  return { ok: true, path: libPath, rebuilt: true };
}

/** koffi declarations of the library's exports (what test code binds). */
export const NATIVE_TEST_LIB_FUNCTIONS = {
  wt_hammer_start: 'int wt_hammer_start(void *object, const void *known_iid, int threads, int iterations, int64_t *results)',
  wt_hammer_join: 'void wt_hammer_join(void)',
  wt_hammer_identity: 'void *wt_hammer_identity(void)',
  wt_error_name: 'const char *wt_error_name(int code)',
  wt_result_slots: 'int wt_result_slots(void)',
  wt_native_object_create: 'void *wt_native_object_create(void)',
  wt_native_object_count: 'int64_t wt_native_object_count(void)',
  wt_addref_release_pairs: 'double wt_addref_release_pairs(void *object, int64_t n)',
};

/** Slots of results[], by name (see winbgtest.c). */
export const RESULT_SLOTS = ['finished', 'rounds', 'errors', 'firstError', 'maxAddRef', 'started', 'firstErrorValue', 'elapsedNs'];

/**
 * The self-test: hammers the library's native object from `threads` threads, then checks that
 * every round ran, nothing failed, and every object is freed. Returns a report; throws on failure.
 */
async function check({ threads, iterations, pairs }) {
  const built = ensureNativeTestLib({ log: (line) => console.log(line) });
  if (!built.ok) throw new Error(built.reason);
  const { default: koffi } = await import('koffi');
  const lib = koffi.load(built.path);
  const fn = Object.fromEntries(Object.entries(NATIVE_TEST_LIB_FUNCTIONS).map(([name, decl]) => [name, lib.func(decl)]));
  // AddRef (slot 1) and Release (slot 2) through the vtable, as test/support/native.ts does.
  const method = koffi.proto('__stdcall', 'wt_unknown_method', 'uint32_t', ['void *']);
  const uint32 = (object, slot) => koffi.call(koffi.decode(koffi.decode(object, 'void *'), slot * 8, 'void *'), method, object);

  const slots = fn.wt_result_slots();
  // Caller memory that stays put while the threads write to it (not a JS array koffi would copy).
  const results = koffi.address(koffi.alloc('int64_t', slots));
  const read = () => {
    const values = koffi.decode(results, 'int64_t', slots);
    return Object.fromEntries(RESULT_SLOTS.map((name, i) => [name, Number(values[i])]));
  };
  const before = Number(fn.wt_native_object_count());
  const object = fn.wt_native_object_create();
  console.log(`${process.platform}-${process.arch} (${process.version}), koffi ${koffi.version}: ${built.path}`);

  const started = fn.wt_hammer_start(object, null, threads, iterations, results);
  if (started !== threads) throw new Error(`wt_hammer_start returned ${started}, expected ${threads}`);
  const t0 = Date.now();
  // Poll, with the event loop free: what a test of a JS object (whose callbacks need it) must do.
  let r = read();
  while (r.finished < started) {
    if (Date.now() - t0 > 600_000) throw new Error(`hammer did not finish in 600 s: ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    r = read();
  }
  fn.wt_hammer_join();
  const identity = fn.wt_hammer_identity();
  const nsPerPair = fn.wt_addref_release_pairs(object, pairs) / pairs;
  const refsAfter = uint32(object, 1) - 1; // AddRef returns the count; take it back with Release
  uint32(object, 2);
  const lastRelease = uint32(object, 2);
  const after = Number(fn.wt_native_object_count());
  koffi.free(results);

  console.log(`hammer: ${JSON.stringify(r)}`);
  console.log(
    `${r.rounds} rounds on ${started} threads in ${(r.elapsedNs / 1e6).toFixed(1)} ms ` +
      `(${((r.elapsedNs / r.rounds) * started).toFixed(0)} ns per round per thread); ` +
      `identity ${identity === null ? 'null' : `0x${BigInt(identity).toString(16)}`} (object 0x${BigInt(object).toString(16)}); ` +
      `AddRef+Release pair on the native object: ${nsPerPair.toFixed(2)} ns; references after: ${refsAfter}, ` +
      `last Release: ${lastRelease}; live native objects: ${before} before, ${after} after`,
  );
  const problems = [];
  if (r.errors !== 0) problems.push(`${r.errors} failed checks, first: ${fn.wt_error_name(r.firstError)} (value ${r.firstErrorValue})`);
  if (r.rounds !== threads * iterations) problems.push(`${r.rounds} rounds, expected ${threads * iterations}`);
  if (r.started !== threads) problems.push(`results[5] says ${r.started} threads started`);
  if (r.maxAddRef < 2) problems.push(`largest AddRef result ${r.maxAddRef}, expected at least 2`);
  if (refsAfter !== 1) problems.push(`the object has ${refsAfter} references after the hammer, expected 1`);
  if (lastRelease !== 0) problems.push(`the last Release returned ${lastRelease}`);
  if (after !== before) problems.push(`${after - before} native objects leaked`);
  if (problems.length > 0) throw new Error(problems.join('; '));
  console.log('native check passed');
}

function usage() {
  return (
    'usage: node scripts/native.mjs build [--target linux-x64|linux-arm64|win32-x64|all]... [--force]\n' +
    '       node scripts/native.mjs path [--target T]\n' +
    '       node scripts/native.mjs check [--threads 8] [--iterations 100000] [--pairs 10000000]'
  );
}

async function main(argv) {
  const [command, ...rest] = argv;
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        target: { type: 'string', multiple: true },
        force: { type: 'boolean' },
        threads: { type: 'string' },
        iterations: { type: 'string' },
        pairs: { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`${error.message}\n${usage()}`);
    return 2;
  }
  const targets = (values.target ?? [hostTarget()]).flatMap((t) => (t === 'all' ? TARGETS : [t]));
  switch (command) {
    case 'build': {
      let failed = 0;
      for (const target of targets) {
        const result = ensureNativeTestLib({ target, force: values.force ?? false, log: (line) => console.log(line) });
        if (result.ok) console.log(`${target}: ${result.rebuilt ? 'built' : 'up to date'}: ${result.path}`);
        else {
          console.error(`${target}: ${result.reason}`);
          failed++;
        }
      }
      return failed === 0 ? 0 : 1;
    }
    case 'path':
      for (const target of targets) console.log(nativeTestLibPath(target));
      return 0;
    case 'check':
      try {
        await check({
          threads: Number(values.threads ?? 8),
          iterations: Number(values.iterations ?? 100_000),
          pairs: Number(values.pairs ?? 10_000_000),
        });
        return 0;
      } catch (error) {
        console.error(`native check FAILED: ${error.message}`);
        return 1;
      }
    default:
      console.error(usage());
      return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

