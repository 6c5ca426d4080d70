// Wine 10 (Debian trixie's), for what Debian 12's Wine 8 cannot run: deno.exe, whose V8 reserves
// memory with VirtualAlloc2(MEM_RESERVE | MEM_RESERVE_PLACEHOLDER), which Wine 8 refuses
// ("allocate_virtual_memory called with wrong alloc type flags (00042000)"), so that V8 aborts
// with "Fatal process out of memory: SegmentedTable::InitializeTable" before any script runs.
// Test tooling only. Plain ESM, Node built-ins only.
//
//   node scripts/wine10.mjs prepare   debootstrap trixie into the root, install Wine 10 there
//   node scripts/wine10.mjs status    say whether it is ready, and if not why
//
// The root is a minimal Debian trixie (debootstrap --variant=minbase, about 300 MB with Wine) in
// WINBG_WINE10_ROOT (default /opt/winbg-wine10): outside the project, so that nothing walking the
// project meets it. Each Wine 10 command runs in a mount namespace of its own (unshare --mount)
// in which /proc, /dev, /tmp and the project's parent folder (the project and ../shared) are
// bind-mounted into the root at their own paths, then chroot: every Linux path means the same
// inside and out, and the mounts vanish with the namespace, so there is never anything to
// unmount (and never a bind mount under a folder someone might delete). Needs root: as root (our
// CI) it runs directly; otherwise through `sudo -n` (GitHub's runners), environment kept.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath, prepareCommand } from './tools.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WINE10_ROOT = path.resolve(process.env.WINBG_WINE10_ROOT ?? '/opt/winbg-wine10');
const SUITE = 'trixie';
const MIRROR = 'http://deb.debian.org/debian';

// Folders of the root's own system, which a bind mount must never cover.
const SYSTEM_FOLDERS = new Set(['/', '/bin', '/boot', '/dev', '/etc', '/lib', '/lib64', '/opt', '/proc', '/run', '/sbin', '/sys', '/usr', '/var']);

/** Host folders every Wine 10 command sees at their own paths: /tmp and the project's parent (the project and ../shared). */
function boundFolders() {
  const parent = path.dirname(projectRoot);
  return [...new Set(['/tmp', os.tmpdir(), SYSTEM_FOLDERS.has(parent) ? projectRoot : parent])].filter((dir) => !SYSTEM_FOLDERS.has(dir));
}

// $1 the root, $2 the folders to bind (':'-separated), $3 the working folder, then the command.
const ENTER = [
  'set -ef',
  'root=$1; binds=$2; cwd=$3; shift 3',
  'mount -t proc proc "$root/proc"',
  'mount --rbind /dev "$root/dev"',
  // Wine wants a runtime folder of its own user's (root, here): one inside the root, not bound,
  // so nothing in the host's shared /tmp decides it.
  'mkdir -p -m 0700 "$root/run/winbg-xdg"; export XDG_RUNTIME_DIR=/run/winbg-xdg',
  'IFS=:; for dir in $binds; do mkdir -p "$root$dir"; mount --rbind "$dir" "$root$dir"; done; unset IFS',
  // chroot(1) changes to / ; go back to the caller's folder, which is bound at the same path.
  'exec chroot "$root" /bin/sh -c \'cd "$0" && exec "$@"\' "$cwd" "$@"',
].join('\n');

const isRoot = () => process.getuid?.() === 0;

/** `command args` as root: directly, or through sudo without a password prompt, PATH and environment kept. */
function asRoot(command, args) {
  return isRoot() ? { command, args } : { command: 'sudo', args: ['-n', '--preserve-env', 'env', `PATH=${process.env.PATH ?? ''}`, command, ...args] };
}

/** Removes a folder of the selected Wine 10 prefix's (made as root) as root. */
export function removeAsRoot(target) {
  const { command, args } = asRoot('rm', ['-rf', '--one-file-system', target]);
  spawnSync(command, args, { stdio: 'ignore', timeout: 120_000 });
}

/** Whether this process can run commands as root. */
function canBeRoot() {
  return isRoot() || (findOnPath('sudo') !== null && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore', timeout: 10_000 }).status === 0);
}

/**
 * The command line that runs `program args` (e.g. wine, wineserver) inside the Wine 10 root.
 * @returns {{ command: string, args: string[] }}
 */
export function wine10Command(program, args, { cwd = projectRoot } = {}) {
  return asRoot('unshare', insideRoot(program, args, cwd));
}

/** unshare's arguments that run `program args` in the root, in `cwd`. */
function insideRoot(program, args, cwd) {
  return ['--mount', '--propagation', 'private', 'sh', '-c', ENTER, 'winbg-wine10', WINE10_ROOT, boundFolders().join(':'), cwd, program, ...args];
}

/**
 * Environment for a Wine 10 command: Node warns when NODE_EXTRA_CA_CERTS names a file the root
 * lacks. (Wine 10 also says "XDG_RUNTIME_DIR is invalid or not set" on the stderr of every
 * process without one, which tests read: ENTER sets one.)
 */
export function wine10Env(env) {
  const { NODE_EXTRA_CA_CERTS: _ignored, ...rest } = env;
  return rest;
}

/**
 * Whether Wine 10 commands can run now. Reads only.
 * @returns {{ ok: true, root: string } | { ok: false, reason: string }}
 */
export function wine10Status() {
  if (process.platform !== 'linux') return { ok: false, reason: `Wine 10 runs are for Linux hosts; this is ${process.platform}.` };
  if (!canBeRoot()) return { ok: false, reason: 'Wine 10 runs in a chroot, which needs root, or sudo without a password.' };
  for (const tool of ['unshare', 'chroot', 'mount']) {
    if (!findOnPath(tool)) return { ok: false, reason: `${tool} is missing (util-linux, coreutils).` };
  }
  if (!fs.existsSync(path.join(WINE10_ROOT, 'usr', 'bin', 'wine'))) {
    return { ok: false, reason: `Wine 10 is not installed in ${WINE10_ROOT}; run: node scripts/wine10.mjs prepare` };
  }
  return { ok: true, root: WINE10_ROOT };
}

/** Runs a command with its output captured; throws with that output when it fails. */
function run(command, args, what, { timeout = 900_000, env = process.env } = {}) {
  const root = asRoot(command, args);
  const result = spawnSync(root.command, root.args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout, env });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`${what} failed (${result.error?.message ?? `exit ${result.status}`}):\n${output}`);
  }
  return result.stdout;
}

/**
 * Makes the root (debootstrap, a few minutes) and installs Wine in it, unless already there.
 * Throws saying what failed.
 */
export function prepareWine10({ log = (line) => console.log(line) } = {}) {
  if (process.platform !== 'linux') return { ok: false, reason: `Nothing to prepare: this is ${process.platform}.` };
  if (!canBeRoot()) return { ok: false, reason: 'Preparing Wine 10 needs root (debootstrap, chroot), or sudo without a password.' };
  if (wine10Status().ok) return wine10Status();
  if (!fs.existsSync(path.join(WINE10_ROOT, 'usr', 'bin', 'apt-get'))) {
    if (!findOnPath('debootstrap')) {
      log('Installing debootstrap from Debian\'s packages...');
      run('apt-get', ['install', '-y', '--no-install-recommends', 'debootstrap'], 'apt-get install debootstrap', {
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    }
    // Made under another name and renamed when complete, so that a cut-short debootstrap is never
    // taken for a root.
    const partial = `${WINE10_ROOT}.partial`;
    run('rm', ['-rf', '--one-file-system', partial], `removing ${partial}`);
    log(`debootstrap ${SUITE} into ${WINE10_ROOT} (a few minutes)...`);
    // In a mount namespace of its own: debootstrap mounts /proc and /sys inside the new root,
    // and a run cut short would otherwise leave them mounted on the host.
    run('unshare', ['--mount', '--propagation', 'private', 'debootstrap', '--variant=minbase', SUITE, partial, MIRROR], 'debootstrap');
    run('mv', ['-T', partial, WINE10_ROOT], `renaming ${partial}`);
  }
  run('cp', ['/etc/resolv.conf', path.join(WINE10_ROOT, 'etc', 'resolv.conf')], 'copying resolv.conf into the root');
  log(`Installing Wine in ${WINE10_ROOT} (a few minutes)...`);
  const install = 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wine64 wine';
  run('unshare', insideRoot('/bin/sh', ['-c', install], '/'), 'apt-get install wine (in the Wine 10 root)');
  const version = run('unshare', insideRoot('wine', ['--version'], '/'), 'wine --version').trim();
  log(`Wine in the root: ${version}`);
  return wine10Status();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [command] = process.argv.slice(2);
  if (command === 'prepare') {
    process.exitCode = prepareCommand(prepareWine10, (status, seconds) => `Wine 10 ready (${seconds} s) in ${status.root}`);
  } else if (command === 'status') {
    const status = wine10Status();
    console.log(status.ok ? `ready: ${status.root}` : `not ready: ${status.reason}`);
    process.exitCode = status.ok ? 0 : 1;
  } else {
    console.error('usage: node scripts/wine10.mjs prepare | status');
    process.exitCode = 2;
  }
}
