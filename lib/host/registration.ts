// BackgroundTaskRegistration as the host implements it: what Register returns and AllTasks
// lists, with the Progress and Completed events that the host raises for the registration's runs.
import { Guid } from '../com/guid.js';
import { ComError } from '../com/hresult.js';
import type { Com } from '../com/pointer.js';
import { WinRTEvent, type EventRegistrationToken } from './event.js';
import { backgroundInterfaces, NS } from './namespace.js';
import type { TriggerSpec } from './triggers.js';

/** What Windows activates for a registration: a COM class, or a WinRT class by name (TaskEntryPoint). */
export type EntryPoint = { readonly kind: 'clsid'; readonly clsid: Guid } | { readonly kind: 'name'; readonly name: string };

/** What a BackgroundTaskBuilder registers. */
export interface RegistrationDefinition {
  readonly name: string;
  readonly entryPoint: EntryPoint;
  readonly trigger: TriggerSpec;
  /** The trigger object the builder was given (Trigger returns it). */
  readonly triggerObject: object;
  /** SystemConditionType values, all of which must hold for a run to start. */
  readonly conditions: readonly number[];
  readonly cancelOnConditionLoss: boolean;
  readonly isNetworkRequested: boolean;
}

export const REGISTRATION_CLASS = `${NS}.BackgroundTaskRegistration`;

/** The JS object behind a projected BackgroundTaskRegistration. */
export class BackgroundTaskRegistration {
  static get interfaces(): ReturnType<typeof backgroundInterfaces> {
    return backgroundInterfaces('IBackgroundTaskRegistration', 'IBackgroundTaskRegistration2', 'IBackgroundTaskRegistration3', 'IBackgroundTaskRegistration4');
  }

  /** A new identifier per registration: registering the same task twice makes two registrations. */
  readonly taskId: Guid = Guid.parse(crypto.randomUUID());
  readonly definition: RegistrationDefinition;
  readonly progress: WinRTEvent;
  readonly completed: WinRTEvent;
  readonly #unregister: (registration: BackgroundTaskRegistration, cancelTask: boolean) => void;

  constructor(definition: RegistrationDefinition, unregister: (registration: BackgroundTaskRegistration, cancelTask: boolean) => void, onHandlerError: (error: unknown) => void) {
    this.definition = definition;
    this.#unregister = unregister;
    this.progress = new WinRTEvent(onHandlerError);
    this.completed = new WinRTEvent(onHandlerError);
  }

  get name(): string {
    return this.definition.name;
  }

  // IBackgroundTaskRegistration
  get_TaskId(): Guid {
    return this.taskId;
  }

  get_Name(): string {
    return this.definition.name;
  }

  add_Progress(handler: Com<{ Invoke(...args: unknown[]): void }> | null): EventRegistrationToken {
    return this.progress.add(handler);
  }

  remove_Progress(token: EventRegistrationToken): void {
    this.progress.remove(token);
  }

  add_Completed(handler: Com<{ Invoke(...args: unknown[]): void }> | null): EventRegistrationToken {
    return this.completed.add(handler);
  }

  remove_Completed(token: EventRegistrationToken): void {
    this.completed.remove(token);
  }

  /** Unregister(cancelTask): a running instance is canceled (reason Abort) or left to finish. */
  Unregister(cancelTask: boolean): void {
    this.#unregister(this, Boolean(cancelTask));
  }

  // IBackgroundTaskRegistration2
  get_Trigger(): object {
    return this.definition.triggerObject;
  }

  // IBackgroundTaskRegistration3: task groups are not emulated.
  get_TaskGroup(): null {
    return null;
  }

  // IBackgroundTaskRegistration4: the host never throttles.
  get_TaskLastThrottledInStandbyTimestamp(): { UniversalTime: bigint } {
    return { UniversalTime: 0n };
  }

  get_AppEnergyUsePredictionContribution(): number {
    return 0;
  }
}

/** BackgroundTaskProgressEventArgs. */
export function progressEventArgs(instanceId: Guid, progress: number): object {
  return {
    interfaces: backgroundInterfaces('IBackgroundTaskProgressEventArgs'),
    get_InstanceId: (): Guid => instanceId,
    get_Progress: (): number => progress,
  };
}

/** BackgroundTaskCompletedEventArgs: CheckResult throws the run's failure, if it failed. */
export function completedEventArgs(instanceId: Guid, failure: ComError | null): object {
  return {
    interfaces: backgroundInterfaces('IBackgroundTaskCompletedEventArgs'),
    get_InstanceId: (): Guid => instanceId,
    CheckResult: (): void => {
      if (failure) throw new ComError(failure.hresult, failure.detail);
    },
  };
}
