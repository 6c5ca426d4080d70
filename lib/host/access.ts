// Background access (BackgroundExecutionManager): the user's decision, which RequestAccessAsync
// returns, and the app's status, which GetAccessStatus reads: Unspecified until the app asks,
// then the decision, until RemoveAccess.
import { enumName, enumValue } from './namespace.js';

export type AccessStatusName =
  | 'Unspecified' | 'AllowedWithAlwaysOnRealTimeConnectivity' | 'AllowedMayUseActiveRealTimeConnectivity' | 'Denied'
  | 'AlwaysAllowed' | 'AllowedSubjectToSystemPolicy' | 'DeniedBySystemPolicy' | 'DeniedByUser';

const DENIED: ReadonlySet<string> = new Set(['Denied', 'DeniedBySystemPolicy', 'DeniedByUser']);
const UNSPECIFIED = 0;

export class BackgroundAccess {
  #decision: number;
  #status = UNSPECIFIED;
  readonly #onChange: (status: AccessStatusName) => void;

  constructor(decision: AccessStatusName, onChange: (status: AccessStatusName) => void) {
    this.#decision = enumValue('BackgroundAccessStatus', decision, 'createHost: access');
    this.#onChange = onChange;
  }

  /** The user's decision. Once the app has asked, changing it changes the status too (the user changed the app's setting). */
  get decision(): AccessStatusName {
    return enumName('BackgroundAccessStatus', this.#decision) as AccessStatusName;
  }

  set decision(value: AccessStatusName) {
    this.#decision = enumValue('BackgroundAccessStatus', value, 'access');
    if (this.#status !== UNSPECIFIED) this.#set(this.#decision);
  }

  /** GetAccessStatus, as a BackgroundAccessStatus value. */
  get value(): number {
    return this.#status;
  }

  get status(): AccessStatusName {
    return enumName('BackgroundAccessStatus', this.#status) as AccessStatusName;
  }

  /** Denied, DeniedBySystemPolicy or DeniedByUser. */
  get denied(): boolean {
    return DENIED.has(this.status);
  }

  /** RequestAccessAsync: the status becomes the decision. */
  request(): number {
    this.#set(this.#decision);
    return this.#status;
  }

  /** RemoveAccess. */
  remove(): void {
    this.#set(UNSPECIFIED);
  }

  #set(status: number): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#onChange(this.status);
  }
}
