// What the build and test scripts share: finding a program on PATH, and fetching an npm package
// for another platform (npm install refuses packages whose os/cpu fields do not match this
// machine) checked against the integrity package-lock.json records.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Absolute path of the program `name` on PATH (with .exe on Windows), or null. */
export function findOnPath(name) {
  const fileName = process.platform === 'win32' && !name.endsWith('.exe') ? `${name}.exe` : name;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, fileName);
    try {
      if (process.platform !== 'win32') fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

/** The integrity package-lock.json records for a package, so a fetched tarball can be checked against it. */
function lockedIntegrity(name, version) {
  try {
    const lock = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8'));
    const entry = lock.packages?.[`node_modules/${name}`];
    return entry?.version === version ? entry.integrity ?? null : null;
  } catch {
    return null;
  }
}

/** Runs npm in the project's folder, output captured. */
export function npm(args, timeout = 300_000) {
  return spawnSync('npm', args, { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout });
}

/**
 * Fetches `name@version` with `npm pack` and unpacks it to `destDir`, which appears only once
 * complete; `workDir` holds the download meanwhile. Throws saying what failed.
 */
export function fetchPackage(name, version, destDir, { workDir, log }) {
  fs.mkdirSync(workDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(workDir, '.fetch-'));
  try {
    log(`Fetching ${name}@${version} with npm pack...`);
    const packed = npm(['pack', `${name}@${version}`, '--json', '--pack-destination', work]);
    if (packed.status !== 0) {
      throw new Error(`npm pack ${name}@${version} failed (${packed.error?.message ?? `exit ${packed.status}`}):\n${packed.stderr}`);
    }
    const [info] = JSON.parse(packed.stdout);
    const expected = lockedIntegrity(name, version);
    if (expected && info.integrity !== expected) {
      throw new Error(`${name}@${version}: npm pack gave integrity ${info.integrity}, package-lock.json says ${expected}.`);
    }
    const unpacked = spawnSync('tar', ['-xzf', path.join(work, info.filename), '-C', work], { encoding: 'utf8', timeout: 120_000 });
    if (unpacked.status !== 0) throw new Error(`tar could not unpack ${info.filename}: ${unpacked.stderr || unpacked.error?.message}`);
    fs.mkdirSync(path.dirname(destDir), { recursive: true });
    fs.rmSync(destDir, { recursive: true, force: true });
    fs.renameSync(path.join(work, 'package'), destDir); // npm tarballs hold everything under package/
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A script's `prepare` command: runs `prepare()` and prints `ready(status, seconds)`, or why it
 * is not ready. Returns the exit code.
 */
export function prepareCommand(prepare, ready) {
  const started = Date.now();
  let status;
  try {
    status = prepare();
  } catch (error) {
    console.error(`prepare failed: ${error.message}`);
    return 1;
  }
  if (!status.ok) {
    console.error(status.reason);
    return 1;
  }
  console.log(ready(status, ((Date.now() - started) / 1000).toFixed(1)));
  return 0;
}
