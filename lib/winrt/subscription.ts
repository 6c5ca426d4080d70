// The one subscription type of winbg: what a projected event's onX returns, and what the tasks
// API's onProgress, onCompleted, onRunStarted and onRunEnded return. Call it, or let `using`
// dispose it, to unsubscribe; a second time does nothing.

/** A function that unsubscribes a handler; `using` unsubscribes at the end of the scope. */
export interface Subscription extends Disposable {
  (): void;
}

/** A Subscription that runs `unsubscribe` once, however often it is called or disposed. */
export function subscription(unsubscribe: () => void): Subscription {
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    unsubscribe();
  };
  return Object.assign(once, { [Symbol.dispose]: once });
}
