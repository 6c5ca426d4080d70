import type { ComInterface } from './interface.js';
import { createNativeObject, type Implementation, type ObjectOptions } from './object.js';
import { ComPtr, type Com } from './pointer.js';

/** A class whose instances implement COM interfaces: `static interfaces = [IFoo, IBar]`. */
export interface ComClass {
  readonly interfaces: readonly ComInterface<any>[];
}

/**
 * Makes `implementation` a COM object and returns a ComPtr to its first interface (the one
 * reference; dispose it when done, or pass `.detach()` to native code that takes ownership).
 * The interfaces come from the argument, else from the class's `static interfaces`.
 *
 * @example
 * class Adder { static interfaces = [IAdder]; Add(a: number, b: number) { return a + b; } }
 * using adder = createObject<Adder>(new Adder());
 * adder.Add(2, 3); // 5, called through the vtable like native code would
 */
export function createObject<M extends object = {}>(
  implementation: Implementation,
  interfaces?: readonly ComInterface<any>[],
  options?: ObjectOptions,
): Com<M> {
  const list = interfaces ?? (implementation as { constructor?: Partial<ComClass> })?.constructor?.interfaces;
  if (!list) {
    throw new TypeError('createObject: pass the interfaces, or give the class a static `interfaces` array');
  }
  const first = list[0] as ComInterface<M>;
  return ComPtr.attach(createNativeObject(implementation, list, options), first);
}
