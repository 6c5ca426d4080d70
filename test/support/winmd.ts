// Where the tests find real .winmd files, and small tools for the winmd tests: a seeded PRNG and
// readers over hand-made blobs.
//
// The inputs are looked for in: $WINMD_DIR; ../shared/winmd beside the project root (this file
// runs as .build/test/support/winmd.js, three levels below the root); on Windows
// %SystemRoot%\System32\WinMetadata. Without them, `withInputs` turns a suite's tests into skipped
// ones (counted as skipped by the harness, not passed) and one note says why.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'uvu';
import { BlobReader } from '../../lib/winmd/blob.js';
import { Bytes } from '../../lib/winmd/bytes.js';
import { WinmdError } from '../../lib/winmd/errors.js';
import * as assert from 'uvu/assert';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function findWinmdDir(): string | null {
  const candidates = [
    process.env.WINMD_DIR,
    join(projectRoot, '..', 'shared', 'winmd'),
    process.platform === 'win32' ? join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'WinMetadata') : undefined,
  ];
  for (const dir of candidates) {
    if (dir && existsSync(dir) && statSync(dir).isDirectory() && existsSync(join(dir, 'Windows.Foundation.winmd'))) return dir;
  }
  return null;
}

/** The directory of real .winmd files, or null. */
export const WINMD_DIR: string | null = findWinmdDir();
let noted = false;

/** `test` itself when the real files are there; else a stand-in that registers skipped tests. */
export function withInputs<T>(test: Test<T>): Test<T> {
  if (WINMD_DIR) return test;
  if (!noted) {
    noted = true;
    console.log('  note: no .winmd inputs (WINMD_DIR, ../shared/winmd, %SystemRoot%\\System32\\WinMetadata): tests on real metadata are skipped');
  }
  return Object.assign((name: string) => test.skip(name), test) as unknown as Test<T>;
}

/** The bytes of one of the real files. */
export function readWinmd(name: string): Uint8Array {
  if (!WINMD_DIR) throw new Error('no .winmd inputs');
  return new Uint8Array(readFileSync(join(WINMD_DIR, name)));
}

/** A blob reader over hand-made bytes, as if they were a blob in a file named 'test.winmd'. */
export function blobOf(bytes: readonly number[]): BlobReader {
  return new BlobReader(new Bytes('test.winmd', new Uint8Array(bytes)), 0, bytes.length);
}

/** Runs `run`, asserts that it threw a WinmdError, and returns it. */
export function winmdErrorOf(run: () => unknown): WinmdError {
  try {
    run();
  } catch (error) {
    assert.instance(error, WinmdError);
    return error as WinmdError;
  }
  assert.unreachable('expected a WinmdError, but nothing was thrown');
  throw new Error('unreachable');
}
