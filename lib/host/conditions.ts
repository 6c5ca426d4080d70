// The state that SystemConditionType conditions are evaluated against. On Windows it is the
// machine's (is the user present, is there Internet…); in the host it is a table tests set.
// Conditions that are each other's negation (InternetAvailable / InternetNotAvailable…) are one
// fact, so setting one sets the other.
import { enumeration } from './namespace.js';

/** SystemConditionType names, without Invalid. */
export type ConditionName =
  | 'UserPresent' | 'UserNotPresent' | 'InternetAvailable' | 'InternetNotAvailable' | 'SessionConnected'
  | 'SessionDisconnected' | 'FreeNetworkAvailable' | 'BackgroundWorkCostNotHigh';

const NEGATIONS: ReadonlyMap<ConditionName, ConditionName> = new Map([
  ['UserNotPresent', 'UserPresent'],
  ['InternetNotAvailable', 'InternetAvailable'],
  ['SessionDisconnected', 'SessionConnected'],
]);

/** A machine where someone is logged on and working, online on a free network. */
const DEFAULTS: Readonly<Record<string, boolean>> = {
  UserPresent: true,
  InternetAvailable: true,
  SessionConnected: true,
  FreeNetworkAvailable: true,
  BackgroundWorkCostNotHigh: true,
};

const conditionTypes = (): Readonly<Record<string, number>> => enumeration('SystemConditionType');

/** The SystemConditionType name of a value or name; RangeError for Invalid and unknown ones. */
export function conditionName(condition: ConditionName | number): ConditionName {
  const types = conditionTypes();
  const name = typeof condition === 'number' ? Object.keys(types).find((key) => types[key] === condition) : condition;
  if (name === undefined || name === 'Invalid' || !(name in types)) {
    throw new RangeError(`conditions: ${JSON.stringify(condition)} is not a SystemConditionType (use ${Object.keys(types).filter((n) => n !== 'Invalid').join(', ')})`);
  }
  return name as ConditionName;
}

export type ConditionListener = (name: ConditionName, value: boolean) => void;

/** The values of the SystemConditionType conditions, which the host evaluates tasks' conditions against. */
export class Conditions {
  readonly #facts = new Map<ConditionName, boolean>();
  readonly #listeners = new Set<ConditionListener>();

  constructor(initial: Partial<Record<ConditionName, boolean>> = {}) {
    for (const [name, value] of Object.entries(DEFAULTS)) this.#facts.set(name as ConditionName, value);
    const seen = new Map<ConditionName, [ConditionName, boolean]>();
    for (const [name, value] of Object.entries(initial)) {
      if (value === undefined) continue;
      const [fact, holds] = this.#fact(conditionName(name as ConditionName), value);
      const earlier = seen.get(fact);
      if (earlier && earlier[1] !== holds) {
        throw new RangeError(`conditions: ${earlier[0]} and ${name} contradict each other`);
      }
      seen.set(fact, [name as ConditionName, holds]);
      this.#facts.set(fact, holds);
    }
  }

  /** Whether a condition holds now. */
  get(condition: ConditionName | number): boolean {
    const [fact, negated] = this.#factOf(conditionName(condition));
    return this.#facts.get(fact)! !== negated;
  }

  /** Sets a condition (and its negation); listeners hear of changes only. */
  set(condition: ConditionName | number, value: boolean): this {
    if (typeof value !== 'boolean') throw new TypeError(`conditions.set: value must be true or false, got ${String(value)}`);
    const name = conditionName(condition);
    const [fact, holds] = this.#fact(name, value);
    if (this.#facts.get(fact) === holds) return this;
    this.#facts.set(fact, holds);
    for (const listener of [...this.#listeners]) listener(name, value);
    return this;
  }

  /** Every condition and whether it holds. */
  entries(): [ConditionName, boolean][] {
    return Object.keys(conditionTypes()).filter((n) => n !== 'Invalid').map((n) => [n as ConditionName, this.get(n as ConditionName)]);
  }

  /** Calls `listener` after each change; returns a function that removes it. */
  onChange(listener: ConditionListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  #factOf(name: ConditionName): [fact: ConditionName, negated: boolean] {
    const positive = NEGATIONS.get(name);
    return positive ? [positive, true] : [name, false];
  }

  #fact(name: ConditionName, value: boolean): [fact: ConditionName, holds: boolean] {
    const [fact, negated] = this.#factOf(name);
    return [fact, value !== negated];
  }
}
