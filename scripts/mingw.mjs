// Builds a test program or DLL for the Wine tier with mingw-w64, once per set of inputs: the
// native test broker (wine-broker.mjs) and the ProcessPrng DLL bun.exe and deno.exe need under
// Wine 8 (wine-runtimes.mjs). Test tooling only, never shipped. Plain ESM, Node built-ins only.
//
// A build is redone only when the hash of its inputs changes (every file of its source folder,
// the command); the hash is kept next to the output as <output>.sha256.

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath } from './tools.mjs';

export const MINGW_GCC = 'x86_64-w64-mingw32-gcc';
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** SHA-256 over the sources and the command. */
function inputsHash(sourceDir, command) {
  const hash = crypto.createHash('sha256');
  const add = (label, data) => hash.update(`${label}\0${data.length}\0`).update(data);
  for (const name of fs.readdirSync(sourceDir).sort()) add(name, fs.readFileSync(path.join(sourceDir, name)));
  add('command', JSON.stringify(command));
  return hash.digest('hex');
}

/**
 * Runs `x86_64-w64-mingw32-gcc ...args` in a scratch folder, which must write `outputName`, and
 * moves that to `outDir`, unless it was built from the same inputs. Synchronous; never throws.
 * @param {{ what: string, sourceDir: string, outDir: string, outputName: string, args: string[],
 *           log?: (line: string) => void }} build
 *   `what` names the product in messages; `args` are the compiler's, with absolute source paths.
 * @returns {{ ok: true, file: string, rebuilt: boolean } | { ok: false, file: string, reason: string }}
 */
export function ensureMingwBuild({ what, sourceDir, outDir, outputName, args, log = () => {} }) {
  const file = path.join(outDir, outputName);
  const hashFile = `${file}.sha256`;
  try {
    if (!fs.existsSync(sourceDir)) return { ok: false, file, reason: `${path.relative(projectRoot, sourceDir)}/ is missing` };
    if (!findOnPath(MINGW_GCC)) {
      return { ok: false, file, reason: `cannot build ${what}: ${MINGW_GCC} is missing (as root: apt-get install -y --no-install-recommends mingw-w64)` };
    }
    const command = [MINGW_GCC, ...args];
    const hash = inputsHash(sourceDir, command);
    const recorded = fs.existsSync(hashFile) ? fs.readFileSync(hashFile, 'utf8').trim() : null;
    if (fs.existsSync(file) && recorded === hash) return { ok: true, file, rebuilt: false };

    log(`Building ${what} from ${path.relative(projectRoot, sourceDir)}/ ...`);
    fs.mkdirSync(outDir, { recursive: true });
    // Built in a folder of its own and moved into place when complete, so that a build cut short
    // never leaves an output that looks current.
    const work = fs.mkdtempSync(path.join(outDir, '.build-'));
    try {
      const result = spawnSync(MINGW_GCC, args, { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
      if (result.status !== 0) {
        const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
        return { ok: false, file, reason: `${MINGW_GCC} failed (${result.error?.message ?? `exit ${result.status}`}):\n  ${command.join(' ')}\n${output}` };
      }
      fs.renameSync(path.join(work, outputName), file);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
    fs.writeFileSync(hashFile, `${hash}\n`);
    return { ok: true, file, rebuilt: true };
  } catch (error) {
    return { ok: false, file, reason: error instanceof Error ? error.message : String(error) };
  }
}
