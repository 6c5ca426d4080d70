// `winbg manifest`: writes the comServer block, or checks a manifest with --check. Kept apart from
// lib/cli.ts so that it runs in-process in tests (a child's pipes cannot be read under Wine).
import { readFileSync } from 'node:fs';
import { checkManifest, type ManifestFinding } from './check.js';
import { comServerExtension, DEFAULT_ACTIVATION_ARGUMENT } from './com-server.js';
import { RUNTIMES, runtimeOfExecutable, scriptProblem, serverArguments, type Runtime } from './package.js';
import { ManifestUsageError, parseOptions as parseCommandOptions } from './options.js';
import '../tasks/index.js'; // the whole runtime of a served task, so that the bundle keeps it in one chunk (README, Start-up)

export { ManifestUsageError };

export interface ManifestCommandResult {
  /** 0: the block was written or the manifest is ok; 1: the manifest is not ok. */
  readonly exitCode: 0 | 1;
  /** What to print on stdout. */
  readonly output: string;
}

const WRITE_OPTIONS = ['--clsid', '--exe', '--args', '--script', '--runtime', '--display-name', '--class-display-name', '--permission'] as const;
const CHECK_OPTIONS = ['--check', '--clsid', '--exe', '--args'] as const;
const ALL_OPTIONS: readonly string[] = [...new Set<string>([...WRITE_OPTIONS, ...CHECK_OPTIONS])];

/**
 * Runs `winbg manifest` with the arguments after `manifest`.
 * @throws ManifestUsageError on misuse.
 */
export function manifestCommand(
  args: readonly string[],
  io: { readFile?: (path: string) => Uint8Array } = {},
): ManifestCommandResult {
  const options = parseOptions(args);
  const clsid = options.get('--clsid');
  if (clsid === undefined) throw new ManifestUsageError('manifest needs --clsid');
  const file = options.get('--check');
  if (file === undefined) return writeBlock(options, clsid);
  for (const name of options.keys()) {
    if (!(CHECK_OPTIONS as readonly string[]).includes(name)) throw new ManifestUsageError(`${name} is for writing a block; --check takes --clsid, --exe and --args`);
  }
  let bytes: Uint8Array;
  try {
    bytes = (io.readFile ?? readFileSync)(file);
  } catch (error) {
    throw new ManifestUsageError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let check;
  try {
    check = checkManifest(decodeText(bytes), { clsid, executable: options.get('--exe'), arguments: options.get('--args') });
  } catch (error) {
    if (error instanceof TypeError) throw new ManifestUsageError(optionMessage(error));
    if (!(error instanceof NotText)) throw error;
    check = { ok: false, findings: [{ level: 'error', message: error.message } satisfies ManifestFinding] };
  }
  const lines = check.findings.map((f) => `${f.line === undefined ? file : `${file}:${f.line}:${f.column}`}: ${f.level}: ${f.message}`);
  const errors = check.findings.filter((f) => f.level === 'error').length;
  const warnings = check.findings.filter((f) => f.level === 'warning').length;
  const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  lines.push(`${file}: ${check.ok ? 'ok' : 'not ok'} (${count(errors, 'error')}, ${count(warnings, 'warning')})`);
  return { exitCode: check.ok ? 0 : 1, output: `${lines.join('\n')}\n` };
}

function writeBlock(options: Map<string, string>, clsid: string): ManifestCommandResult {
  const executable = options.get('--exe');
  if (executable === undefined) throw new ManifestUsageError('manifest needs --exe (the server .exe, relative to the package root) to write a block');
  const args = serverArgumentsOf(options, executable);
  let block;
  try {
    block = comServerExtension({
      clsid,
      executable,
      arguments: args,
      displayName: options.get('--display-name'),
      classDisplayName: options.get('--class-display-name'),
      launchAndActivationPermission: options.get('--permission'),
    });
  } catch (error) {
    if (error instanceof TypeError) throw new ManifestUsageError(optionMessage(error));
    throw error;
  }
  const declarations = block.namespaces.map((n) => n.attribute).join(' ');
  return {
    exitCode: 0,
    output: `<!-- On <Package>: ${declarations} -->\n<!-- Inside <Application><Extensions>: -->\n${block.xml}\n`,
  };
}

/**
 * The ExeServer's Arguments. With --script: the script first, then the activation argument (--args,
 * default -StartSampleTaskServer), as the runtime needs (--runtime, or the executable's name).
 * Without it, --args as given, unless the executable is a copy of node, bun or deno, which would
 * take a leading -StartSampleTaskServer as an option of its own.
 */
function serverArgumentsOf(options: Map<string, string>, executable: string): string | undefined {
  const script = options.get('--script');
  const named = runtimeOfExecutable(executable);
  const given = options.get('--runtime');
  if (given !== undefined && !RUNTIMES.includes(given as Runtime)) throw new ManifestUsageError(`--runtime must be node, bun or deno; got ${JSON.stringify(given)}`);
  const runtime = (given as Runtime | undefined) ?? named;
  if (script !== undefined) {
    const problem = scriptProblem(script);
    if (problem) throw new ManifestUsageError(`--script ${problem}; got ${JSON.stringify(script)}`);
    return serverArguments(runtime ?? 'node', script, options.get('--args') ?? DEFAULT_ACTIVATION_ARGUMENT);
  }
  const args = options.get('--args');
  if (runtime && (args === undefined || /^[-/]/.test(args))) {
    throw new ManifestUsageError(
      `${executable} runs a script, which must come first: give --script (e.g. --script app.js, the file that calls serve()); ` +
        `COM would start ${executable} ${args ?? DEFAULT_ACTIVATION_ARGUMENT} -Embedding, which ${runtime} ${runtime === 'node' ? 'refuses (exit 9, bad option)' : 'does not run'}`,
    );
  }
  return args;
}

/** `--name value` or `--name=value`; each option at most once. */
function parseOptions(args: readonly string[]): Map<string, string> {
  return parseCommandOptions(args, { values: ALL_OPTIONS }, 'manifest').values;
}

/** The option names of the command line in place of the API's, in a TypeError from the API. */
function optionMessage(error: TypeError): string {
  const names: Record<string, string> = {
    clsid: '--clsid', executable: '--exe', arguments: '--args', displayName: '--display-name',
    classDisplayName: '--class-display-name', launchAndActivationPermission: '--permission',
  };
  return error.message.replace(/^(?:comServerExtension|checkManifest): (\w+)/, (whole, option: string) => names[option] ?? whole);
}

class NotText extends Error {}

/**
 * The manifest's text: UTF-8 (with or without a BOM) or UTF-16 with a BOM, the encodings XML
 * parsers must read (XML 1.0 §4.3.3).
 */
function decodeText(bytes: Uint8Array): string {
  const [a, b, c] = bytes;
  try {
    if (a === 0xff && b === 0xfe) return new TextDecoder('utf-16le', { fatal: true }).decode(bytes.subarray(2));
    if (a === 0xfe && b === 0xff) return new TextDecoder('utf-16be', { fatal: true }).decode(bytes.subarray(2));
    return new TextDecoder('utf-8', { fatal: true }).decode(a === 0xef && b === 0xbb && c === 0xbf ? bytes.subarray(3) : bytes);
  } catch {
    throw new NotText('the file is neither UTF-8 nor UTF-16 with a byte order mark: save it as UTF-8');
  }
}
