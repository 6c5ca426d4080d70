// IAsyncAction, IAsyncOperation<T> and their WithProgress forms (Windows.Foundation) as
// Promises: a projected asynchronous operation is awaitable, `asPromise` adds cancellation
// (AbortSignal → IAsyncInfo.Cancel) and progress; a failed operation rejects with the ComError of
// its ErrorCode. `fromPromise` goes the other way, for JS code that implements WinRT APIs.
import { ComError, ERROR_CANCELLED, E_ILLEGAL_METHOD_CALL, S_OK } from '../com/hresult.js';
import { createObject } from '../com/implement.js';
import type { Com } from '../com/pointer.js';
import { resolveType, type ResolvedInterface } from './types.js';

const ASYNC = new Set([
  'Windows.Foundation.IAsyncAction',
  'Windows.Foundation.IAsyncOperation`1',
  'Windows.Foundation.IAsyncActionWithProgress`1',
  'Windows.Foundation.IAsyncOperationWithProgress`2',
]);

/** AsyncStatus (Windows.Foundation). */
export const AsyncStatus = { Started: 0, Completed: 1, Canceled: 2, Error: 3 } as const;

export interface AsyncOptions<P = unknown> {
  /** Cancels the operation (IAsyncInfo.Cancel) when aborted; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Called with each progress report of a WithProgress operation. */
  readonly onProgress?: (progress: P) => void;
}

interface AsyncObject {
  Completed: unknown;
  Progress?: unknown;
  GetResults(): unknown;
  Cancel(): void;
  readonly ErrorCode: { Value: number } | number;
}

const promises = new WeakMap<object, Promise<unknown>>();

/**
 * The promise of an asynchronous WinRT operation. A WinRT operation accepts one Completed
 * handler, so each operation has one promise: awaiting it twice, or calling `then` and
 * `asPromise` on it, share the result.
 */
export function asPromise<T = unknown, P = unknown>(operation: object, options: AsyncOptions<P> = {}): Promise<T> {
  const existing = promises.get(operation);
  if (existing) {
    if (options.signal || options.onProgress) throw new ComError(E_ILLEGAL_METHOD_CALL, 'asPromise: this operation is already being awaited; pass the signal and onProgress on the first call');
    return existing as Promise<T>;
  }
  const op = operation as AsyncObject;
  const { signal, onProgress } = options;
  const promise = new Promise<T>((resolve, reject) => {
    // The completion arrives from a Windows thread, through koffi's queue, which does not keep
    // the event loop alive: without this timer, Node would exit while Windows is still working.
    const keepAlive = setInterval(() => {}, 0x7fffffff);
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      try {
        op.Cancel();
      } catch {
        // already complete: its Completed handler settles the promise
      }
    };
    const completed = (_: unknown, status: number): void => {
      clearInterval(keepAlive);
      signal?.removeEventListener('abort', onAbort);
      if (status === AsyncStatus.Completed) {
        try {
          resolve(op.GetResults() as T);
        } catch (error) {
          reject(error);
        }
      } else if (status === AsyncStatus.Canceled) {
        reject(aborted && signal ? signal.reason : new ComError(ERROR_CANCELLED, 'the asynchronous operation was canceled'));
      } else {
        // GetResults throws the operation's error with its message where Windows kept one.
        try {
          op.GetResults();
          const code = op.ErrorCode;
          reject(new ComError(typeof code === 'number' ? code : code.Value, 'the asynchronous operation failed'));
        } catch (error) {
          reject(error);
        }
      }
    };
    try {
      if (onProgress) op.Progress = (_: unknown, progress: P) => onProgress(progress);
      // Windows calls a handler set after completion right away, so there is no race here.
      op.Completed = completed;
    } catch (error) {
      clearInterval(keepAlive);
      throw error;
    }
    if (signal) {
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  promises.set(operation, promise);
  return promise;
}

/** Makes projected asynchronous operations awaitable (`then`) and adds `asPromise(options)`. */
export function asyncMembers(prototype: object, iface: ResolvedInterface): void {
  if (!ASYNC.has(iface.definition) || Object.hasOwn(prototype, 'then')) return;
  Object.defineProperty(prototype, 'then', {
    value: function (this: object, onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) {
      return asPromise(this).then(onFulfilled, onRejected);
    },
    configurable: true,
    writable: true,
  });
  Object.defineProperty(prototype, 'asPromise', {
    value: function (this: object, options?: AsyncOptions) {
      return asPromise(this, options);
    },
    configurable: true,
    writable: true,
  });
}

/**
 * A JS promise as a WinRT asynchronous operation of type `typeName` (IAsyncAction,
 * IAsyncOperation<T>, or a WithProgress form), for JS code that implements WinRT APIs (the
 * portable host does). For progress, pass a function: it receives `report(progress)` and the
 * AbortSignal that IAsyncInfo.Cancel aborts, and returns the promise.
 */
export function fromPromise(
  work: PromiseLike<unknown> | ((report: (progress: unknown) => void, signal: AbortSignal) => PromiseLike<unknown>),
  typeName: string,
): Com {
  const type = resolveType(typeName);
  if (type.kind !== 'interface' || !ASYNC.has(type.definition)) throw new TypeError(`fromPromise: ${typeName} is not an asynchronous operation type`);
  const info = resolveType('Windows.Foundation.IAsyncInfo');
  if (info.kind !== 'interface') throw new TypeError('Windows.Foundation.IAsyncInfo is not projected');
  let status: number = AsyncStatus.Started;
  let result: unknown;
  let error: unknown;
  let handler: Com<{ Invoke(sender: unknown, status: number): void }> | null = null;
  let progressHandler: Com<{ Invoke(sender: unknown, progress: unknown): void }> | null = null;
  const canceled = new AbortController();
  const id = nextId++;
  const operation = {
    interfaces: [type.iface, info.iface],
    get_Id: () => id,
    get_Status: () => status,
    get_ErrorCode: () => ({ Value: status === AsyncStatus.Error ? ComError.hresultOf(error) : S_OK }),
    Cancel: () => {
      if (status !== AsyncStatus.Started) return;
      finish(AsyncStatus.Canceled);
      canceled.abort(new ComError(ERROR_CANCELLED, 'canceled through IAsyncInfo.Cancel'));
    },
    put_Progress: (next: Com<{ Invoke(sender: unknown, progress: unknown): void }> | null) => {
      progressHandler?.dispose();
      progressHandler = next;
    },
    get_Progress: () => progressHandler,
    Close: () => {},
    put_Completed: (next: Com<{ Invoke(sender: unknown, status: number): void }> | null) => {
      if (handler) throw new ComError(E_ILLEGAL_DELEGATE_ASSIGNMENT, 'Completed can be set once');
      handler = next;
      if (status !== AsyncStatus.Started && handler) notify();
    },
    get_Completed: () => handler,
    GetResults: () => {
      if (status === AsyncStatus.Error) throw error;
      if (status !== AsyncStatus.Completed) throw new ComError(E_ILLEGAL_METHOD_CALL, 'GetResults before completion');
      return result;
    },
  };
  const notify = (): void => {
    const target = handler;
    handler = null;
    target?.Invoke(operation, status);
    target?.dispose();
  };
  const finish = (next: number): void => {
    status = next;
    progressHandler?.dispose();
    progressHandler = null;
    if (handler) notify();
  };
  const report = (progress: unknown): void => {
    if (status === AsyncStatus.Started) progressHandler?.Invoke(operation, progress);
  };
  const promise = typeof work === 'function' ? work(report, canceled.signal) : work;
  promise.then(
    (value) => {
      if (status !== AsyncStatus.Started) return;
      result = value;
      finish(AsyncStatus.Completed);
    },
    (reason) => {
      if (status !== AsyncStatus.Started) return;
      error = reason;
      finish(AsyncStatus.Error);
    },
  );
  return createObject(operation, operation.interfaces, { runtimeClassName: type.name });
}

let nextId = 1;
const E_ILLEGAL_DELEGATE_ASSIGNMENT = 0x80000018 | 0;
