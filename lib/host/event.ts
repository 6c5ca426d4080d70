// A WinRT event on the implementing side: add_X stores the caller's delegate and returns an
// EventRegistrationToken, remove_X releases it, and raising invokes each delegate through its
// vtable. A handler that fails is reported and does not stop the others (as Windows' event
// sources do with a failing remote handler). A handler of another process (a proxy, on Windows)
// is invoked on a koffi worker thread: its code may call back into this process, whose calls COM
// queues to this JS thread, which a synchronous call would be blocking.
import { ComError, E_INVALIDARG } from '../com/hresult.js';
import { disposeComPtr, isForeign, type Com } from '../com/pointer.js';

type Delegate = Com<{ Invoke(...args: unknown[]): void }>;

/** Windows.Foundation.EventRegistrationToken as the projection passes it. */
export interface EventRegistrationToken {
  readonly Value: bigint;
}

export class WinRTEvent {
  readonly #handlers = new Map<bigint, Delegate>();
  #next = 1n;
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void = () => {}) {
    this.#onError = onError;
  }

  /** add_X: takes over the delegate's reference. */
  add(handler: Delegate | null): EventRegistrationToken {
    if (handler === null) throw new ComError(E_INVALIDARG, 'add: the handler is null');
    const token = this.#next++;
    this.#handlers.set(token, handler);
    return { Value: token };
  }

  /** remove_X: an unknown or already removed token does nothing, as in Windows' event sources. */
  remove(token: { Value: bigint | number }): void {
    const key = BigInt(token.Value);
    const handler = this.#handlers.get(key);
    this.#handlers.delete(key);
    if (handler) disposeComPtr(handler);
  }

  /** Invokes every handler registered now, in registration order. */
  raise(...args: unknown[]): void {
    for (const handler of [...this.#handlers.values()]) {
      if (handler.disposed) continue;
      if (isForeign(handler)) {
        // Its own reference for the call: `remove` or `clear` may release the handler's while
        // the call is still under way (the task can complete its run from inside Canceled).
        const held = handler.clone();
        held.callAsync('Invoke', ...args).catch(this.#onError).finally(() => disposeComPtr(held));
        continue;
      }
      try {
        handler.Invoke(...args);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  get size(): number {
    return this.#handlers.size;
  }

  /** Releases every handler. */
  clear(): void {
    const handlers = [...this.#handlers.values()];
    this.#handlers.clear();
    for (const handler of handlers) disposeComPtr(handler);
  }
}
