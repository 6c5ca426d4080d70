#!/usr/bin/env node
// The `winbg` command. `generate` writes a projection from Windows metadata; `describe` prints a
// projected type's ABI as JSON; `manifest` writes or checks the package manifest's comServer block.
// (`demo` and `doctor` arrive with the background-task release.)
import { readFileSync } from 'node:fs';
import { describe } from './winrt/describe.js';

const USAGE = `usage:
  winbg describe <TypeName>          a projected type's ABI as JSON (runtime classes, interfaces,
                                     delegates, enums, structs; generics in WinRT notation)
  winbg generate [--winmd DIR] [--config FILE] [--namespace NS]... [--out DIR] [--hashes FILE]
                                     write a projection (default: the roots of winmd/projection.json,
                                     into lib/generated; with --namespace, those namespaces)
  winbg manifest --clsid GUID --exe PATH [--args ARGS] [--display-name NAME] [--class-display-name NAME]
                 [--permission SDDL]
                                     print the <com:Extension Category="windows.comServer"> block for
                                     <Application><Extensions> of AppxManifest.xml, and the namespace
                                     <Package> must declare (PATH relative to the package root; ARGS
                                     default -StartSampleTaskServer)
  winbg manifest --check AppxManifest.xml --clsid GUID [--exe PATH] [--args ARGS]
                                     check that a manifest registers GUID for COM; exit 0 when ok,
                                     1 when not, 2 on misuse`;

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'describe': {
      if (rest.length !== 1) throw new UsageError('describe takes one type name');
      await import('./generated/index.js');
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
      const started = performance.now();
      const projection = generate({ winmd, roots, out, ...(isPackage ? {} : { runtime: 'winbg/winrt', com: 'winbg/com' }) });
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      process.stdout.write(`${projection.types} types in ${projection.files.length} files written to ${out} in ${seconds} s\n`);
      if (option('--hashes')[0]) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(option('--hashes')[0]!, inputHashes(winmd));
      }
      return 0;
    }
    case 'manifest': {
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(`${USAGE}\n`);
        return 0;
      }
      const { manifestCommand, ManifestUsageError } = await import('./manifest/command.js');
      try {
        const { exitCode, output } = manifestCommand(rest);
        process.stdout.write(output);
        return exitCode;
      } catch (error) {
        throw error instanceof ManifestUsageError ? new UsageError(error.message) : error;
      }
    }
    default:
      throw new UsageError(command ? `unknown command ${command}` : 'no command');
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(error instanceof UsageError ? `${error.message}\n${USAGE}\n` : `winbg: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
