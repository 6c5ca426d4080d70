// The native test broker for the Wine test tier: `node scripts/wine.mjs broker`.
//
// test/windows/native-broker/broker.c plays Windows' background infrastructure in C (MTA,
// free-threaded objects, callbacks from its own threads) against the app that
// test/windows/native-broker.test.ts starts through COM; see the top of broker.c. It is built
// here with mingw-w64 (scripts/mingw.mjs) into a Windows .exe that runs in the same Wine prefix
// as node.exe, at .cache/wine/broker/broker.exe, the test's conventional path for it. Test
// tooling only, never shipped.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureMingwBuild } from './mingw.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = path.join(projectRoot, 'test', 'windows', 'native-broker');

/**
 * Builds broker.exe unless it was built from the same inputs. Synchronous; never throws.
 * @param {{ log?: (line: string) => void }} [options]
 * @returns {{ ok: true, exe: string, rebuilt: boolean } | { ok: false, exe: string, reason: string }}
 */
export function ensureNativeBroker({ log = () => {} } = {}) {
  const result = ensureMingwBuild({
    what: 'the native test broker',
    sourceDir,
    outDir: path.join(projectRoot, '.cache', 'wine', 'broker'),
    outputName: 'broker.exe',
    // COM (CoCreateInstance, CLSIDFromString, CoTaskMemAlloc); WindowsCreateString is looked up
    // at run time from combase.dll, so nothing else is linked.
    args: ['-O2', '-Wall', '-Wextra', '-o', 'broker.exe', path.join(sourceDir, 'broker.c'), '-lole32', '-luuid'],
    log,
  });
  const { file, ...rest } = result;
  return { ...rest, exe: file };
}
