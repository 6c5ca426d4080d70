// The one place that imports koffi: everything else in winbg reaches native code through lib/ffi/.
import { createRequire } from 'node:module';
import type koffiModule from 'koffi';

// koffi's CommonJS entry (its package.json "exports" → "require"), or, under Node, its prebuilt
// addon directly. Its ES module entry loads the same native addon, through require() too, but first
// runs `import util from 'node:util'` and `import fs from 'node:fs'`, and an ES module import of a
// built-in makes Node evaluate every lazy export of it (fs.promises, streams, readline,
// perf_hooks…): about a third of koffi's load time. Node, Bun and Deno all provide createRequire
// (node:module); every way shares one addon (require caches it by its path), so pointers and types
// made through one work with the others.
const require = createRequire(import.meta.url);

/**
 * koffi's prebuilt addon for this machine, required directly, or null (then koffi's entry does it).
 *
 * koffi's entry spends about 5 ms of a 7 ms load before it requires the addon: resolving the
 * platform package through require() (two of them, through node_modules), reading the ELF header of
 * the Node binary for its libc, and node:util's deprecation wrappers of functions winbg does not
 * call. The addon itself loads in about 1 ms. koffi 3.x ships it in two places, and takes the
 * first that loads: `@koromix/koffi-<platform>-<arch>/<triplet>/koffi.node`, the package next to
 * koffi's own (npm and pnpm both place it there), and `koffi/build/koffi/<triplet>/koffi.node`,
 * where `<triplet>` is `<platform>_<arch>`, with `musl_<arch>` instead on a musl Linux.
 *
 * Only under Node itself (not Bun, Deno or Electron, which have their own ways of placing and
 * loading addons), only where the triplet needs no more than the platform and the architecture
 * (x64, arm64, ia32), and only when the addon says it is the version of the koffi package next to
 * it. Anything else, or any failure, leaves it to koffi's entry. WINBG_KOFFI_LOADER=package forces
 * that way.
 */
function prebuiltAddon(): typeof koffiModule | null {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.bun || versions.deno || versions.electron || process.env.WINBG_KOFFI_LOADER === 'package') return null;
  if (process.arch !== 'x64' && process.arch !== 'arm64' && process.arch !== 'ia32') return null;
  try {
    const fs = require('node:fs') as typeof import('node:fs');
    const path = require('node:path') as typeof import('node:path');
    const { fileURLToPath } = require('node:url') as typeof import('node:url');
    const koffiDir = installedPackage(fs, path, path.dirname(fileURLToPath(import.meta.url)), 'koffi');
    if (koffiDir === null) return null;
    const { version } = JSON.parse(fs.readFileSync(path.join(koffiDir, 'package.json'), 'utf8')) as { version?: unknown };
    const libc = process.platform === 'linux' ? linuxLibc(fs) : null;
    if (libc === undefined) return null;
    const triplet = `${libc === 'musl' ? 'musl' : process.platform}_${process.arch}`;
    for (const file of [
      path.join(koffiDir, '..', '@koromix', `koffi-${process.platform}-${process.arch}`, triplet, 'koffi.node'),
      path.join(koffiDir, 'build', 'koffi', triplet, 'koffi.node'),
    ]) {
      if (!fs.existsSync(file)) continue;
      // fs.realpathSync, not .native: the same spelling of the path as require's own cache key
      // (on Windows the two may differ in a drive letter's case, and koffi's entry would load a
      // second instance of the addon).
      return loadAddon(fs.realpathSync(file), version);
    }
  } catch {
    // koffi's entry finds it, or says why it cannot.
  }
  return null;
}

/**
 * Loads the addon at `file` (a real path) as require() would, and leaves it in require's cache
 * under that path, where koffi's entry finds it if the app requires koffi too: one addon, one set
 * of types. process.dlopen rather than require(file): the first require() in a process that has
 * only run ES modules pays about 1.3 ms for setting up CommonJS resolution that a path needs none
 * of. Null when the addon is not of `version`.
 */
function loadAddon(file: string, version: unknown): typeof koffiModule | null {
  // The app required koffi before winbg: its entry loaded the addon under this same key. Loading
  // it again would make a second instance with types of its own, and mixing the two crashes.
  const loaded = require.cache[file];
  if (loaded?.loaded) return (loaded.exports as { version?: unknown }).version === version ? (loaded.exports as typeof koffiModule) : null;
  const Module = require('node:module') as typeof import('node:module') & (new (id: string) => NodeJS.Module);
  const module = new Module(file);
  module.filename = file;
  process.dlopen(module, file);
  const addon = module.exports as typeof koffiModule & { version?: unknown };
  if (typeof version !== 'string' || addon.version !== version) return null;
  module.loaded = true;
  require.cache[file] = module;
  return addon;
}

/**
 * The directory of the package `name` as Node's resolution finds it first: `node_modules/<name>` in
 * the directory `from` or the nearest of its parents that has one (Node's "Loading from
 * node_modules folders"), through symbolic links (pnpm links packages into a store, where a
 * package's dependencies are its siblings). `require.resolve` does the same and more (NODE_PATH,
 * the package's "exports"), but its first call in a process costs about 2 ms: its caches start
 * empty. Null when no such folder is found; then koffi's entry resolves it.
 */
function installedPackage(fs: typeof import('node:fs'), path: typeof import('node:path'), from: string, name: string): string | null {
  for (let dir = from; ; ) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync.native(candidate);
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * The C library the running Node is linked against, from the program interpreter it names
 * (PT_INTERP, the ELF gABI's "Program Header" chapter): 'musl' for `ld-musl-*`, 'glibc' for
 * anything else, undefined when the header cannot be read as 64-bit little-endian ELF.
 */
function linuxLibc(fs: typeof import('node:fs')): 'glibc' | 'musl' | undefined {
  const fd = fs.openSync(process.execPath, 'r');
  try {
    const header = Buffer.alloc(64);
    // e_ident: 0x7f 'E' 'L' 'F', EI_CLASS 2 (64-bit), EI_DATA 1 (little-endian).
    if (fs.readSync(fd, header, 0, 64, 0) < 64 || header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return undefined;
    const phoff = Number(header.readBigUInt64LE(32)); // e_phoff
    const phentsize = header.readUInt16LE(54); // e_phentsize
    const phnum = header.readUInt16LE(56); // e_phnum
    if (phentsize < 56) return undefined;
    const table = Buffer.alloc(phentsize * phnum);
    if (fs.readSync(fd, table, 0, table.length, phoff) < table.length) return undefined;
    for (let offset = 0; offset < table.length; offset += phentsize) {
      if (table.readUInt32LE(offset) !== 3) continue; // p_type PT_INTERP
      const name = Buffer.alloc(Math.min(Number(table.readBigUInt64LE(offset + 32)), 4096)); // p_filesz
      fs.readSync(fd, name, 0, name.length, Number(table.readBigUInt64LE(offset + 8))); // p_offset
      return /(^|\/)ld-musl-/.test(name.toString('latin1')) ? 'musl' : 'glibc';
    }
    return undefined; // a static Node names no interpreter: koffi's entry has its own order for that
  } finally {
    fs.closeSync(fd);
  }
}

const addon = prebuiltAddon();
const koffi: typeof koffiModule = addon ?? require('koffi');

/**
 * How koffi was loaded: 'addon' when its prebuilt binary was required directly, 'package' through
 * koffi's own entry. Shown by `winbg doctor`.
 */
export const koffiLoader: 'addon' | 'package' = addon ? 'addon' : 'package';

export { koffi };
export type { TypeObject as NativeType } from 'koffi';

/** True when running on Windows (natively or under Wine), where ole32/combase are real. */
export const isWindows: boolean = process.platform === 'win32';

/** A native address as koffi represents it. `0n` is never used: null pointers are `null`. */
export type Pointer = bigint;

/**
 * Registered callbacks in use process-wide. koffi allows 8192 at once; winbg's vtables use a
 * fixed number of them, independent of how many COM objects exist.
 */
export function registeredCallbacks(): number {
  return koffi.stats().callbacks;
}
