// The trigger and condition objects the host hands out for TimeTrigger, MaintenanceTrigger,
// SystemTrigger, ApplicationTrigger and SystemCondition. Like Windows' own, their factories
// accept any value: a TimeTrigger of 5 minutes is created, and refused by Register ("If
// FreshnessTime is set to less than 15 minutes, an exception is thrown when attempting to
// register the background task", TimeTrigger's constructor docs). What the host needs to
// schedule a trigger is kept beside the object, found again from the COM object it comes back as.
import type { Com } from '../com/pointer.js';
import { backgroundInterfaces, enumName } from './namespace.js';

export type TriggerSpec =
  | { readonly kind: 'time' | 'maintenance'; readonly freshnessTime: number; readonly oneShot: boolean }
  | { readonly kind: 'system'; readonly triggerType: number; readonly oneShot: boolean }
  | { readonly kind: 'application' };

const triggers = new WeakMap<object, TriggerSpec>();
const conditions = new WeakMap<object, number>();

/** The trigger a JS trigger object of the host stands for, or undefined for any other object. */
export function triggerOf(implementation: unknown): TriggerSpec | undefined {
  return typeof implementation === 'object' && implementation !== null ? triggers.get(implementation) : undefined;
}

/** The SystemConditionType of a JS SystemCondition of the host, or undefined. */
export function conditionOf(implementation: unknown): number | undefined {
  return typeof implementation === 'object' && implementation !== null ? conditions.get(implementation) : undefined;
}

/** 'TimeTrigger(15 min)', 'SystemTrigger(InternetAvailable, one shot)'… for logs and messages. */
export function describeTrigger(spec: TriggerSpec): string {
  switch (spec.kind) {
    case 'time':
    case 'maintenance':
      return `${spec.kind === 'time' ? 'TimeTrigger' : 'MaintenanceTrigger'}(${spec.freshnessTime} min${spec.oneShot ? ', one shot' : ''})`;
    case 'system':
      return `SystemTrigger(${enumName('SystemTriggerType', spec.triggerType)}${spec.oneShot ? ', one shot' : ''})`;
    case 'application':
      return 'ApplicationTrigger';
  }
}

/** A TimeTrigger or MaintenanceTrigger (ITimeTrigger / IMaintenanceTrigger, IBackgroundTrigger). */
export function timeTrigger(kind: 'time' | 'maintenance', freshnessTime: number, oneShot: boolean): object {
  const object = {
    interfaces: backgroundInterfaces(kind === 'time' ? 'ITimeTrigger' : 'IMaintenanceTrigger', 'IBackgroundTrigger'),
    get_FreshnessTime: (): number => freshnessTime,
    get_OneShot: (): boolean => oneShot,
  };
  triggers.set(object, { kind, freshnessTime, oneShot: Boolean(oneShot) });
  return object;
}

/** A SystemTrigger (ISystemTrigger, IBackgroundTrigger). */
export function systemTrigger(triggerType: number, oneShot: boolean): object {
  const object = {
    interfaces: backgroundInterfaces('ISystemTrigger', 'IBackgroundTrigger'),
    get_OneShot: (): boolean => oneShot,
    get_TriggerType: (): number => triggerType,
  };
  triggers.set(object, { kind: 'system', triggerType, oneShot: Boolean(oneShot) });
  return object;
}

/** What RequestAsync asks of the host: the IAsyncOperation<ApplicationTriggerResult> to return. */
export type ApplicationTriggerRequest = (trigger: TriggerSpec, args: Com | null) => Com;

/** An ApplicationTrigger (IApplicationTrigger, IBackgroundTrigger), fired by its RequestAsync. */
export function applicationTrigger(request: ApplicationTriggerRequest): object {
  const spec: TriggerSpec = { kind: 'application' };
  const object = {
    interfaces: backgroundInterfaces('IApplicationTrigger', 'IBackgroundTrigger'),
    RequestAsync: (): Com => request(spec, null),
    RequestAsyncWithArguments: (args: Com | null): Com => request(spec, args),
  };
  triggers.set(object, spec);
  return object;
}

/** A SystemCondition (ISystemCondition, IBackgroundCondition). */
export function systemCondition(conditionType: number): object {
  const object = {
    interfaces: backgroundInterfaces('ISystemCondition', 'IBackgroundCondition'),
    get_ConditionType: (): number => conditionType,
  };
  conditions.set(object, conditionType);
  return object;
}
