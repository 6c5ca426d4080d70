#!/usr/bin/env node
// The `winbg` command. `generate` writes a projection from Windows metadata; `describe` prints a
// projected type's ABI as JSON; `manifest` writes or checks the package manifest's comServer block;
// `idl` writes COM IDL of WinRT interfaces for widl; `doctor`, `register`, `unregister` and `list`
// diagnose and manage task registrations; `host`
// runs a module's task under the portable host; `demo` runs the prime sample end to end.
//
// Each command imports what it needs when it runs, through a package entry where there is one
// (winbg/tasks): tsup makes a chunk per set of entries (dynamic imports included) that load a
// module, and a command reaching into part of a layer would split it, one more module for every
// served task to load.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const USAGE = `usage:
  winbg help [<command>] | --help | -h  this text, or one command's; winbg <command> --help too
  winbg --version                    the version of winbg
  winbg demo [--max N] [--out FILE] [--for SECONDS] [--json]
                                     the seed's prime-counting task end to end: served as a COM
                                     class, registered with a TimeTrigger, run (off Windows, or
                                     without package identity, under the portable host, fired at
                                     once; with identity, by Windows), with a progress bar. Primes
                                     up to N (default 1e9) go to numbersQueue.log in the app's data
                                     folder (or FILE); a later run continues the file. Ctrl+C
                                     cancels (Abort), --for cancels after SECONDS; --json prints a
                                     JSON object per line
  winbg describe <TypeName>          a projected type's ABI as JSON (runtime classes, interfaces,
                                     delegates, enums, structs; generics in WinRT notation)
  winbg generate [--winmd DIR] [--config FILE] [--namespace NS]... [--out DIR] [--hashes FILE] [--js]
                                     write a projection (default: the roots of winmd/projection.json,
                                     into lib/generated; with --namespace, those namespaces); --js
                                     writes JavaScript with .d.ts declarations instead of TypeScript
  winbg idl <TypeName>... [--winmd DIR] [--out FILE]
                                     COM IDL (for Wine's widl or MIDL) of WinRT interfaces and
                                     delegates, given by full name, and of every type their methods
                                     reach; printed, or written to FILE
  winbg manifest --clsid GUID --exe PATH [--script FILE [--runtime node|bun|deno]] [--args ARGS]
                 [--display-name NAME] [--class-display-name NAME] [--permission SDDL]
                                     print the <com:Extension Category="windows.comServer"> block for
                                     <Application><Extensions> of AppxManifest.xml, and the namespace
                                     <Package> must declare (PATH relative to the package root; ARGS
                                     default -StartSampleTaskServer)
  winbg manifest --check AppxManifest.xml --clsid GUID [--exe PATH] [--args ARGS]
                                     check that a manifest registers GUID for COM; exit 0 when ok,
                                     1 when not, 2 on misuse
  winbg package init --name NAME (--module FILE | --task GUID[=NAME]...) [--script FILE]
                     [--display-name NAME] [--publisher-display-name NAME] [--publisher DN]
                     [--version V] [--arch x64|x86|arm64|neutral] [--runtime node|bun|deno]
                     [--exe NAME.exe] [--argument ARG] [--full] [--out DIR] [--force]
                     [--launcher-from RUNTIME.exe] [--app-dir DIR]
                                     write a package's folder (default ./package): AppxManifest.xml
                                     for a sparse package (the app's folder is its external
                                     location; --full: a full MSIX layout) with a com:Class per task
                                     the module exports, and its logos. Unsigned (for developer
                                     mode) unless --publisher names the signing certificate's subject.
                                     The launcher (--exe, default winbg-<runtime>.exe, in the app's
                                     folder; in the package with --full): a copy of the runtime's
                                     .exe (--launcher-from; on Windows, this one) with the GUI
                                     subsystem and the manifest's <msix> identity
  winbg package register [--package DIR | --package FILE.msix [--allow-unsigned]] [--app-dir DIR] [--allow-downgrade]
                                     register the package with Windows for this user (a folder
                                     loose, in developer mode; a sparse package with the app's
                                     folder, default ., as its external location), with progress
  winbg package unregister [--package DIR | --name NAME]
                                     remove this user's registrations of the package
  winbg package status [--package DIR | --name NAME]
                                     whether the package is registered, where, and how; exit 1 if not
  winbg doctor [--clsid GUID]... [--module FILE] [--name NAME] [--package DIR] [--app-dir DIR]
               [--manifest AppxManifest.xml]
                                     explain why a task does not run: package identity, developer
                                     mode, the package registered, its manifest declaring each
                                     task's CLSID and its launcher there, the registrations and
                                     their triggers, background access, SetTaskEntryPointClsid;
                                     each check it cannot make here is listed as skipped, with why
  winbg list                         this app's background task registrations
  winbg register --name NAME --clsid GUID (--time MINUTES | --maintenance MINUTES | --system TYPE | --application)
                 [--one-shot] [--condition NAME]... [--replace | --replace-if-changed]
                                     register a task: a registration of that name is kept, and how
                                     it differs said, unless --replace (or it differs and
                                     --replace-if-changed); prints name, TaskId, trigger, created|kept
  winbg trigger <NAME | TaskId>       run a registered task now, whatever its trigger
                                     (IPackageDebugSettings::ActivateBackgroundTask, the debugger's
                                     way; the run then goes as for its trigger)
  winbg unregister --name NAME [--cancel]
                                     remove the registrations of that name
  winbg host <module> [--task NAME | --clsid GUID]
             [--time MINUTES | --maintenance MINUTES | --system TYPE | --application]
             [--for SECONDS] [--cancel-after SECONDS [--reason NAME]] [--json]
                                     run a task the module exports (defineBackgroundTask) under the
                                     portable host, in this process: serve it, register it with the
                                     trigger (default --application), fire that now, print the run's
                                     lifecycle (--json: a JSON object per line). --cancel-after
                                     cancels with --reason (default Abort), --for with
                                     ExecutionTimeExceeded, Ctrl+C with Abort; exit 0 when the run
                                     completed, 1 when it failed`;

const COMMANDS = ['demo', 'describe', 'generate', 'idl', 'manifest', 'package', 'doctor', 'list', 'register', 'trigger', 'unregister', 'host'] as const;

/** The usage of one command: its entries of USAGE (manifest has two). */
function commandUsage(command: string): string {
  const entries = USAGE.split('\n').slice(1).join('\n').split(/\n(?= {2}winbg )/);
  const own = entries.filter((entry) => entry.startsWith(`  winbg ${command} `) || entry.startsWith(`  winbg ${command}\n`) || entry === `  winbg ${command}`);
  return `usage:\n${own.join('\n')}`;
}

/** This package's version, from the package.json next to the build (dist/ or .build/lib/). */
function version(): string {
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const json = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (json.name === 'winbg' && json.version) return json.version;
    } catch {
      // not there: try the next
    }
  }
  return 'unknown';
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    if (topic !== undefined && !(COMMANDS as readonly string[]).includes(topic)) throw new UsageError(`help: unknown command ${topic}`);
    process.stdout.write(`${topic ? commandUsage(topic) : USAGE}\n`);
    return 0;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`winbg ${version()}\n`);
    return 0;
  }
  if ((COMMANDS as readonly string[]).includes(command ?? '') && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${commandUsage(command!)}\n`);
    return 0;
  }
  switch (command) {
    case 'describe': {
      if (rest.length !== 1) throw new UsageError('describe takes one type name');
      await import('./generated/index.js');
      const { describe } = await import('./winrt/describe.js');
      process.stdout.write(`${JSON.stringify(describe(rest[0]!), null, 2)}\n`);
      return 0;
    }
    case 'generate': {
      const { generate, winmdDirectory, inputHashes } = await import('./generator/index.js');
      const option = (name: string): string[] => rest.flatMap((arg, i) => (arg === name && rest[i + 1] ? [rest[i + 1]!] : []));
      const namespaces = option('--namespace');
      const config = option('--config')[0];
      const roots = namespaces.length > 0
        ? namespaces.map((name) => ({ name }))
        : (JSON.parse(readFileSync(config ?? 'winmd/projection.json', 'utf8')) as { roots: { name: string; depth?: number }[] }).roots;
      const winmd = winmdDirectory(option('--winmd')[0]);
      const out = option('--out')[0] ?? 'lib/generated';
      // Inside winbg itself the projection imports the runtime by relative path; elsewhere by package name.
      const isPackage = rest.includes('--package');
      const js = rest.includes('--js');
      const started = performance.now();
      const projection = generate({ winmd, roots, out, js, ...(isPackage ? {} : { runtime: 'winbg/winrt', com: 'winbg/com' }) });
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      process.stdout.write(`${projection.types} types in ${projection.files.length} files written to ${out} in ${seconds} s\n`);
      if (option('--hashes')[0]) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(option('--hashes')[0]!, inputHashes(winmd));
      }
      return 0;
    }
    case 'idl': {
      const names: string[] = [];
      for (let i = 0; i < rest.length; i++) {
        const arg = rest[i]!;
        if (arg === '--winmd' || arg === '--out') i++;
        else if (arg.startsWith('-')) throw new UsageError(`idl: unknown option ${arg}`);
        else names.push(arg);
      }
      if (names.length === 0) throw new UsageError('idl needs at least one type name, e.g. Windows.ApplicationModel.Background.IBackgroundTask');
      const out = optionValue(rest, '--out');
      const winmd = optionValue(rest, '--winmd');
      const { emitIdl, winmdDirectory } = await import('./generator/index.js');
      const { Metadata } = await import('./winmd/index.js');
      const idl = emitIdl(Metadata.load(winmdDirectory(winmd)), names);
      if (out) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(out, idl);
        process.stdout.write(`IDL of ${names.length} root${names.length === 1 ? '' : 's'} written to ${out}\n`);
      } else {
        process.stdout.write(idl);
      }
      return 0;
    }
    case 'manifest': {
      const { manifestCommand, ManifestUsageError } = await import('./manifest/command.js');
      try {
        const { exitCode, output } = manifestCommand(rest);
        process.stdout.write(output);
        return exitCode;
      } catch (error) {
        throw error instanceof ManifestUsageError ? new UsageError(error.message) : error;
      }
    }
    case 'package': {
      const { packageCommand, ManifestUsageError } = await import('./manifest/package-command.js');
      try {
        const { exitCode, output } = await packageCommand(rest, { progress: process.stderr });
        process.stdout.write(output);
        return exitCode;
      } catch (error) {
        throw error instanceof ManifestUsageError ? new UsageError(error.message) : error;
      }
    }
    case 'doctor': {
      const { diagnose } = await import('./tasks/doctor.js');
      const { parseOptions, ManifestUsageError } = await import('./manifest/options.js');
      let parsed;
      try {
        parsed = parseOptions(rest, { values: ['--name', '--manifest', '--package', '--app-dir', '--module'], repeatable: ['--clsid'] }, 'doctor');
      } catch (error) {
        throw error instanceof ManifestUsageError ? new UsageError(error.message) : error;
      }
      const option = (name: string): string | undefined => parsed.values.get(name);
      const clsids: string[] = [...(parsed.repeated.get('--clsid') ?? [])];
      const module = option('--module');
      if (module !== undefined) {
        const { tasksOfModule } = await import('./manifest/package-command.js');
        try {
          clsids.push(...(await tasksOfModule(resolve(module))).map((task) => task.clsid.toString()));
        } catch (error) {
          throw error instanceof ManifestUsageError ? new UsageError(error.message) : error;
        }
      }
      const findings = await diagnose({
        clsids,
        ...(option('--name') !== undefined ? { name: option('--name')! } : {}),
        ...(option('--manifest') !== undefined ? { manifest: option('--manifest')! } : {}),
        ...(option('--package') !== undefined ? { package: option('--package')! } : {}),
        ...(option('--app-dir') !== undefined ? { appDir: option('--app-dir')! } : {}),
      });
      const mark = { ok: '✓', warning: '!', error: '✗', info: '·', skipped: '-' } as const;
      for (const finding of findings) process.stdout.write(`${mark[finding.level]} ${finding.check}: ${finding.message}\n`);
      return findings.some((f) => f.level === 'error') ? 1 : 0;
    }
    case 'list': {
      const { listBackgroundTasks } = await import('./tasks/index.js');
      for (const registration of listBackgroundTasks()) process.stdout.write(`${registration.name}\t${registration.taskId}\n`);
      return 0;
    }
    case 'register': {
      const tasks = await import('./tasks/index.js');
      const name = optionValue(rest, '--name');
      const clsid = optionValue(rest, '--clsid');
      if (!name || !clsid) throw new UsageError('register needs --name and --clsid');
      const oneShot = rest.includes('--one-shot');
      const time = optionValue(rest, '--time');
      const maintenance = optionValue(rest, '--maintenance');
      const system = optionValue(rest, '--system');
      const chosen = [time, maintenance, system, rest.includes('--application') ? 'application' : undefined].filter((t) => t !== undefined);
      if (chosen.length !== 1) throw new UsageError('register needs exactly one trigger: --time MINUTES, --maintenance MINUTES, --system TYPE or --application');
      const trigger = time ? tasks.timeTrigger(Number(time), { oneShot })
        : maintenance ? tasks.maintenanceTrigger(Number(maintenance), { oneShot })
        : system ? tasks.systemTrigger(system as never, { oneShot })
        : tasks.applicationTrigger();
      const conditions = rest.flatMap((arg, i) => (arg === '--condition' && rest[i + 1] ? [rest[i + 1]!] : []));
      if (rest.includes('--replace') && rest.includes('--replace-if-changed')) throw new UsageError('register takes --replace or --replace-if-changed, not both');
      const replace = rest.includes('--replace') ? true : rest.includes('--replace-if-changed') ? 'if-changed' as const : false;
      const { registration, created, changed, unverified } = tasks.registerBackgroundTask({ name, clsid, trigger, conditions: conditions as never, replace });
      for (const change of changed) {
        process.stderr.write(`note: ${created ? 'replaced' : 'kept'} the registration ${JSON.stringify(name)} whose ${change.property} is ${change.registered}, not ${change.requested}${created ? '' : ' (--replace registers it anew)'}\n`);
      }
      if (!created && unverified.length > 0) process.stderr.write(`note: could not compare the existing registration's ${unverified.join(', ')}: winbg has no record of it (--replace-if-changed would register it anew)\n`);
      process.stdout.write(`${registration.name}\t${registration.taskId}\t${trigger.description}\t${created ? 'created' : 'kept'}\n`);
      registration.raw.dispose();
      return 0;
    }
    case 'trigger': {
      const { triggerBackgroundTask } = await import('./tasks/index.js');
      const target = rest[0];
      if (target === undefined || rest.length !== 1 || target.startsWith('--')) throw new UsageError('trigger takes one registration: its name or its TaskId');
      for (const task of await triggerBackgroundTask(target)) process.stdout.write(`${task.name}\t${task.taskId}\ttriggered\n`);
      return 0;
    }
    case 'unregister': {
      const { unregisterBackgroundTask } = await import('./tasks/index.js');
      const name = optionValue(rest, '--name');
      if (!name) throw new UsageError('unregister needs --name');
      const removed = unregisterBackgroundTask(name, { cancel: rest.includes('--cancel') });
      process.stdout.write(`${removed} registration${removed === 1 ? '' : 's'} named ${name} removed\n`);
      return removed > 0 ? 0 : 1;
    }
    case 'demo': {
      const { runDemo } = await import('./samples/demo.js');
      return await withInterrupt((interrupt) => runDemo(rest, { stdout: process.stdout, stderr: process.stderr, interrupt, usage: USAGE }));
    }
    case 'host': {
      const { runHostCommand } = await import('./host/command.js');
      return await withInterrupt((interrupt) => runHostCommand(rest, { stdout: process.stdout, stderr: process.stderr, interrupt, usage: USAGE }));
    }
    default:
      throw new UsageError(command ? `unknown command ${command}` : 'no command');
  }
}

class UsageError extends Error {}

/**
 * Runs a command that Ctrl+C cancels: the first SIGINT aborts the signal and the command ends
 * cleanly; the listener is gone by a second Ctrl+C, which then ends the process at once.
 */
async function withInterrupt(command: (interrupt: AbortSignal) => Promise<number>): Promise<number> {
  const interrupt = new AbortController();
  const onInterrupt = (): void => interrupt.abort();
  process.once('SIGINT', onInterrupt);
  try {
    return await command(interrupt.signal);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

/** The value after `name` in the arguments; a missing value is a usage error. */
function optionValue(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
  return value;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(error instanceof UsageError ? `${error.message}\n${USAGE}\n` : `winbg: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
