// Registering background tasks with Windows (BackgroundTaskBuilder), the seed's way: look for an
// existing registration of the same name first (registration is idempotent), point the task at
// its COM class with SetTaskEntryPointClsid (IBackgroundTaskBuilder5, Windows 10 2004 and later),
// and turn the errors people meet in the field into explanations. Runs against Windows' classes,
// or the portable host's JS stand-ins for them.
import '../generated/descriptors.js'; // the projection's types, each namespace parsed when first resolved
import { Guid } from '../com/guid.js';
import { APPMODEL_ERROR_NO_PACKAGE, CLASS_E_CLASSNOTAVAILABLE, ComError, E_INVALIDARG, E_NOINTERFACE, ERROR_NOT_FOUND, ERROR_NOT_SUPPORTED, REGDB_E_CLASSNOTREG } from '../com/hresult.js';
import { runtimeClass } from '../winrt/activation.js';
import type { WinRTObject } from '../winrt/projection.js';
import type { Subscription } from '../winrt/subscription.js';
import { project } from '../winrt/projection.js';
import { readRecord, removeRecord, writeRecord, type RegistrationRecord } from './records.js';
import { resolveType, type ResolvedInterface } from '../winrt/types.js';

const NS = 'Windows.ApplicationModel.Background';
const enumValues = (name: string): Readonly<Record<string, number>> => (resolveType(`${NS}.${name}`) as { values: Readonly<Record<string, number>> }).values;

/** SystemTriggerType names (Windows.ApplicationModel.Background). */
export type SystemTriggerName =
  | 'SmsReceived' | 'UserPresent' | 'UserAway' | 'NetworkStateChange' | 'ControlChannelReset' | 'InternetAvailable'
  | 'SessionConnected' | 'ServicingComplete' | 'LockScreenApplicationAdded' | 'LockScreenApplicationRemoved'
  | 'TimeZoneChange' | 'OnlineIdConnectedStateChange' | 'BackgroundWorkCostChange' | 'PowerStateChange' | 'DefaultSignInAccountChange';

/** SystemConditionType names. */
export type ConditionName =
  | 'UserPresent' | 'UserNotPresent' | 'InternetAvailable' | 'InternetNotAvailable' | 'SessionConnected'
  | 'SessionDisconnected' | 'FreeNetworkAvailable' | 'BackgroundWorkCostNotHigh';

/** A trigger, validated before Windows sees it; `create()` makes the WinRT trigger object. */
export interface Trigger {
  readonly kind: 'time' | 'maintenance' | 'system' | 'application';
  readonly description: string;
  create(): WinRTObject;
}

/** A trigger that the app fires itself (ApplicationTrigger). */
export interface ApplicationTrigger extends Trigger {
  /** ApplicationTrigger.RequestAsync on the registered trigger: the ApplicationTriggerResult's name. */
  request(): Promise<string>;
}

const UINT32_MAX = 0xffffffff;

/**
 * A TimeTrigger or MaintenanceTrigger: both take a freshness time, which Windows refuses under 15
 * minutes (TimeTrigger's docs), and a one-shot flag.
 */
function periodicTrigger(kind: 'time' | 'maintenance', minutes: number, options: { oneShot?: boolean }): Trigger {
  const className = kind === 'time' ? 'TimeTrigger' : 'MaintenanceTrigger';
  if (!Number.isInteger(minutes) || minutes < 15 || minutes > UINT32_MAX) {
    throw new RangeError(`${kind}Trigger: minutes must be a whole number from 15 to ${UINT32_MAX} (Windows runs these triggers at most every 15 minutes), got ${String(minutes)}`);
  }
  const oneShot = options.oneShot ?? false;
  return {
    kind,
    description: `${className}(${minutes} min${oneShot ? ', one shot' : ''})`,
    create: () => runtimeClass<{ create(freshness: number, oneShot: boolean): WinRTObject }>(`${NS}.${className}`).create(minutes, oneShot),
  };
}

/** TimeTrigger: every `minutes` (≥ 15), or once with `oneShot`. */
export function timeTrigger(minutes: number, options: { oneShot?: boolean } = {}): Trigger {
  return periodicTrigger('time', minutes, options);
}

/** MaintenanceTrigger: like a time trigger, but only on AC power. */
export function maintenanceTrigger(minutes: number, options: { oneShot?: boolean } = {}): Trigger {
  return periodicTrigger('maintenance', minutes, options);
}

/** SystemTrigger of a SystemTriggerType, by name. */
export function systemTrigger(type: SystemTriggerName, options: { oneShot?: boolean } = {}): Trigger {
  const values = enumValues('SystemTriggerType');
  const value = values[type];
  if (value === undefined || value === 0) {
    throw new RangeError(`systemTrigger: unknown SystemTriggerType ${JSON.stringify(type)} (use ${Object.keys(values).filter((n) => n !== 'Invalid').join(', ')})`);
  }
  const oneShot = options.oneShot ?? false;
  return {
    kind: 'system',
    description: `SystemTrigger(${type}${oneShot ? ', one shot' : ''})`,
    create: () => runtimeClass<{ create(type: number, oneShot: boolean): WinRTObject }>(`${NS}.SystemTrigger`).create(value, oneShot),
  };
}

type RequestableTrigger = WinRTObject & { RequestAsync(): PromiseLike<number> };

/** What registerBackgroundTask tells an application trigger whose registration already existed. */
const adoptRegistration = Symbol('winbg.adoptRegistration');
interface AdoptingTrigger extends ApplicationTrigger {
  [adoptRegistration](registration: WinRTObject, name: string): void;
}

/**
 * ApplicationTrigger: fired by the app with `request()` once registered — by this call, or
 * already (registerBackgroundTask returned the existing registration of that name: its trigger
 * is the one requested).
 */
export function applicationTrigger(): ApplicationTrigger {
  let trigger: RequestableTrigger | null = null;
  let notApplication: string | null = null;
  const adopting: AdoptingTrigger = {
    kind: 'application',
    description: 'ApplicationTrigger',
    create: () => (trigger = runtimeClass<{ create(): WinRTObject }>(`${NS}.ApplicationTrigger`).create() as RequestableTrigger),
    [adoptRegistration](registration, name): void {
      // The existing registration's trigger, as the IApplicationTrigger it is when the
      // registration was made with an application trigger.
      using existing = registeredTrigger(registration);
      if (!existing) return;
      const app = triggerAs<RequestableTrigger>(existing, 'IApplicationTrigger');
      if (app) trigger = app;
      else notApplication = name;
    },
    async request(): Promise<string> {
      if (!trigger) {
        throw new ComError(E_INVALIDARG, notApplication !== null
          ? `applicationTrigger: the registration ${JSON.stringify(notApplication)} already existed with another kind of trigger; register with replace: true to change it`
          : 'applicationTrigger: register a task with this trigger before requesting it');
      }
      const result = await trigger.RequestAsync();
      return Object.entries(enumValues('ApplicationTriggerResult')).find(([, v]) => v === result)?.[0] ?? String(result);
    },
  };
  return adopting;
}

function condition(name: ConditionName): WinRTObject {
  const values = enumValues('SystemConditionType');
  const value = values[name];
  if (value === undefined || value === 0) {
    throw new RangeError(`conditions: unknown SystemConditionType ${JSON.stringify(name)} (use ${Object.keys(values).filter((n) => n !== 'Invalid').join(', ')})`);
  }
  return runtimeClass<{ create(type: number): WinRTObject }>(`${NS}.SystemCondition`).create(value);
}

export interface RegisterOptions {
  /** The registration's name: registering the same name again returns the existing one. */
  readonly name: string;
  /** The task's COM class (the manifest's com:Class Id). */
  readonly clsid: Guid | string;
  readonly trigger: Trigger;
  readonly conditions?: readonly ConditionName[];
  /** Cancel the running task when a condition stops holding (IBackgroundTaskBuilder2). */
  readonly cancelOnConditionLoss?: boolean;
  /** Keep the network up while the task runs (IBackgroundTaskBuilder3). */
  readonly isNetworkRequested?: boolean;
  /**
   * A registration of this name that exists already is returned as it is (false, the default),
   * replaced (true: unregistered, canceling a run of it, and registered anew), or replaced only
   * when it differs from these options or cannot be verified ('if-changed').
   */
  readonly replace?: ReplaceMode;
}

/** A background task registration (BackgroundTaskRegistration), the JS way. */
export interface TaskRegistration {
  readonly name: string;
  readonly taskId: Guid;
  /** The projected BackgroundTaskRegistration, for anything else. */
  readonly raw: WinRTObject;
  /** Calls `handler` with each progress report (0–100) of a run; the Subscription removes it (call it, or `using`). */
  onProgress(handler: (progress: number, instanceId: Guid) => void): Subscription;
  /** Calls `handler` when a run completes, with its failure as a ComError (null when it succeeded). */
  onCompleted(handler: (error: ComError | null, instanceId: Guid) => void): Subscription;
  /** Unregisters; with `cancel`, a running instance is canceled too. */
  unregister(options?: { cancel?: boolean }): void;
}

type RegistrationObject = WinRTObject & {
  readonly Name: string;
  readonly TaskId: Guid;
  Unregister(cancelTask: boolean): void;
  onProgress(handler: (task: unknown, args: { InstanceId: Guid; Progress: number }) => void): Subscription;
  onCompleted(handler: (task: unknown, args: { InstanceId: Guid; CheckResult(): void }) => void): Subscription;
};

function wrap(raw: RegistrationObject): TaskRegistration {
  return {
    name: raw.Name,
    taskId: raw.TaskId,
    raw,
    onProgress: (handler) => raw.onProgress((_task, args) => handler(args.Progress, args.InstanceId)),
    onCompleted: (handler) =>
      raw.onCompleted((_task, args) => {
        let error: ComError | null = null;
        try {
          args.CheckResult();
        } catch (failure) {
          error = failure instanceof ComError ? failure : new ComError(ComError.hresultOf(failure), String(failure));
        }
        handler(error, args.InstanceId);
      }),
    unregister: (options = {}) => {
      explained(() => raw.Unregister(options.cancel ?? false), 'Unregister');
      removeRecord(raw.TaskId);
    },
  };
}

/** Every registration of this app (BackgroundTaskRegistration.AllTasks). */
export function listBackgroundTasks(): TaskRegistration[] {
  const all = explained(
    () => runtimeClass<{ AllTasks: Iterable<[Guid, RegistrationObject]> }>(`${NS}.BackgroundTaskRegistration`).AllTasks,
    'BackgroundTaskRegistration.AllTasks',
  );
  return [...all].map(([, registration]) => wrap(registration));
}

/** One way an existing registration differs from what registerBackgroundTask was asked for. */
export interface RegistrationChange {
  readonly property: 'trigger' | 'clsid' | 'conditions' | 'cancelOnConditionLoss' | 'isNetworkRequested';
  /** What the registration has, as text (the trigger's description, a CLSID, condition names). */
  readonly registered: string;
  readonly requested: string;
}

/** What registerBackgroundTask did. */
export interface RegisterResult {
  readonly registration: TaskRegistration;
  /** True when this call registered the task; false when it returned the existing registration. */
  readonly created: boolean;
  /**
   * How the registration of that name that existed differs from what was asked: empty when it
   * is the same, or when there was none. With `replace`, what the replaced one had.
   */
  readonly changed: readonly RegistrationChange[];
  /**
   * What could not be compared with the existing registration: Windows does not show a
   * registration's CLSID, conditions or flags, so winbg keeps a record of its own (see
   * stateDirectory in lib/tasks/records.ts), and a registration it did not make has none.
   */
  readonly unverified: readonly RegistrationChange['property'][];
}

/** How registerBackgroundTask treats a registration of the same name. */
export type ReplaceMode = boolean | 'if-changed';

const RECORDED = ['clsid', 'conditions', 'cancelOnConditionLoss', 'isNetworkRequested'] as const;

/**
 * Registers a task, idempotently: when a registration of the same name exists, it is returned
 * as is, as the seed insists, since Windows would otherwise keep both; the result says how it
 * differs from what was asked. `replace: true` registers anew whatever there is, and
 * `replace: 'if-changed'` only when the existing one differs or cannot be verified. Replacing
 * unregisters the old registration, canceling a run of it, and restarts its trigger's schedule.
 */
export function registerBackgroundTask(options: RegisterOptions): RegisterResult {
  if (options === null || typeof options !== 'object') throw new TypeError('registerBackgroundTask: expected an options object');
  if (typeof options.name !== 'string' || options.name.trim() === '') throw new TypeError('registerBackgroundTask: name must be a non-empty string');
  const clsid = Guid.from(options.clsid);
  const trigger = options.trigger;
  if (!trigger || typeof trigger.create !== 'function') throw new TypeError('registerBackgroundTask: trigger must come from timeTrigger(), maintenanceTrigger(), systemTrigger() or applicationTrigger()');
  const replace = options.replace ?? false;
  if (replace !== true && replace !== false && replace !== 'if-changed') throw new TypeError(`registerBackgroundTask: replace must be true, false or 'if-changed', got ${JSON.stringify(replace)}`);
  const conditions = options.conditions ?? [];
  const conditionObjects = conditions.map(condition); // validated before anything is registered
  const requested: RegistrationRecord = {
    clsid: String(clsid),
    conditions: [...conditions].sort(),
    cancelOnConditionLoss: options.cancelOnConditionLoss ?? false,
    isNetworkRequested: options.isNetworkRequested ?? false,
  };

  const all = listBackgroundTasks();
  const existing = all.filter((r) => r.name === options.name);
  for (const other of all) if (other.name !== options.name) other.raw.dispose();
  let changed: readonly RegistrationChange[] = [];
  let unverified: readonly RegistrationChange['property'][] = [];
  if (existing.length > 0) {
    const found = existing[0]!;
    ({ changed, unverified } = compare(found, trigger, requested));
    const replacing = replace === true || (replace === 'if-changed' && (changed.length > 0 || unverified.length > 0 || existing.length > 1));
    if (!replacing) {
      if (adoptRegistration in trigger) (trigger as AdoptingTrigger)[adoptRegistration](found.raw, found.name);
      for (const extra of existing.slice(1)) extra.raw.dispose();
      return { registration: found, created: false, changed, unverified };
    }
  }
  for (const registration of existing) {
    registration.unregister({ cancel: true });
    registration.raw.dispose();
  }

  const builder = explained(() => runtimeClass<{ create(): WinRTObject }>(`${NS}.BackgroundTaskBuilder`).create(), 'BackgroundTaskBuilder') as WinRTObject & Record<string, any>;
  let registration: TaskRegistration;
  try {
    builder.Name = options.name;
    builder.SetTrigger(trigger.create());
    for (const conditionObject of conditionObjects) builder.AddCondition(conditionObject);
    if (options.cancelOnConditionLoss !== undefined) builder.CancelOnConditionLoss = options.cancelOnConditionLoss;
    if (options.isNetworkRequested !== undefined) builder.IsNetworkRequested = options.isNetworkRequested;
    try {
      builder.SetTaskEntryPointClsid(clsid);
    } catch (error) {
      if (error instanceof ComError && error.hresult === E_NOINTERFACE) {
        throw new ComError(error.hresult, 'SetTaskEntryPointClsid (IBackgroundTaskBuilder5) needs Windows 10, version 2004 (build 19041) or later; this Windows does not have it', { cause: error });
      }
      throw error;
    }
    registration = wrap(explained(() => builder.Register() as RegistrationObject, `Register (${trigger.description})`));
  } finally {
    builder.dispose();
  }
  writeRecord(registration.taskId, requested);
  return { registration, created: true, changed, unverified };
}

/** The differences between registration `found` and what is requested now. */
function compare(found: TaskRegistration, trigger: Trigger, requested: RegistrationRecord): Pick<RegisterResult, 'changed' | 'unverified'> {
  const changed: RegistrationChange[] = [];
  const unverified: RegistrationChange['property'][] = [];
  const registeredTrigger = describeTrigger(found.raw);
  if (registeredTrigger === null) unverified.push('trigger');
  else if (registeredTrigger !== trigger.description) changed.push({ property: 'trigger', registered: registeredTrigger, requested: trigger.description });
  const record = readRecord(found.taskId);
  const text = (value: RegistrationRecord[(typeof RECORDED)[number]]): string => (Array.isArray(value) ? value.join(', ') || '(none)' : String(value));
  for (const property of RECORDED) {
    if (record === null) unverified.push(property);
    else if (text(record[property]) !== text(requested[property])) changed.push({ property, registered: text(record[property]), requested: text(requested[property]) });
  }
  return { changed, unverified };
}

/**
 * The trigger of a registration, described as the Trigger of the same kind describes itself
 * (IBackgroundTaskRegistration2.Trigger, Windows 10 1607 and later), or null where Windows
 * does not say or the trigger is of a kind winbg does not make.
 */
function describeTrigger(registration: WinRTObject): string | null {
  using trigger = registeredTrigger(registration);
  if (!trigger) return null;
  const shot = (oneShot: boolean): string => (oneShot ? ', one shot' : '');
  for (const [name, label] of [['ITimeTrigger', 'TimeTrigger'], ['IMaintenanceTrigger', 'MaintenanceTrigger']] as const) {
    using periodic = triggerAs<{ FreshnessTime: number; OneShot: boolean }>(trigger, name);
    if (periodic) return `${label}(${periodic.FreshnessTime} min${shot(periodic.OneShot)})`;
  }
  {
    using system = triggerAs<{ TriggerType: number; OneShot: boolean }>(trigger, 'ISystemTrigger');
    if (system) {
      const type = Object.entries(enumValues('SystemTriggerType')).find(([, v]) => v === system.TriggerType)?.[0] ?? String(system.TriggerType);
      return `SystemTrigger(${type}${shot(system.OneShot)})`;
    }
  }
  using application = triggerAs<object>(trigger, 'IApplicationTrigger');
  return application ? 'ApplicationTrigger' : null;
}

/** A registration's trigger (IBackgroundTaskRegistration2.Trigger, Windows 10 1607 and later), or null. */
function registeredTrigger(registration: WinRTObject): WinRTObject | null {
  const second = resolveType(`${NS}.IBackgroundTaskRegistration2`) as ResolvedInterface;
  const pointer = registration.comPtr().tryAs(second.iface);
  if (!pointer) return null;
  using projected = project(pointer, second) as WinRTObject & { readonly Trigger: WinRTObject | null };
  return projected.Trigger;
}

/** `trigger` projected as trigger interface `name` (a receipt of its own), or null when it is not one. */
function triggerAs<T>(trigger: WinRTObject, name: string): (WinRTObject & T) | null {
  const type = resolveType(`${NS}.${name}`) as ResolvedInterface;
  const found = trigger.comPtr().tryAs(type.iface);
  return found ? (project(found, type) as WinRTObject & T) : null;
}

/** Unregisters every registration named `name`; returns how many there were. */
export function unregisterBackgroundTask(name: string, options: { cancel?: boolean } = {}): number {
  const matching = listBackgroundTasks().filter((r) => r.name === name);
  for (const registration of matching) registration.unregister(options);
  return matching.length;
}

/** The app's background access as it is, without asking (BackgroundExecutionManager.GetAccessStatus): 'Unspecified' until the app asks. */
export function backgroundAccessStatus(): string {
  const manager = runtimeClass<{ GetAccessStatus(): number }>(`${NS}.BackgroundExecutionManager`);
  const status = explained(() => manager.GetAccessStatus(), 'BackgroundExecutionManager.GetAccessStatus');
  return Object.entries(enumValues('BackgroundAccessStatus')).find(([, v]) => v === status)?.[0] ?? String(status);
}

/**
 * BackgroundExecutionManager.RequestAccessAsync: the BackgroundAccessStatus's name
 * ('AllowedSubjectToSystemPolicy', 'DeniedByUser'…).
 */
export async function requestBackgroundAccess(): Promise<string> {
  const manager = runtimeClass<{ RequestAccessAsync(): PromiseLike<number> }>(`${NS}.BackgroundExecutionManager`);
  const status = await explained(() => manager.RequestAccessAsync(), 'BackgroundExecutionManager.RequestAccessAsync');
  return Object.entries(enumValues('BackgroundAccessStatus')).find(([, v]) => v === status)?.[0] ?? String(status);
}


/** Runs `action`, turning the errors people meet registering tasks into explanations. */
function explained<T>(action: () => T, what: string): T {
  try {
    return action();
  } catch (error) {
    if (!(error instanceof ComError)) throw error;
    const explanation = explain(error.hresult, what);
    throw explanation ? new ComError(error.hresult, `${what}: ${explanation}`, { cause: error }) : error;
  }
}

/** What an HRESULT means when registering a background task, or undefined for the others. */
export function explain(hresult: number, what = ''): string | undefined {
  switch (hresult) {
    case APPMODEL_ERROR_NO_PACKAGE:
      return 'this process has no package identity. Background tasks with a COM entry point need the app to be packaged: an MSIX package, or a sparse package (a package with an external location) registered for the unpackaged exe, whose manifest declares the task\'s com:ExeServer and com:Class (see `winbg manifest`)';
    case ERROR_NOT_SUPPORTED:
      return 'this trigger is not supported for a packaged WinMain app\'s COM task (0x80070032): Windows takes only time and maintenance triggers for a task registered with SetTaskEntryPointClsid; use timeTrigger() or maintenanceTrigger()';
    case ERROR_NOT_FOUND:
      return what.includes('AllTasks')
        ? 'Windows found no background task registrations for this app (0x80070490): it has no package identity, or its package declares no background tasks'
        : 'Windows found no such registration (0x80070490)';
    case CLASS_E_CLASSNOTAVAILABLE:
    case REGDB_E_CLASSNOTREG:
      return what.startsWith('BackgroundTaskBuilder') || what.startsWith('BackgroundTaskRegistration') || what.startsWith('BackgroundExecutionManager')
        ? 'Windows.ApplicationModel.Background is not available here (not Windows 10 or later, or Wine): use the portable host (`winbg host`) to run tasks'
        : 'the task\'s CLSID is not registered: the package manifest needs a com:Extension windows.comServer with a com:ExeServer whose com:Class Id is the CLSID (see `winbg manifest`)';
    default:
      return undefined;
  }
}
