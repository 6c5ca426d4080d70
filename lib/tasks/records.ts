// What winbg asked for when it registered a task: the parts Windows keeps but never shows again
// (BackgroundTaskRegistration exposes the name and the trigger, not the entry point's CLSID, the
// conditions or the builder's flags). One small JSON file per registration, named by its TaskId,
// so that registerBackgroundTask can tell whether an existing registration is the one the app now
// asks for. A record is advice: one that is missing, unreadable or of another TaskId makes those
// parts "unverified", never an error.
import { createRequire } from 'node:module';
import type { Guid } from '../com/guid.js';

// node:fs, node:path and node:os through require(): an ES module import of a built-in makes Node
// evaluate every lazy export of it (fs.promises and the streams and readline behind it), and
// node:os is loaded by nothing else: milliseconds of the start of every process that imports
// winbg/tasks, most of which serve a task and write no record.
const require = createRequire(import.meta.url);
const { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
const { join } = require('node:path') as typeof import('node:path');
const homedir = (): string => (require('node:os') as typeof import('node:os')).homedir();

/** The parts of a registration that only its maker knows. */
export interface RegistrationRecord {
  readonly clsid: string;
  readonly conditions: readonly string[];
  readonly cancelOnConditionLoss: boolean;
  readonly isNetworkRequested: boolean;
}

/**
 * Where records live: WINBG_STATE_DIR, else %LOCALAPPDATA%\winbg on Windows (a packaged app's
 * is its package's own), else $XDG_STATE_HOME/winbg or ~/.local/state/winbg.
 */
export function stateDirectory(): string {
  const override = process.env['WINBG_STATE_DIR'];
  if (override) return override;
  if (process.platform === 'win32' && process.env['LOCALAPPDATA']) return join(process.env['LOCALAPPDATA'], 'winbg');
  return join(process.env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state'), 'winbg');
}

const fileOf = (taskId: Guid): string => join(stateDirectory(), 'registrations', `${String(taskId).toLowerCase()}.json`);

/** The record of registration `taskId`, or null when there is none that can be read. */
export function readRecord(taskId: Guid): RegistrationRecord | null {
  try {
    const value = JSON.parse(readFileSync(fileOf(taskId), 'utf8')) as Partial<RegistrationRecord>;
    if (typeof value.clsid !== 'string' || !Array.isArray(value.conditions) || typeof value.cancelOnConditionLoss !== 'boolean' || typeof value.isNetworkRequested !== 'boolean') return null;
    return value as RegistrationRecord;
  } catch {
    return null;
  }
}

/**
 * Keeps `record` for registration `taskId`. One that cannot be written (a read-only state
 * directory) is left out: the next registerBackgroundTask reports those parts unverified.
 */
export function writeRecord(taskId: Guid, record: RegistrationRecord): void {
  const file = fileOf(taskId);
  try {
    mkdirSync(join(stateDirectory(), 'registrations'), { recursive: true });
    // Written whole, then renamed: a reader never sees half a record.
    writeFileSync(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  } catch {
    // advice only (see above)
  }
}

/** Forgets registration `taskId` (unregistered). */
export function removeRecord(taskId: Guid): void {
  rmSync(fileOf(taskId), { force: true });
}
