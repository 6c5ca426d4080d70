// The model decodes most things the first time they are read. `computeAt` runs such a decoding
// step and turns anything thrown that is not already a WinmdError into one, placed at the row the
// step belongs to, so that a reader of the model meets no other exception type even if this
// reader has a bug; the message starts with "internal error" so that tests can find such bugs.
// A failure is not kept: the next read tries again and throws again.
import { WinmdError } from './errors.js';
import type { WinmdFile } from './file.js';
import { TABLE_NAMES, type TableId } from './schema.js';

export function computeAt<T>(file: WinmdFile, table: TableId, row: number, compute: () => T): T {
  try {
    return compute();
  } catch (error) {
    throw asWinmdError(error, file.path, TABLE_NAMES[table]!, file.rowOffset(table, row));
  }
}

/** Runs `compute`, turning any exception that is not a WinmdError into one. */
export function guard<T>(compute: () => T, file: string, where: string, offset: number): T {
  try {
    return compute();
  } catch (error) {
    throw asWinmdError(error, file, where, offset);
  }
}

function asWinmdError(error: unknown, file: string, where: string, offset: number): WinmdError {
  if (error instanceof WinmdError) return error;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new WinmdError(file, where, offset, `internal error: ${detail}`);
}
