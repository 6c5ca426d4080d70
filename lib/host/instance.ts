// The IBackgroundTaskInstance that the host passes to IBackgroundTask::Run, and the deferrals it
// hands out. The host owns the run's life cycle; this object reports to it what the task does.
import { Guid } from '../com/guid.js';
import { ComError, E_FAIL } from '../com/hresult.js';
import { IWinbgRunReport } from '../tasks/report.js';
import type { Com } from '../com/pointer.js';
import { WinRTEvent, type EventRegistrationToken } from './event.js';
import { backgroundInterfaces } from './namespace.js';
import type { BackgroundTaskRegistration } from './registration.js';

/** What an instance tells the host. */
export interface InstanceObserver {
  progressed(instance: BackgroundTaskInstance, progress: number): void;
  deferralTaken(instance: BackgroundTaskInstance, deferral: number): void;
  deferralCompleted(instance: BackgroundTaskInstance, deferral: number): void;
}

/** The JS object behind the IBackgroundTaskInstance a task's Run receives. */
export class BackgroundTaskInstance {
  static get interfaces(): ReturnType<typeof backgroundInterfaces> {
    return [...backgroundInterfaces('IBackgroundTaskInstance', 'IBackgroundTaskInstance2', 'IBackgroundTaskInstance4'), IWinbgRunReport] as ReturnType<typeof backgroundInterfaces>;
  }

  /** A new identifier for every run. */
  readonly instanceId: Guid = Guid.parse(crypto.randomUUID());
  readonly registration: BackgroundTaskRegistration;
  /** IBackgroundTaskInstance.TriggerDetails: the host's reference, released when the run ends. */
  readonly triggerDetails: Com | null;
  readonly canceled: WinRTEvent;
  progress = 0;
  deferralsTaken = 0;
  deferralsCompleted = 0;
  /** Set by the host when the run has ended: later reports change nothing. */
  ended = false;
  /** A failure the task reported after Run returned (IWinbgRunReport), for CheckResult. */
  reportedFailure: ComError | null = null;
  readonly #observer: InstanceObserver;

  constructor(registration: BackgroundTaskRegistration, triggerDetails: Com | null, observer: InstanceObserver, onHandlerError: (error: unknown) => void) {
    this.registration = registration;
    this.triggerDetails = triggerDetails;
    this.#observer = observer;
    this.canceled = new WinRTEvent(onHandlerError);
  }

  /** Deferrals taken and not completed. */
  get outstandingDeferrals(): number {
    return this.deferralsTaken - this.deferralsCompleted;
  }

  // IBackgroundTaskInstance
  get_InstanceId(): Guid {
    return this.instanceId;
  }

  get_Task(): BackgroundTaskRegistration {
    return this.registration;
  }

  get_Progress(): number {
    return this.progress;
  }

  put_Progress(value: number): void {
    if (this.ended) return;
    this.progress = value;
    this.#observer.progressed(this, value);
  }

  get_TriggerDetails(): Com | null {
    return this.triggerDetails;
  }

  add_Canceled(handler: Com<{ Invoke(...args: unknown[]): void }> | null): EventRegistrationToken {
    return this.canceled.add(handler);
  }

  remove_Canceled(token: EventRegistrationToken): void {
    this.canceled.remove(token);
  }

  /** The host never suspends a task. */
  get_SuspendedCount(): number {
    return 0;
  }

  /**
   * A deferral: the run goes on after Run returns until every deferral taken is completed.
   * Completing one twice is harmless, as is completing one after the run ended.
   */
  GetDeferral(): object {
    const number = ++this.deferralsTaken;
    if (!this.ended) this.#observer.deferralTaken(this, number);
    let completed = false;
    return {
      interfaces: backgroundInterfaces('IBackgroundTaskDeferral'),
      Complete: (): void => {
        if (completed) return;
        completed = true;
        this.deferralsCompleted++;
        if (!this.ended) this.#observer.deferralCompleted(this, number);
      },
    };
  }

  // IWinbgRunReport: a JS task whose promise rejected says so before completing its deferral.
  ReportFailure(hresult: number, message: string): void {
    if (!this.ended) this.reportedFailure = new ComError(hresult < 0 ? hresult : E_FAIL, message);
  }

  // IBackgroundTaskInstance2: the host never throttles a task.
  GetThrottleCount(_counter: number): number {
    return 0;
  }

  // IBackgroundTaskInstance4: no multi-user context.
  get_User(): null {
    return null;
  }
}
