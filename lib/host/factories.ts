// The activation factories the host installs (registerActivationFactory), so that the generated
// projection's TimeTrigger.create, BackgroundTaskBuilder.create, BackgroundTaskRegistration.AllTasks…
// reach the host instead of Windows.
import { ComError, RO_E_CLOSED } from '../com/hresult.js';
import type { ComInterface } from '../com/interface.js';
import type { Com } from '../com/pointer.js';
import { activationFactory, registerActivationFactory } from '../winrt/activation.js';
import { resolveType, type ResolvedInterface } from '../winrt/types.js';
import { NS } from './namespace.js';
import { applicationTrigger, systemCondition, systemTrigger, timeTrigger, type ApplicationTriggerRequest } from './triggers.js';

/** What the factories ask of the host that installed them. */
export interface HostServices {
  createBuilder(): object;
  allTasks(): Map<unknown, object>;
  requestApplicationTrigger: ApplicationTriggerRequest;
  requestAccess(): Com;
  requestAccessKind(): Com;
  accessStatus(): number;
  removeAccess(): void;
}

/** Factory objects of every host, to recognize them behind a COM pointer. */
const hostFactories = new WeakSet<object>();

/** The classes the host implements, and the objects behind their factories. */
function factories(services: () => HostServices | null): Record<string, () => object> {
  const live = (): HostServices => {
    const host = services();
    if (!host) throw new ComError(RO_E_CLOSED, 'the winbg host that created this factory was closed');
    return host;
  };
  // The projection keeps a class's statics pointer for the life of the process, so a statics
  // call may reach the factory of a host closed since: it goes on to the class's factory now.
  const statics = (className: string, methods: Record<string, (host: HostServices, ...args: any[]) => unknown>): Record<string, (...args: any[]) => unknown> =>
    Object.fromEntries(Object.entries(methods).map(([name, method]) => [name, function (this: object, ...args: unknown[]) {
      const host = services();
      return host ? method(host, ...args) : forward(this, className, name, args);
    }]));
  return {
    [`${NS}.TimeTrigger`]: () => ({ Create: (freshnessTime: number, oneShot: boolean) => timeTrigger('time', freshnessTime, oneShot) }),
    [`${NS}.MaintenanceTrigger`]: () => ({ Create: (freshnessTime: number, oneShot: boolean) => timeTrigger('maintenance', freshnessTime, oneShot) }),
    [`${NS}.SystemTrigger`]: () => ({ Create: (triggerType: number, oneShot: boolean) => systemTrigger(triggerType, oneShot) }),
    [`${NS}.SystemCondition`]: () => ({ Create: (conditionType: number) => systemCondition(conditionType) }),
    [`${NS}.ApplicationTrigger`]: () => ({
      ActivateInstance: () => applicationTrigger((trigger, args) => live().requestApplicationTrigger(trigger, args)),
    }),
    [`${NS}.BackgroundTaskBuilder`]: () => ({
      ActivateInstance: () => live().createBuilder(),
      ...statics(`${NS}.BackgroundTaskBuilder`, { get_IsRunningTaskInStandbySupported: () => false }),
    }),
    [`${NS}.BackgroundTaskRegistration`]: () => statics(`${NS}.BackgroundTaskRegistration`, {
      get_AllTasks: (host) => host.allTasks(),
      get_AllTaskGroups: () => new Map<string, object>(),
      GetTaskGroup: () => null,
    }),
    [`${NS}.BackgroundExecutionManager`]: () => statics(`${NS}.BackgroundExecutionManager`, {
      RequestAccessAsync: (host) => host.requestAccess(),
      RequestAccessForApplicationAsync: (host) => host.requestAccess(),
      RemoveAccess: (host) => host.removeAccess(),
      RemoveAccessForApplication: (host) => host.removeAccess(),
      GetAccessStatus: (host) => host.accessStatus(),
      GetAccessStatusForApplication: (host) => host.accessStatus(),
      RequestAccessKindAsync: (host) => host.requestAccessKind(),
      RequestAccessKindForModernStandbyAsync: (host) => host.requestAccessKind(),
      GetAccessStatusForModernStandby: (host) => host.accessStatus(),
      GetAccessStatusForModernStandbyForApplication: (host) => host.accessStatus(),
    }),
  };
}

/** Installs the host's factories; disposing the result removes them. */
export function installFactories(services: () => HostServices | null): Disposable {
  const registrations = Object.entries(factories(services)).map(([className, create]) =>
    registerActivationFactory(className, () => {
      const factory = create();
      hostFactories.add(factory);
      return factory;
    }),
  );
  return {
    [Symbol.dispose]: () => {
      for (const registration of registrations) registration[Symbol.dispose]();
    },
  };
}

/** Calls static `method` of `className` on the class's current factory (another host's, or Windows'). */
function forward(from: object, className: string, method: string, args: unknown[]): unknown {
  const factory = activationFactory(className);
  const implementation = factory.implementation as Record<string, (...a: unknown[]) => unknown> | undefined;
  if (implementation === from) throw new ComError(RO_E_CLOSED, `${className}: the winbg host that served it was closed`);
  if (implementation && hostFactories.has(implementation)) return implementation[method]!(...args);
  const type = resolveType(className);
  const names = type.kind === 'class' ? type.descriptor.statics ?? [] : [];
  for (const name of names) {
    const iface = (resolveType(name) as ResolvedInterface).iface as ComInterface<any>;
    if (!iface.allMethods.some((m) => m.name === method)) continue;
    using statics = factory.as(iface) as Com<Record<string, (...a: unknown[]) => unknown>>;
    return statics[method]!(...args);
  }
  throw new ComError(RO_E_CLOSED, `${className}.${method}: the winbg host that served it was closed`);
}
