// `winbg package init`: writes a package's folder (AppxManifest.xml and its logos) for the app's
// background tasks, and the launcher COM starts (launcher.ts). Kept apart from lib/cli.ts so that it runs in-process in tests.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildLauncher } from './launcher.js';
import { writeFileAtomically, writePackageLayout } from './layout.js';
import { ManifestUsageError, parseOptions } from './options.js';
import { packageManifest, RUNTIMES, type PackageManifestOptions, type PackageTask, type Runtime } from './package.js';
import { executableFile, readPackageManifest } from './package-info.js';
import type { RegisteredPackage } from './register.js';

export { ManifestUsageError };

export interface PackageCommandResult {
  readonly exitCode: 0 | 1;
  readonly output: string;
}

const INIT_VALUES = ['--name', '--display-name', '--publisher-display-name', '--publisher', '--version', '--arch', '--exe', '--runtime', '--script', '--module', '--out', '--argument', '--launcher-from', '--app-dir'] as const;

/**
 * Runs `winbg package` (init, register, unregister, status) with the arguments after `package`.
 * @throws ManifestUsageError on misuse, before anything is written.
 */
export async function packageCommand(args: readonly string[], io: PackageCommandIo = {}): Promise<PackageCommandResult> {
  const [subcommand, ...rest] = args;
  switch (subcommand) {
    case 'init':
      return init(rest, io);
    case 'register':
    case 'unregister':
    case 'status':
      return registration(subcommand, rest, io);
    default:
      throw new ManifestUsageError(subcommand ? `unknown package command ${subcommand} (init, register, unregister, status)` : 'package needs a command: init, register, unregister or status');
  }
}

export interface PackageCommandIo {
  readonly cwd?: string;
  /** Where progress goes while Windows works (a terminal's bar when it is one; default none). */
  readonly progress?: { write(text: string): unknown; readonly isTTY?: boolean };
}

/** What each registration command takes. */
const REGISTRATION_OPTIONS = {
  register: { values: ['--package', '--app-dir'], flags: ['--allow-unsigned', '--allow-downgrade'] },
  unregister: { values: ['--package', '--name'], flags: [] },
  status: { values: ['--package', '--name'], flags: [] },
} as const;

/** `winbg package register | unregister | status`: the package's registration with Windows (register.ts). */
async function registration(command: 'register' | 'unregister' | 'status', args: readonly string[], io: PackageCommandIo): Promise<PackageCommandResult> {
  const options = parseOptions(args, REGISTRATION_OPTIONS[command], `package ${command}`);
  const cwd = io.cwd ?? process.cwd();
  const packagePath = resolve(cwd, options.values.get('--package') ?? 'package');
  // The name: given, or the Identity of the package folder's manifest.
  const nameOf = (): string => {
    const given = options.values.get('--name');
    if (given !== undefined) return given;
    const manifest = join(packagePath, 'AppxManifest.xml');
    if (!existsSync(manifest)) throw new ManifestUsageError(`package ${command} needs --name (the package's identity name), or --package DIR with an AppxManifest.xml (${manifest} does not exist)`);
    try {
      return readPackageManifest(readFileSync(manifest, 'utf8'), manifest).name;
    } catch (error) {
      throw new ManifestUsageError((error as Error).message);
    }
  };
  const { registerPackage, unregisterPackage, findPackages, PackageInputError } = await import('./register.js');
  const describe = (p: RegisteredPackage): string =>
    `${p.fullName}${p.developmentMode ? ' (developer mode)' : ''}\n  installed: ${p.installedPath}${p.externalPath ? `\n  external location: ${p.externalPath}` : ''}`;
  const progress = io.progress;
  const onProgress = progress
    ? ({ percent, state }: { percent: number; state: string }) => {
      const width = 30;
      const filled = Math.round((percent / 100) * width);
      const line = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${state}`;
      progress.write(progress.isTTY ? `\r${line}${state === 'completed' ? '\n' : ''}` : `${line}\n`);
    }
    : undefined;
  switch (command) {
    case 'register': {
      try {
        const appDir = options.values.get('--app-dir');
        // A folder's manifest says whether it is sparse (its external location defaults to .); a
        // .msix is added with an external location only when --app-dir gives one.
        const packed = statSync(packagePath, { throwIfNoEntry: false })?.isFile() === true;
        const registered = await registerPackage({
          package: packagePath,
          ...(appDir !== undefined || !packed ? { externalLocation: resolve(cwd, appDir ?? '.') } : {}),
          ...(options.flags.has('--allow-unsigned') ? { allowUnsigned: true } : {}),
          ...(options.flags.has('--allow-downgrade') ? { allowDowngrade: true } : {}),
          ...(onProgress ? { onProgress } : {}),
        });
        return { exitCode: 0, output: registered ? `registered ${describe(registered)}\n` : 'registered (the package was this user\'s already: winbg package status --name NAME shows it)\n' };
      } catch (error) {
        if (error instanceof PackageInputError) throw new ManifestUsageError(error.message.replace(/^registerPackage: /, '').replace(/\bexternalLocation\b/g, '--app-dir').replace(/^package /, '--package '));
        throw error;
      }
    }
    case 'unregister': {
      const removed = await unregisterPackage(nameOf(), onProgress ? { onProgress } : {});
      return { exitCode: 0, output: removed.length === 0 ? 'no registration to remove\n' : removed.map((p) => `unregistered ${p.fullName}\n`).join('') };
    }
    case 'status': {
      const name = nameOf();
      const found = findPackages(name);
      return found.length === 0
        ? { exitCode: 1, output: `${name} is not registered for this user (winbg package register)\n` }
        : { exitCode: 0, output: found.map((p) => `registered ${describe(p)}\n`).join('') };
    }
  }
}

async function init(rest: readonly string[], io: PackageCommandIo): Promise<PackageCommandResult> {
  const options = parseOptions(rest, { values: INIT_VALUES, repeatable: ['--task'], flags: ['--full', '--force'] }, 'package init');
  const cwd = io.cwd ?? process.cwd();
  const value = (name: (typeof INIT_VALUES)[number]): string | undefined => options.values.get(name);

  const tasks: PackageTask[] = (options.repeated.get('--task') ?? []).map((spec) => {
    const equals = spec.indexOf('=');
    return equals < 0 ? { clsid: spec } : { clsid: spec.slice(0, equals), displayName: spec.slice(equals + 1) };
  });
  const module = value('--module');
  if (module !== undefined) tasks.push(...(await tasksOfModule(resolve(cwd, module))));
  if (tasks.length === 0) throw new ManifestUsageError('package init needs the tasks: --module app.js (the tasks it exports) or --task CLSID[=NAME], repeatable');

  const runtime = value('--runtime') ?? 'node';
  if (!RUNTIMES.includes(runtime as Runtime)) throw new ManifestUsageError(`--runtime must be node, bun or deno; got ${JSON.stringify(runtime)}`);
  const layout = options.flags.has('--full') ? 'full' : 'sparse';
  const executable = value('--exe') ?? `winbg-${runtime}.exe`;
  const out = resolve(cwd, value('--out') ?? 'package');
  const appDir = resolve(cwd, value('--app-dir') ?? '.');
  // The launcher goes where the manifest's Executable points: the external location (the app's
  // folder) of a sparse package, the package's folder of a full one.
  const launcherPath = executableFile(layout === 'sparse' ? appDir : out, executable);
  const given = value('--script') ?? module;
  if (given === undefined) throw new ManifestUsageError('package init needs --script (the file that calls serve(), in the app\'s folder), or --module');
  // COM starts a packaged app's server in C:\Windows\System32, and the runtime looks for a
  // relative script there: a sparse package's Arguments name it by its absolute path. A full
  // package's install folder is not known here, so its script is relative to the launcher.
  const scriptFile = resolve(layout === 'sparse' ? appDir : cwd, given);
  const script = layout === 'sparse' ? scriptFile : relative(dirname(launcherPath), scriptFile).replaceAll('/', '\\');
  const name = value('--name');
  if (name === undefined) throw new ManifestUsageError('package init needs --name (the package\'s identity name, e.g. Contoso.PrimeApp)');
  const displayName = value('--display-name') ?? name;
  const architecture = value('--arch');
  const manifestOptions: PackageManifestOptions = {
    name,
    displayName,
    publisherDisplayName: value('--publisher-display-name') ?? displayName,
    ...(value('--publisher') !== undefined ? { publisher: value('--publisher')! } : {}),
    ...(value('--version') !== undefined ? { version: value('--version')! } : {}),
    ...(architecture !== undefined ? { architecture: architecture as PackageManifestOptions['architecture'] & string } : {}),
    layout,
    executable,
    runtime: runtime as Runtime,
    script,
    ...(value('--argument') !== undefined ? { activationArgument: value('--argument')! } : {}),
    tasks,
  };
  let manifest;
  try {
    manifest = packageManifest(manifestOptions);
  } catch (error) {
    if (error instanceof TypeError) throw new ManifestUsageError(optionMessage(error));
    throw error;
  }
  if (existsSync(join(out, 'AppxManifest.xml')) && !options.flags.has('--force')) {
    throw new ManifestUsageError(`${join(out, 'AppxManifest.xml')} exists; --force replaces it`);
  }
  // The launcher is made in memory first: nothing is written unless everything can be.
  const launcherFrom = value('--launcher-from') ?? defaultLauncherSource(runtime);
  let launcher: Uint8Array | undefined;
  if (launcherFrom !== undefined) {
    if (!existsSync(resolve(cwd, launcherFrom))) throw new ManifestUsageError(`--launcher-from ${launcherFrom} does not exist (the ${runtime} executable to copy)`);
    try {
      launcher = buildLauncher(readFileSync(resolve(cwd, launcherFrom)), { publisher: manifest.identity.publisher, packageName: manifest.identity.name, applicationId: manifest.applicationId });
    } catch (error) {
      if (error instanceof TypeError) throw new ManifestUsageError(`--launcher-from ${launcherFrom}: ${error.message.replace(/^buildLauncher: /, '')}`);
      throw error;
    }
  }
  const written = writePackageLayout(out, manifest);
  if (launcher !== undefined) {
    mkdirSync(dirname(launcherPath), { recursive: true });
    writeFileAtomically(launcherPath, launcher);
    written.push(launcherPath);
  }
  const lines = [
    ...written.map((file) => `wrote ${relative(cwd, file) || file}`),
    ...(launcherFrom === undefined ? [`no launcher written: give --launcher-from (the Windows ${runtime}.exe to copy into ${relative(cwd, launcherPath) || launcherPath})`] : []),
    `${manifest.layout} package ${manifest.identity.name} ${manifest.identity.version} (${manifest.identity.architecture}), publisher ${manifest.identity.publisher}`,
    `COM starts: ${manifest.executable} ${manifest.arguments} -Embedding`,
    ...(layout === 'full' ? ['note: a full package\'s script path is relative to the launcher, and COM starts servers in C:\\Windows\\System32: the full layout was never run'] : []),
  ];
  return { exitCode: 0, output: `${lines.join('\n')}\n` };
}

/** This process's own executable when it is the runtime asked for, on Windows; else none (give --launcher-from). */
function defaultLauncherSource(runtime: string): string | undefined {
  if (process.platform !== 'win32') return undefined;
  const versions = process.versions as Record<string, string | undefined>;
  const running = versions.bun ? 'bun' : versions.deno ? 'deno' : versions.electron ? 'electron' : 'node';
  return running === runtime ? process.execPath : undefined;
}

/** The tasks a module exports (objects of defineBackgroundTask), as com:Class entries. */
export async function tasksOfModule(file: string): Promise<PackageTask[]> {
  const { BackgroundTask } = await import('../tasks/index.js');
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ManifestUsageError(`cannot load ${file} to read its tasks: ${error instanceof Error ? error.message : String(error)} (it is imported: give a module that defines and exports the tasks without doing anything else, or --task GUID[=NAME])`);
  }
  const tasks = [...new Set(Object.values(exports).filter((value) => value instanceof BackgroundTask))];
  if (tasks.length === 0) throw new ManifestUsageError(`${file} exports no background task (an object from defineBackgroundTask)`);
  return tasks.map((task) => ({ clsid: task.clsid, displayName: task.name }));
}

/** The option names of the command line in place of the API's, in a TypeError from packageManifest. */
function optionMessage(error: TypeError): string {
  const names: Record<string, string> = {
    name: '--name', displayName: '--display-name', publisherDisplayName: '--publisher-display-name', publisher: '--publisher',
    version: '--version', architecture: '--arch', executable: '--exe', runtime: '--runtime', script: '--script',
    activationArgument: '--argument',
  };
  return error.message
    .replace(/^packageManifest: tasks\[(\d+)\](?:\.(\w+))?(?:: \w+)?/, (_whole, index: string, field?: string) => `task ${Number(index) + 1}${field ? ` ${field}` : ''}`)
    .replace(/^packageManifest: (\w+)/, (whole, option: string) => names[option] ?? whole);
}

import '../tasks/index.js'; // the whole runtime of a served task, so that the bundle keeps it in one chunk (README, Start-up)
