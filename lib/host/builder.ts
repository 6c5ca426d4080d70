// BackgroundTaskBuilder as the host implements it, with Register's validation. Since Windows
// 8.1, "the parameters used to register a background task are validated at the time of
// registration" (BackgroundTaskBuilder.Register's docs), so every rule below fails Register
// itself; the factories accept anything, as Windows' do.
import { Guid } from '../com/guid.js';
import { ComError, E_ACCESSDENIED, E_INVALIDARG, ERROR_NOT_SUPPORTED } from '../com/hresult.js';
import type { Com } from '../com/pointer.js';
import { backgroundInterfaces, enumeration } from './namespace.js';
import type { BackgroundTaskRegistration, EntryPoint, RegistrationDefinition } from './registration.js';
import { conditionOf, describeTrigger, triggerOf, type TriggerSpec } from './triggers.js';

/** TimeTrigger and MaintenanceTrigger: "The minimum value for FreshnessTime is 15 minutes." */
export const MIN_FRESHNESS_MINUTES = 15;

/** What Register checks beyond the builder's own state. */
export interface RegisterPolicy {
  /**
   * 'windows' (the default): a task with a COM entry point (SetTaskEntryPointClsid) accepts
   * TimeTrigger and MaintenanceTrigger only, and Register fails with ERROR_NOT_SUPPORTED for a
   * SystemTrigger or ApplicationTrigger, as Windows does for full-trust COM tasks
   * (microsoft/WindowsAppSDK#3840, DesktopBridgeToUWP-Samples#120). 'all' accepts them, as if the
   * task were forwarded through a WinRT component (what the Windows App SDK's builder does).
   */
  readonly clsidTriggers: 'windows' | 'all';
  /** Whether the app's background access is denied (BackgroundAccessStatus Denied…). */
  readonly accessDenied: () => boolean;
}

interface TriggerSetting {
  readonly spec: TriggerSpec | undefined;
  readonly object: object | undefined;
}

interface ConditionSetting {
  readonly type: number | undefined;
}

type Register = (definition: RegistrationDefinition) => BackgroundTaskRegistration;

/** The JS object behind a projected BackgroundTaskBuilder. */
export class BackgroundTaskBuilder {
  static get interfaces(): ReturnType<typeof backgroundInterfaces> {
    return backgroundInterfaces('IBackgroundTaskBuilder', 'IBackgroundTaskBuilder2', 'IBackgroundTaskBuilder3', 'IBackgroundTaskBuilder4', 'IBackgroundTaskBuilder5', 'IBackgroundTaskBuilder6');
  }

  #name = '';
  #entryPoint: EntryPoint | null = null;
  #trigger: TriggerSetting | null = null;
  readonly #conditions: ConditionSetting[] = [];
  #cancelOnConditionLoss = false;
  #isNetworkRequested = false;
  #allowRunningTaskInStandby = false;
  #taskGroup: Com | null = null;
  readonly #register: Register;
  readonly #policy: RegisterPolicy;

  constructor(register: Register, policy: RegisterPolicy) {
    this.#register = register;
    this.#policy = policy;
  }

  // IBackgroundTaskBuilder
  put_TaskEntryPoint(value: string): void {
    this.#entryPoint = value === '' ? null : { kind: 'name', name: value };
  }

  get_TaskEntryPoint(): string {
    return this.#entryPoint?.kind === 'name' ? this.#entryPoint.name : '';
  }

  SetTrigger(trigger: Com | null): void {
    if (trigger === null) {
      this.#trigger = null;
      return;
    }
    try {
      const object = trigger.implementation;
      this.#trigger = { spec: triggerOf(object), object };
    } finally {
      trigger.dispose();
    }
  }

  AddCondition(condition: Com | null): void {
    if (condition === null) throw new ComError(E_INVALIDARG, 'BackgroundTaskBuilder.AddCondition: condition is null');
    try {
      this.#conditions.push({ type: conditionOf(condition.implementation) });
    } finally {
      condition.dispose();
    }
  }

  put_Name(value: string): void {
    this.#name = value;
  }

  get_Name(): string {
    return this.#name;
  }

  /** Register() and IBackgroundTaskBuilder6's Register(taskName). */
  Register(taskName?: string): BackgroundTaskRegistration {
    const name = taskName ?? this.#name;
    const error = this.#problem(name);
    if (error) throw error;
    return this.#register({
      name,
      entryPoint: this.#entryPoint!,
      trigger: this.#trigger!.spec!,
      triggerObject: this.#trigger!.object!,
      conditions: this.#conditions.map((c) => c.type!),
      cancelOnConditionLoss: this.#cancelOnConditionLoss,
      isNetworkRequested: this.#isNetworkRequested,
    });
  }

  // IBackgroundTaskBuilder2
  put_CancelOnConditionLoss(value: boolean): void {
    this.#cancelOnConditionLoss = Boolean(value);
  }

  get_CancelOnConditionLoss(): boolean {
    return this.#cancelOnConditionLoss;
  }

  // IBackgroundTaskBuilder3
  put_IsNetworkRequested(value: boolean): void {
    this.#isNetworkRequested = Boolean(value);
  }

  get_IsNetworkRequested(): boolean {
    return this.#isNetworkRequested;
  }

  // IBackgroundTaskBuilder4: kept, not emulated (registrations are ungrouped).
  get_TaskGroup(): Com | null {
    return this.#taskGroup;
  }

  put_TaskGroup(value: Com | null): void {
    this.#taskGroup?.dispose();
    this.#taskGroup = value;
  }

  // IBackgroundTaskBuilder5
  SetTaskEntryPointClsid(clsid: Guid): void {
    this.#entryPoint = { kind: 'clsid', clsid: Guid.from(clsid) };
  }

  // IBackgroundTaskBuilder6
  get_AllowRunningTaskInStandby(): boolean {
    return this.#allowRunningTaskInStandby;
  }

  put_AllowRunningTaskInStandby(value: boolean): void {
    this.#allowRunningTaskInStandby = Boolean(value);
  }

  /** Whether Register would accept the builder as it is. */
  Validate(): boolean {
    return this.#problem(this.#name) === null;
  }

  /** Why Register fails, or null. */
  #problem(name: string): ComError | null {
    if (this.#policy.accessDenied()) {
      return new ComError(E_ACCESSDENIED, 'BackgroundTaskBuilder.Register: background access is denied for this app (BackgroundExecutionManager.GetAccessStatus is Denied, DeniedByUser or DeniedBySystemPolicy)');
    }
    if (typeof name !== 'string' || name.length === 0) {
      return new ComError(E_INVALIDARG, 'BackgroundTaskBuilder.Register: Name is empty; give the task a name (it is how AllTasks tells registrations apart)');
    }
    const trigger = this.#trigger;
    if (trigger === null) {
      return new ComError(E_INVALIDARG, 'BackgroundTaskBuilder.Register: no trigger; call SetTrigger first ("The task must have an event trigger for the Register method to succeed")');
    }
    if (trigger.spec === undefined) {
      return new ComError(ERROR_NOT_SUPPORTED, 'BackgroundTaskBuilder.Register: the portable host emulates TimeTrigger, MaintenanceTrigger, SystemTrigger and ApplicationTrigger only; this trigger is of another kind');
    }
    if (this.#entryPoint === null) {
      return new ComError(E_INVALIDARG, 'BackgroundTaskBuilder.Register: no entry point; call SetTaskEntryPointClsid (or set TaskEntryPoint) first');
    }
    const spec = trigger.spec;
    if ((spec.kind === 'time' || spec.kind === 'maintenance') && !(spec.freshnessTime >= MIN_FRESHNESS_MINUTES)) {
      return new ComError(E_INVALIDARG, `BackgroundTaskBuilder.Register: ${describeTrigger(spec)}: FreshnessTime must be at least ${MIN_FRESHNESS_MINUTES} minutes, got ${spec.freshnessTime}`);
    }
    if (spec.kind === 'system' && !validType('SystemTriggerType', spec.triggerType)) {
      return new ComError(E_INVALIDARG, `BackgroundTaskBuilder.Register: SystemTrigger: TriggerType ${spec.triggerType} is not a SystemTriggerType other than Invalid`);
    }
    if (this.#entryPoint.kind === 'clsid' && this.#policy.clsidTriggers === 'windows' && (spec.kind === 'system' || spec.kind === 'application')) {
      return new ComError(
        ERROR_NOT_SUPPORTED,
        `BackgroundTaskBuilder.Register: ${describeTrigger(spec)} is not supported for a task with a COM entry point (SetTaskEntryPointClsid): Windows accepts TimeTrigger and MaintenanceTrigger there (createHost({ clsidTriggers: 'all' }) lifts this)`,
      );
    }
    for (const condition of this.#conditions) {
      if (condition.type === undefined) {
        return new ComError(ERROR_NOT_SUPPORTED, 'BackgroundTaskBuilder.Register: the portable host emulates SystemCondition only; a condition is of another kind');
      }
      if (!validType('SystemConditionType', condition.type)) {
        return new ComError(E_INVALIDARG, `BackgroundTaskBuilder.Register: SystemCondition: ConditionType ${condition.type} is not a SystemConditionType other than Invalid`);
      }
    }
    return null;
  }
}

function validType(enumName: string, value: number): boolean {
  return value !== 0 && Object.values(enumeration(enumName)).includes(value);
}
