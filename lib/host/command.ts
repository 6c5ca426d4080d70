// `winbg host <module>`: runs a module's background task under the portable host, in this
// process, the way Windows runs a registered task: the module's tasks are served (serve, in
// process), the chosen one is registered through the projection (registerBackgroundTask), its
// trigger fires, the host activates the class and calls IBackgroundTask::Run, and the run's
// lifecycle is printed. Kept apart from lib/cli.ts so that it runs in-process in tests (a
// child's pipes cannot be read under Wine).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Guid } from '../com/guid.js';
import { hresultHex, hresultMessage, hresultName, messageOf } from '../com/hresult.js';
import {
  applicationTrigger, BackgroundTask, cancellationReasons, maintenanceTrigger, systemTrigger, timeTrigger, type SystemTriggerName, type Trigger,
} from '../tasks/index.js';
import { GRACE_PERIOD_EXPIRED, type BackgroundHost, type CancellationReasonName } from './host.js';
import { openHost, parseSeconds, runHosted } from './hosted.js';
import type { HostEvent, TaskRun } from './log.js';

/** The command's synopsis, printed on misuse when the caller gives no usage text of its own. */
export const HOST_SYNOPSIS = `usage: winbg host <module> [--task NAME | --clsid GUID]
                  [--time MINUTES | --maintenance MINUTES | --system TYPE | --application]
                  [--for SECONDS] [--cancel-after SECONDS [--reason NAME]] [--json]`;

export interface HostCommandOptions {
  /** Where the lifecycle goes: one line per event (text, or JSON with --json). */
  readonly stdout: { write(text: string): unknown };
  /** Notes (what the host does in Windows' place), errors and the usage text. Default process.stderr. */
  readonly stderr?: { write(text: string): unknown };
  /** What a relative module path is resolved against (default process.cwd()). */
  readonly cwd?: string;
  /** Ctrl+C: once it aborts, the run is canceled (Abort), and the command returns when it has ended. */
  readonly interrupt?: AbortSignal;
  /** Printed after a misuse message (default HOST_SYNOPSIS). */
  readonly usage?: string;
}

/** Misuse of the command: exit code 2, with the usage text. */
class UsageError extends Error {}

const VALUE_OPTIONS = ['--task', '--clsid', '--time', '--maintenance', '--system', '--for', '--cancel-after', '--reason'] as const;
const FLAG_OPTIONS = ['--application', '--json', '--help', '-h'] as const;

interface Plan {
  readonly module: string;
  readonly task: string | undefined;
  readonly clsid: Guid | undefined;
  readonly trigger: Trigger;
  /** How the host fires the trigger now, and what Windows would do instead (a note). */
  readonly firing: string;
  /** Fires it now, as the trigger's own source would; resolves with the runs it started. */
  readonly fire: (host: BackgroundHost, name: string) => number | Promise<number>;
  readonly forMs: number | null;
  readonly cancelAfterMs: number | null;
  readonly reason: CancellationReasonName;
  readonly json: boolean;
}

/**
 * Runs `winbg host` with the arguments after `host`. Resolves with the exit code: 0 when the
 * run completed, 1 when it failed (or could not start), 2 on misuse (the message and the usage
 * text go to stderr).
 *
 * @example
 * const code = await runHostCommand(['tasks.mjs', '--time', '15'], { stdout: process.stdout });
 */
export async function runHostCommand(args: readonly string[], options: HostCommandOptions): Promise<number> {
  const started = performance.now();
  const stderr = options.stderr ?? process.stderr;
  const usage = options.usage ?? HOST_SYNOPSIS;
  const misuse = (error: UsageError): number => {
    stderr.write(`${error.message}\n${usage}\n`);
    return 2;
  };
  let plan: Plan | 'help';
  try {
    plan = parse(args);
  } catch (error) {
    if (error instanceof UsageError) return misuse(error);
    throw error;
  }
  if (plan === 'help') {
    options.stdout.write(`${usage}\n`);
    return 0;
  }
  const file = resolve(options.cwd ?? process.cwd(), plan.module);
  if (!existsSync(file)) return misuse(new UsageError(`host: no module at ${file}`));

  // The host opens before the module loads, so that registrations the module makes as it loads
  // reach the host rather than Windows.
  let host: BackgroundHost;
  try {
    host = openHost();
  } catch (error) {
    stderr.write(`winbg host: ${messageOf(error)}\n`);
    return 1;
  }
  try {
    let exports: Record<string, unknown>;
    try {
      exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (error) {
      stderr.write(`winbg host: loading ${file} failed: ${messageOf(error)}\n`);
      return 1;
    }
    let chosen: { readonly task: BackgroundTask; readonly name: string };
    let all: readonly BackgroundTask[];
    try {
      ({ chosen, all } = choose(exports, plan, file));
    } catch (error) {
      if (error instanceof UsageError) return misuse(error);
      throw error;
    }
    const print = printer(options.stdout, plan.json, started);
    const outcome = await runHosted({
      host,
      serve: all,
      task: chosen.task,
      name: chosen.name,
      trigger: plan.trigger,
      fire: plan.fire,
      forMs: plan.forMs,
      started,
      cancelAfterMs: plan.cancelAfterMs,
      reason: plan.reason,
      interrupt: options.interrupt,
      note: (text) => stderr.write(`${text}\n`),
      onRegistered: (registration) => {
        print({ type: 'registered', name: registration.name, taskId: registration.taskId, trigger: plan.trigger.description, clsid: chosen.task.clsid });
        stderr.write(`note: ${plan.firing}\n`);
      },
      onEvent: (event, run) => print(lifecycle(event, run)),
    });
    if ('notFired' in outcome) {
      stderr.write(`winbg host: ${outcome.notFired}\n`);
      return 1;
    }
    return outcome.run.state === 'completed' ? 0 : 1;
  } catch (error) {
    stderr.write(`winbg host: ${messageOf(error)}\n`);
    return 1;
  } finally {
    host.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments.

/** `--name value` or `--name=value`, each at most once; one module path. */
function parse(args: readonly string[]): Plan | 'help' {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = equals > 0 ? arg.slice(0, equals) : arg;
    if ((FLAG_OPTIONS as readonly string[]).includes(name)) {
      if (equals > 0) throw new UsageError(`${name} takes no value`);
      if (flags.has(name)) throw new UsageError(`${name} is given twice`);
      flags.add(name);
      continue;
    }
    if (!(VALUE_OPTIONS as readonly string[]).includes(name)) {
      if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${name} for host`);
      positional.push(arg);
      continue;
    }
    let value: string | undefined;
    if (equals > 0) value = arg.slice(equals + 1);
    else {
      value = args[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
    }
    if (values.has(name)) throw new UsageError(`${name} is given twice`);
    values.set(name, value);
  }
  if (flags.has('--help') || flags.has('-h')) return 'help';
  if (positional.length !== 1) throw new UsageError(positional.length === 0 ? 'host needs a module (a path to a .js or .mjs file that exports tasks from defineBackgroundTask)' : `host takes one module, got ${positional.length}: ${positional.join(' ')}`);

  if (values.has('--task') && values.has('--clsid')) throw new UsageError('give --task or --clsid, not both');
  let clsid: Guid | undefined;
  if (values.has('--clsid')) {
    try {
      clsid = Guid.parse(values.get('--clsid')!);
    } catch {
      throw new UsageError(`--clsid: ${JSON.stringify(values.get('--clsid'))} is not a GUID`);
    }
  }

  const kinds = ['--time', '--maintenance', '--system'].filter((k) => values.has(k)).concat(flags.has('--application') ? ['--application'] : []);
  if (kinds.length > 1) throw new UsageError(`give one trigger, not ${kinds.join(' and ')}`);
  const { trigger, firing, fire } = chooseTrigger(kinds[0] ?? '--application', values);

  if (values.has('--reason') && !values.has('--cancel-after')) throw new UsageError('--reason goes with --cancel-after (Ctrl+C cancels with Abort, --for with ExecutionTimeExceeded)');
  const reasonText = values.get('--reason') ?? 'Abort';
  const reason = cancellationReasons().find((r) => r.toLowerCase() === reasonText.toLowerCase());
  if (!reason) throw new UsageError(`--reason: ${JSON.stringify(reasonText)} is not a BackgroundTaskCancellationReason (use ${cancellationReasons().join(', ')})`);

  return {
    module: positional[0]!,
    task: values.get('--task'),
    clsid,
    trigger,
    firing,
    fire,
    forMs: seconds(values, '--for'),
    cancelAfterMs: seconds(values, '--cancel-after'),
    reason: reason as CancellationReasonName,
    json: flags.has('--json'),
  };
}

const CLSID_REFUSES = 'Windows refuses it for a task registered by CLSID (ERROR_NOT_SUPPORTED, 0x80070032): use --time or --maintenance there';

function chooseTrigger(kind: string, values: Map<string, string>): Pick<Plan, 'trigger' | 'firing' | 'fire'> {
  try {
    switch (kind) {
      case '--time':
      case '--maintenance': {
        const value = values.get(kind)!;
        const minutes = /^\d+$/.test(value) ? Number(value) : Number.NaN;
        const trigger = kind === '--time' ? timeTrigger(minutes) : maintenanceTrigger(minutes);
        return {
          trigger,
          firing: `Windows would fire ${trigger.description} on the first 15-minute tick after ${minutes} minutes${kind === '--maintenance' ? ', on AC power' : ''}; the host fires it now (host.fire)`,
          fire: (host, name) => host.fire(name),
        };
      }
      case '--system': {
        const type = values.get('--system')! as SystemTriggerName;
        return {
          trigger: systemTrigger(type),
          firing: `the host raises the ${type} system event now (host.fireSystemTrigger); ${CLSID_REFUSES}`,
          fire: (host) => host.fireSystemTrigger(type),
        };
      }
      default: {
        const trigger = applicationTrigger();
        return {
          trigger,
          firing: `the host fires the ApplicationTrigger now (ApplicationTrigger.RequestAsync); ${CLSID_REFUSES}`,
          fire: async () => {
            const result = await trigger.request();
            if (result !== 'Allowed') throw new Error(`ApplicationTrigger.RequestAsync answered ${result}`);
            return 1;
          },
        };
      }
    }
  } catch (error) {
    // The trigger functions' RangeErrors name the argument and the allowed values.
    if (error instanceof RangeError) throw new UsageError(`${kind}: ${error.message.replace(/^\w+: /, '')}`);
    throw error;
  }
}

function seconds(values: Map<string, string>, name: string): number | null {
  const value = values.get(name);
  return value === undefined ? null : parseSeconds(value, name, (message) => new UsageError(message));
}

/** The module's tasks, and the one to run: the only one, or the one --task or --clsid names. */
function choose(exports: Record<string, unknown>, plan: Plan, file: string): { chosen: { task: BackgroundTask; name: string }; all: BackgroundTask[] } {
  const found = new Map<BackgroundTask, string>(); // each task once, by its first export name
  const foreign: string[] = [];
  for (const [exportName, value] of Object.entries(exports)) {
    if (value instanceof BackgroundTask) {
      if (!found.has(value)) found.set(value, exportName);
    } else if (value !== null && typeof value === 'object' && 'clsid' in value && 'classDefinition' in value) {
      foreign.push(exportName);
    }
  }
  if (found.size === 0) {
    throw new UsageError(foreign.length > 0
      ? `${file}: ${foreign.join(', ')} ${foreign.length === 1 ? 'comes' : 'come'} from another copy of winbg; import winbg/tasks from the installation that runs this command`
      : `${file} exports no background task (an object from defineBackgroundTask)`);
  }
  const entries = [...found].map(([task, exportName]) => ({ task, exportName }));
  const list = entries.map(({ task, exportName }) => `${exportName} (${task.name === `{${task.clsid}}` ? task.clsid : `${task.name}, ${task.clsid}`})`).join(', ');
  let matches = entries;
  if (plan.task !== undefined) matches = entries.filter(({ task, exportName }) => exportName === plan.task || task.name === plan.task);
  else if (plan.clsid !== undefined) matches = entries.filter(({ task }) => task.clsid.equals(plan.clsid!));
  if (matches.length !== 1) {
    const which = plan.task !== undefined ? `--task ${plan.task} matches ${matches.length === 0 ? 'none' : 'several'} of its tasks`
      : plan.clsid !== undefined ? `--clsid ${plan.clsid} matches none of its tasks`
      : `it exports ${entries.length} tasks; choose one with --task NAME or --clsid GUID`;
    throw new UsageError(`${file}: ${which}: ${list}`);
  }
  const { task, exportName } = matches[0]!;
  // The registration's name: the task's own name, or else its export's.
  const named = task.name !== `{${task.clsid}}` || exportName === 'default';
  return { chosen: { task, name: named ? task.name : exportName }, all: entries.map((e) => e.task) };
}

// ---------------------------------------------------------------------------------------------
// Output.

interface Line {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** What the command prints for a host event, or null for those it leaves out. */
function lifecycle(event: HostEvent, run: TaskRun | undefined): Line | null {
  const instanceId = event.instanceId;
  switch (event.type) {
    case 'activated':
      return { type: 'activated', instanceId };
    case 'progress':
      return { type: 'progress', instanceId, progress: event.progress };
    case 'canceled':
      return { type: 'canceled', instanceId, reason: event.reason };
    case 'completed':
      return { type: 'completed', instanceId, progress: run?.progress };
    case 'failed':
    case 'terminated': {
      const hresult = event.hresult ?? 0;
      const detail = run?.error?.detail ?? event.message ?? hresultMessage(hresult);
      return { type: event.type, instanceId, hresult, message: detail };
    }
    default:
      return null;
  }
}

/** The HRESULT's symbolic name; the host's grace-period failure has none in the common table. */
function nameOf(hresult: number): string | undefined {
  return hresultName(hresult) ?? (hresult === GRACE_PERIOD_EXPIRED ? 'HRESULT_FROM_WIN32(ERROR_TIMEOUT)' : undefined);
}

/** Writes lines as text, or as one JSON object per line with the milliseconds since the start. */
function printer(stdout: { write(text: string): unknown }, json: boolean, started: number): (line: Line | null) => void {
  return (line) => {
    if (line === null) return;
    if (json) {
      const fields: Record<string, unknown> = { type: line.type, elapsedMs: Math.round(performance.now() - started) };
      for (const [key, value] of Object.entries(line)) {
        if (value === undefined || key === 'type') continue;
        if (key === 'hresult') {
          fields.hresult = hresultHex(value as number);
          const name = nameOf(value as number);
          if (name) fields.hresultName = name;
        } else fields[key] = value instanceof Guid ? value.toString() : value;
      }
      stdout.write(`${JSON.stringify(fields)}\n`);
      return;
    }
    stdout.write(`${text(line)}\n`);
  };
}

function text(line: Line): string {
  switch (line.type) {
    case 'registered':
      return `registered ${String(line.name)}: ${String(line.trigger)}, class {${String(line.clsid)}}`;
    case 'activated':
      return `activated {${String(line.instanceId)}}`;
    case 'progress':
      return `progress ${String(line.progress)}`;
    case 'canceled':
      return `canceled (${String(line.reason)})`;
    case 'completed':
      return 'completed';
    default:
      const hresult = line.hresult as number;
      const name = nameOf(hresult);
      return `${line.type} ${hresultHex(hresult)}${name ? ` ${name}` : ''}: ${String(line.message)}`;
  }
}

