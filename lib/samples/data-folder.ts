// Where the sample keeps its file. The seed writes to ApplicationData.Current.LocalFolder, in a
// folder named after the process (Process.GetCurrentProcess().ProcessName: the executable's name
// without ".exe"). A packaged app has that folder; without package identity ApplicationData throws,
// so the conventional per-user folders stand in: %LOCALAPPDATA%\<app> on Windows, and off Windows
// the XDG data directory ($XDG_DATA_HOME, default ~/.local/share; XDG Base Directory
// Specification 0.8), in <app>.
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { isWindows } from '../ffi/koffi.js';
import { packageIdentity } from '../tasks/index.js'; // the whole of winbg/tasks: one chunk of the bundle
import '../generated/descriptors.js'; // the projection's types, each namespace parsed when first resolved
import { runtimeClass } from '../winrt/activation.js';

/** The seed's file name. */
export const PRIMES_FILE_NAME = 'numbersQueue.log';

export interface DataFolderOptions {
  /** The app's folder name under %LOCALAPPDATA% or the XDG data directory (default 'winbg'). */
  readonly app?: string;
  /** The environment to read (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Where the app's local data goes, and why there. */
export interface DataFolder {
  readonly path: string;
  readonly kind: 'LocalFolder' | 'LOCALAPPDATA' | 'XDG';
}

/**
 * The app's local data folder: ApplicationData.Current.LocalFolder with package identity,
 * %LOCALAPPDATA%\<app> on Windows without it, the XDG data directory's <app> elsewhere.
 */
export function localDataFolder(options: DataFolderOptions = {}): DataFolder {
  const app = options.app ?? 'winbg';
  if (app === '' || /[\\/:*?"<>|\0]/.test(app) || app === '.' || app === '..') {
    throw new RangeError(`localDataFolder: app must be a folder name (no path separators or reserved characters), got ${JSON.stringify(app)}`);
  }
  const env = options.env ?? process.env;
  if (isWindows) {
    if (packageIdentity()) {
      const data = runtimeClass<{ Current: { LocalFolder: { Path: string } } }>('Windows.Storage.ApplicationData');
      return { path: data.Current.LocalFolder.Path, kind: 'LocalFolder' };
    }
    const local = env.LOCALAPPDATA || join(env.USERPROFILE || homedir(), 'AppData', 'Local');
    return { path: join(local, app), kind: 'LOCALAPPDATA' };
  }
  // Relative values are invalid and must be ignored (XDG Base Directory Specification).
  const xdg = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(env.HOME || homedir(), '.local', 'share');
  return { path: join(xdg, app), kind: 'XDG' };
}

/** The process's name as .NET's Process.ProcessName gives it: the executable's name without ".exe". */
export function processName(executable: string = process.execPath): string {
  return (executable.split(/[\\/]/).pop() ?? '').replace(/\.exe$/i, '');
}

/** The seed's file: <local data folder>/<process name>/numbersQueue.log. */
export function defaultPrimesFile(options: DataFolderOptions = {}): string {
  return join(localDataFolder(options).path, processName(), PRIMES_FILE_NAME);
}
