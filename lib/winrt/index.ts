// winbg/winrt: the Windows Runtime on top of the COM runtime.
export { registerTypes, registerTypesText, resolveType, parseTypeName, formatTypeName, guidOf, signatureOf, descriptorOf, registeredTypeNames } from './types.js';
export type { TypeDescriptor, MethodDescriptor, ParamDescriptor, ResolvedType, ResolvedInterface, TypeName } from './types.js';
export { iidFromSignature, pinterfaceSignature } from './signature.js';
export { WinRTObject, project, wrap, type Subscription } from './projection.js';
export { activationFactory, registerActivationFactory, runtimeClass, IActivationFactory, type RuntimeClass, type UntypedRuntimeClass } from './activation.js';
export { asPromise, fromPromise, AsyncStatus, type AsyncOptions } from './async.js';
export { box } from './reference.js';
import '../tasks/index.js'; // the whole runtime of a served task, so that the bundle keeps it in one chunk (README, Start-up)

/** What the projection adds to asynchronous operations (next to being awaitable). */
export interface AsyncOperation<T> {
  asPromise(options?: import('./async.js').AsyncOptions): Promise<T>;
}

/** What the projection adds to IVectorView/IVector objects. */
export interface VectorLike<T> extends Iterable<T> {
  readonly length: number;
  at(index: number): T | undefined;
  toArray(): T[];
}

/** What the projection adds to IMapView/IMap objects. */
export interface MapLike<K, V> extends Iterable<[K, V]> {
  readonly size: number;
  has(key: K): boolean;
  get(key: K): V | undefined;
  entries(): IterableIterator<[K, V]>;
  keys(): IterableIterator<K>;
  values(): IterableIterator<V>;
}
