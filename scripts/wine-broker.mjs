// The native test broker for the Wine test tier: `node scripts/wine.mjs broker`.
//
// test/windows/native-broker/broker.c plays Windows' background infrastructure in C (MTA,
// free-threaded objects, callbacks from its own threads) against the app that
// test/windows/native-broker.test.ts starts through COM; see the top of broker.c. It is built
// here with mingw-w64 into a Windows .exe that runs in the same Wine prefix as node.exe. Test
// tooling only, never shipped.
//
//   .cache/wine/broker/broker.exe      the test's conventional path for it
//   .cache/wine/broker/inputs.sha256   hash of everything it was built from
//
// Rebuilt only when that hash changes (the sources in test/windows/native-broker/, the command).
// Plain ESM, Node built-ins only, like wine.mjs and wine-proxy.mjs.

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath } from './wine.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = path.join(projectRoot, 'test', 'windows', 'native-broker');
const MINGW_GCC = 'x86_64-w64-mingw32-gcc';

/** Where the broker goes; test/windows/native-broker.test.ts looks for it at `exe`. */
export function nativeBrokerPaths() {
  const dir = path.join(projectRoot, '.cache', 'wine', 'broker');
  return { dir, exe: path.join(dir, 'broker.exe'), hash: path.join(dir, 'inputs.sha256') };
}

/** The compiler command, run in a scratch folder; part of the inputs' hash. */
function buildCommand() {
  return [
    MINGW_GCC, '-O2', '-Wall', '-Wextra', '-o', 'broker.exe', path.join(sourceDir, 'broker.c'),
    // COM (CoCreateInstance, CLSIDFromString, CoTaskMemAlloc); WindowsCreateString is looked up
    // at run time from combase.dll, so nothing else is linked.
    '-lole32', '-luuid',
  ];
}

/** SHA-256 over the sources and the command. */
function inputsHash(command) {
  const hash = crypto.createHash('sha256');
  const add = (label, data) => hash.update(`${label}\0${data.length}\0`).update(data);
  for (const name of fs.readdirSync(sourceDir).sort()) add(name, fs.readFileSync(path.join(sourceDir, name)));
  add('command', JSON.stringify(command));
  return hash.digest('hex');
}

/**
 * Builds broker.exe unless it was built from the same inputs. Synchronous; never throws.
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {{ ok: true, exe: string, rebuilt: boolean } | { ok: false, exe: string, reason: string }}
 */
export function ensureNativeBroker({ log = () => {} } = {}) {
  const paths = nativeBrokerPaths();
  try {
    if (!fs.existsSync(path.join(sourceDir, 'broker.c'))) {
      return { ok: false, exe: paths.exe, reason: `${path.relative(projectRoot, sourceDir)}/broker.c is missing` };
    }
    if (!findOnPath(MINGW_GCC)) {
      return {
        ok: false,
        exe: paths.exe,
        reason: `cannot build the native test broker: ${MINGW_GCC} is missing (as root: apt-get install -y --no-install-recommends mingw-w64)`,
      };
    }
    const command = buildCommand();
    const hash = inputsHash(command);
    const recorded = fs.existsSync(paths.hash) ? fs.readFileSync(paths.hash, 'utf8').trim() : null;
    if (fs.existsSync(paths.exe) && recorded === hash) return { ok: true, exe: paths.exe, rebuilt: false };

    log(`Building the native test broker from ${path.relative(projectRoot, sourceDir)}/ ...`);
    fs.mkdirSync(paths.dir, { recursive: true });
    // Built in a folder of its own and moved into place when complete, so that a build cut short
    // never leaves an exe that looks current.
    const work = fs.mkdtempSync(path.join(paths.dir, '.build-'));
    try {
      const [program, ...args] = command;
      const result = spawnSync(program, args, { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
      if (result.status !== 0) {
        const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
        return { ok: false, exe: paths.exe, reason: `${program} failed (${result.error?.message ?? `exit ${result.status}`}):\n  ${command.join(' ')}\n${output}` };
      }
      fs.renameSync(path.join(work, 'broker.exe'), paths.exe);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
    fs.writeFileSync(paths.hash, `${hash}\n`);
    return { ok: true, exe: paths.exe, rebuilt: true };
  } catch (error) {
    return { ok: false, exe: paths.exe, reason: error instanceof Error ? error.message : String(error) };
  }
}
