// Command-line options of `winbg manifest` and `winbg package`: `--name value` or `--name=value`,
// flags without a value, and options that may be given more than once.

/** Misuse of a command (missing, unknown or repeated options, an invalid value, an unreadable file). */
export class ManifestUsageError extends Error {
  override readonly name = 'ManifestUsageError';
}

export interface OptionSpec {
  /** Options that take a value, each at most once. */
  readonly values: readonly string[];
  /** Options that take a value and may be repeated. */
  readonly repeatable?: readonly string[];
  /** Options without a value. */
  readonly flags?: readonly string[];
}

export interface ParsedOptions {
  readonly values: Map<string, string>;
  readonly repeated: Map<string, string[]>;
  readonly flags: Set<string>;
}

/** Parses `args` of `command` by `spec`. @throws ManifestUsageError naming the option. */
export function parseOptions(args: readonly string[], spec: OptionSpec, command: string): ParsedOptions {
  const repeatable = spec.repeatable ?? [];
  const flagNames = spec.flags ?? [];
  const takesValue = [...spec.values, ...repeatable];
  const known = [...takesValue, ...flagNames];
  const values = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = equals > 0 ? arg.slice(0, equals) : arg;
    if (!known.includes(name)) {
      throw new ManifestUsageError(arg.startsWith('-') ? `unknown option ${name} for ${command}` : `unexpected argument ${JSON.stringify(arg)} for ${command}`);
    }
    if (flagNames.includes(name)) {
      if (equals > 0) throw new ManifestUsageError(`${name} takes no value`);
      if (flags.has(name)) throw new ManifestUsageError(`${name} is given twice`);
      flags.add(name);
      continue;
    }
    let value: string | undefined;
    if (equals > 0) {
      value = arg.slice(equals + 1);
    } else {
      value = args[i + 1];
      // An option name where a value belongs is a forgotten value; any other text is the value,
      // even when it starts with '-' (the activation argument does).
      if (value === undefined || known.includes(value) || value === '--help') throw new ManifestUsageError(`${name} needs a value`);
      i++;
    }
    if (repeatable.includes(name)) {
      repeated.set(name, [...(repeated.get(name) ?? []), value]);
      continue;
    }
    if (values.has(name)) throw new ManifestUsageError(`${name} is given twice`);
    values.set(name, value);
  }
  return { values, repeated, flags };
}
