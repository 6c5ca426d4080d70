// bun.exe and deno.exe for the Wine test tier: `node scripts/wine.mjs runtimes` fetches them.
//
// Their Windows builds come from the platform packages the npm packages `bun` and `deno` list
// as optional dependencies (@oven/bun-windows-x64, @deno/win32-x64), at the version installed in
// node_modules, fetched with npm pack and checked against package-lock.json's integrity, since
// npm install refuses them on Linux. Both import ProcessPrng from bcryptprimitives.dll, which
// Wine 8 lacks; test/windows/process-prng/ is a DLL exporting it, built with mingw-w64 and placed
// next to each .exe. Test tooling only, never shipped. Plain ESM, Node built-ins only.
//
//   .cache/wine/oven-bun-windows-x64-<version>/bin/bun.exe (+ bcryptprimitives.dll)
//   .cache/wine/deno-win32-x64-<version>/deno.exe         (+ bcryptprimitives.dll)
//   .cache/wine/process-prng/bcryptprimitives.dll         the build

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureMingwBuild } from './mingw.mjs';
import { fetchPackage } from './tools.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = path.join(projectRoot, '.cache', 'wine');
const prngSource = path.join(projectRoot, 'test', 'windows', 'process-prng');

/** The Windows runtimes besides node.exe: their package, where the .exe is in it, how a script runs. */
const RUNTIMES = {
  bun: { linuxPackage: 'bun', windowsPackage: '@oven/bun-windows-x64', exe: ['bin', 'bun.exe'], scriptArgs: [] },
  deno: {
    linuxPackage: 'deno',
    windowsPackage: '@deno/win32-x64',
    exe: ['deno.exe'],
    // As scripts/test.mjs runs the Linux deno: every permission (koffi needs --allow-ffi), bare
    // imports from our node_modules, no deno.lock written, and the GC exposed.
    scriptArgs: ['run', '-A', '--node-modules-dir=manual', '--no-lock', '--v8-flags=--expose-gc'],
  },
};

export const WINE_RUNTIMES = Object.keys(RUNTIMES);

/** Version of the npm package installed in node_modules, or null. */
function installedVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(projectRoot, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** Where a runtime's Windows build goes, for the version installed in node_modules (null if none is). */
export function wineRuntimePaths(name) {
  const runtime = RUNTIMES[name];
  const version = installedVersion(runtime.linuxPackage);
  if (!version) return null;
  // @oven/bun-windows-x64 → oven-bun-windows-x64-<version>, as npm pack names the tarball.
  const dir = path.join(cacheDir, `${runtime.windowsPackage.slice(1).replace('/', '-')}-${version}`);
  const exe = path.join(dir, ...runtime.exe);
  return { version, dir, exe, prng: path.join(path.dirname(exe), 'bcryptprimitives.dll') };
}

/** Builds bcryptprimitives.dll (when its inputs changed) and copies it next to `exe`. */
function placeProcessPrng(paths, log) {
  const built = ensureMingwBuild({
    what: 'bcryptprimitives.dll (ProcessPrng for Wine 8)',
    sourceDir: prngSource,
    outDir: path.join(cacheDir, 'process-prng'),
    outputName: 'bcryptprimitives.dll',
    args: ['-shared', '-O2', '-Wall', '-o', 'bcryptprimitives.dll',
      path.join(prngSource, 'bcryptprimitives.c'), path.join(prngSource, 'bcryptprimitives.def'), '-ladvapi32'],
    log,
  });
  if (!built.ok) return built;
  const bytes = fs.readFileSync(built.file);
  if (!fs.existsSync(paths.prng) || !fs.readFileSync(paths.prng).equals(bytes)) fs.writeFileSync(paths.prng, bytes);
  return { ok: true };
}

/**
 * Makes a runtime's Windows build ready without the network: builds and places the ProcessPrng
 * DLL. Never throws.
 * @returns {{ ok: true, exe: string, scriptArgs: string[], version: string } | { ok: false, reason: string }}
 */
export function ensureWineRuntime(name, { log = () => {} } = {}) {
  const runtime = RUNTIMES[name];
  if (!runtime) return { ok: false, reason: `no Windows build of ${name} is known here (${WINE_RUNTIMES.join(', ')} are)` };
  const paths = wineRuntimePaths(name);
  if (!paths) return { ok: false, reason: `node_modules/${runtime.linuxPackage} is missing; run npm ci first.` };
  if (!fs.existsSync(paths.exe)) {
    return { ok: false, reason: `${runtime.windowsPackage}@${paths.version} is not fetched; run: node scripts/wine.mjs runtimes` };
  }
  try {
    const placed = placeProcessPrng(paths, log);
    if (!placed.ok) return placed;
  } catch (error) {
    return { ok: false, reason: `could not place bcryptprimitives.dll next to ${paths.exe}: ${error.message}` };
  }
  return { ok: true, exe: paths.exe, scriptArgs: runtime.scriptArgs, version: paths.version };
}

/**
 * Fetches each runtime's Windows build that is missing, then makes it ready. Throws saying what failed.
 * @returns {{ ok: true, runtimes: Record<string, { exe: string, scriptArgs: string[], version: string }> }}
 */
export function prepareWineRuntimes({ log = (line) => console.log(line) } = {}) {
  const ready = {};
  for (const name of WINE_RUNTIMES) {
    const paths = wineRuntimePaths(name);
    if (!paths) throw new Error(`node_modules/${RUNTIMES[name].linuxPackage} is missing; run npm ci first.`);
    if (!fs.existsSync(paths.exe)) fetchPackage(RUNTIMES[name].windowsPackage, paths.version, paths.dir, { workDir: cacheDir, log });
    const status = ensureWineRuntime(name, { log });
    if (!status.ok) throw new Error(status.reason);
    ready[name] = status;
  }
  return { ok: true, runtimes: ready };
}
