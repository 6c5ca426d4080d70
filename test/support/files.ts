// Removing a test's temporary folder, on every runtime the tests run under.
import { lstatSync, readdirSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `rm -rf`: rmSync(recursive, force), retried for up to 5 s while a process that just ended still
 * holds a file (its executable, a DLL it loaded): EPERM or EBUSY on Windows for a moment. The
 * retries are ours, not rmSync's maxRetries, which Deno's node:fs does not implement. Bun 1.4.5's
 * Windows build fails every recursive rmSync under Wine 8 with EFAULT, even of an empty folder
 * (file removal works), so there the tree goes entry by entry.
 */
export function removeTree(path: string): void {
  for (let attempt = 1; ; attempt++) {
    try {
      return removeOnce(path);
    } catch (error) {
      if (attempt >= 25 || !['EPERM', 'EBUSY', 'ENOTEMPTY'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
}

function removeOnce(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EFAULT') throw error;
    removeEntryByEntry(path);
  }
}

function removeEntryByEntry(path: string): void {
  let isFolder: boolean;
  try {
    isFolder = lstatSync(path).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!isFolder) return unlinkSync(path);
  for (const name of readdirSync(path)) removeEntryByEntry(join(path, name));
  rmdirSync(path);
}
