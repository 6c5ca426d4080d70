// Removing a test's temporary folder, on every runtime the tests run under.
import { lstatSync, readdirSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `rm -rf`: rmSync(recursive, force), retried as Windows needs while a process that just ended
 * still holds a handle. Bun 1.4.5's Windows build fails every recursive rmSync under Wine 8 with
 * EFAULT, even of an empty folder (file removal works), so there the tree goes entry by entry.
 */
export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EFAULT') throw error;
    // As rmSync's maxRetries: a file a process that just ended still holds (a DLL it loaded) is
    // EPERM or EBUSY on Windows for a moment.
    for (let attempt = 1; ; attempt++) {
      try {
        return removeEntryByEntry(path);
      } catch (retry) {
        if (attempt >= 10 || !['EPERM', 'EBUSY', 'ENOTEMPTY'].includes((retry as NodeJS.ErrnoException).code ?? '')) throw retry;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      }
    }
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
