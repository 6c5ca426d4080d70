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
