// IClassFactory (unknwn.idl) for JS classes: what CoRegisterClassObject publishes and what
// CoCreateInstance calls to make an object of a CLSID.
import type { Pointer } from '../ffi/koffi.js';
import type { Guid } from './guid.js';
import { CLASS_E_NOAGGREGATION, ComError } from './hresult.js';
import { type ComInterface, defineInterface } from './interface.js';
import { createNativeObject, prepareInterfaces, type Implementation, type ObjectOptions } from './object.js';
import { ComPtr, type Com } from './pointer.js';
import { IUnknown } from './unknown.js';

export interface ClassFactoryMethods {
  CreateInstance(outer: Com | null, iid: Guid): Pointer;
  LockServer(lock: boolean): void;
}

/** IClassFactory {00000001-0000-0000-C000-000000000046}. */
export const IClassFactory: ComInterface<ClassFactoryMethods> = defineInterface<ClassFactoryMethods>({
  name: 'IClassFactory',
  iid: '00000001-0000-0000-C000-000000000046',
  base: IUnknown,
  methods: {
    CreateInstance: 'HRESULT (IUnknown *outer, REFIID riid, _Out_ void **object)',
    LockServer: 'HRESULT (BOOL lock)',
  },
});

export interface ClassDefinition {
  /** Makes a new JS object for each CreateInstance. */
  readonly create: () => Implementation;
  /** The interfaces every object of the class implements, in the order of their vtable slots. */
  readonly interfaces: readonly ComInterface<any>[];
  readonly options?: ObjectOptions;
  /** Told about LockServer(TRUE/FALSE) and about each object created, for server lifetime. */
  readonly onLock?: (locked: boolean) => void;
  readonly onCreate?: (implementation: Implementation) => void;
  /** Told, on the JS thread, when an object created by the factory is gone (its last Release). */
  readonly onDestroy?: (implementation: Implementation) => void;
}

/**
 * The JS implementation of IClassFactory for one class. Aggregation is refused
 * (CLASS_E_NOAGGREGATION), and the new object is queried for the IID the caller asked for, so a
 * caller asking for an interface the class lacks gets E_NOINTERFACE and no object leaks.
 */
export class ClassFactory implements ClassFactoryMethods {
  static readonly interfaces = [IClassFactory];
  readonly #definition: ClassDefinition;
  #locks = 0;

  constructor(definition: ClassDefinition) {
    if (!definition || typeof definition.create !== 'function') throw new TypeError('ClassFactory: create must be a function returning the JS object');
    if (!Array.isArray(definition.interfaces) || definition.interfaces.length === 0) {
      throw new TypeError('ClassFactory: interfaces must list the interfaces the class implements');
    }
    this.#definition = definition;
    // Build the class's vtables now, outside any COM call, rather than in the first CreateInstance.
    prepareInterfaces(definition.interfaces, definition.options);
  }

  /** LockServer(TRUE) calls not yet balanced by LockServer(FALSE). */
  get locks(): number {
    return this.#locks;
  }

  CreateInstance(outer: Com | null, iid: Guid): Pointer {
    if (outer !== null) {
      outer.dispose();
      throw new ComError(CLASS_E_NOAGGREGATION, 'JS COM classes cannot be aggregated');
    }
    const { create, interfaces, options, onCreate, onDestroy } = this.#definition;
    const implementation = create();
    const own = options?.onDestroyed;
    const onDestroyed = onDestroy ? (): void => {
      own?.();
      onDestroy(implementation);
    } : own;
    // The factory's reference goes once the object is queried: if the class lacks `iid` the
    // object dies here, and the caller gets E_NOINTERFACE (onCreate and onDestroy still pair).
    using unknown = ComPtr.attach(createNativeObject(implementation, interfaces, { ...options, ...(onDestroyed ? { onDestroyed } : {}) }), IUnknown);
    onCreate?.(implementation);
    return unknown.query(iid);
  }

  LockServer(lock: boolean): void {
    // An unlock with no lock to undo is a caller's mistake; counting it would let the server go.
    if (!lock && this.#locks === 0) return;
    this.#locks += lock ? 1 : -1;
    this.#definition.onLock?.(Boolean(lock));
  }
}

/** The pointer of a new class factory for `definition`, with one reference the caller owns. */
export function classFactoryPointer(definition: ClassDefinition): Pointer {
  return createNativeObject(new ClassFactory(definition), [IClassFactory]);
}
