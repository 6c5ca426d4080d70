// Activation of runtime classes (roapi.h): RoGetActivationFactory with a cache, ActivateInstance,
// factory interfaces and statics. JS factories can be registered for a class name first — the
// portable host does, to run WinRT code where Windows is absent, and tests do for test doubles.
import { isWindows, type Pointer } from '../ffi/koffi.js';
import { windows } from '../ffi/windows.js';
import { Guid } from '../com/guid.js';
import { CLASS_E_CLASSNOTAVAILABLE, CO_E_NOTINITIALIZED, ComError, E_NOTIMPL, REGDB_E_CLASSNOTREG } from '../com/hresult.js';
import { HString } from '../com/hstring.js';
import { createObject } from '../com/implement.js';
import { defineInterface, type ComInterface } from '../com/interface.js';
import { ComPtr, type Com } from '../com/pointer.js';
import { initializeCom } from '../com/runtime.js';
import { IInspectable } from '../com/unknown.js';
import { installMembers, wrap, type WinRTObject } from './projection.js';
import { resolveType, type ResolvedInterface, type ResolvedType } from './types.js';

export interface ActivationFactoryMethods {
  ActivateInstance(): Com;
}

/** IActivationFactory (activation.idl). */
export const IActivationFactory: ComInterface<ActivationFactoryMethods> = defineInterface<ActivationFactoryMethods>({
  name: 'IActivationFactory',
  iid: '00000035-0000-0000-C000-000000000046',
  base: IInspectable,
  methods: { ActivateInstance: 'HRESULT (_Out_ IInspectable **instance)' },
});

const factories = new Map<string, Com>();
const jsFactories = new Map<string, () => object>();

/**
 * Makes `className` activatable from JS: `create()` returns the JS object that implements the
 * class's activation factory and static interfaces (by method name, as any JS COM object).
 * Replaces Windows' own factory for the class in this process.
 */
export function registerActivationFactory(className: string, create: () => object): Disposable {
  jsFactories.set(className, create);
  factories.get(className)?.dispose();
  factories.delete(className);
  const unregister = (): void => {
    if (jsFactories.get(className) !== create) return;
    jsFactories.delete(className);
    factories.get(className)?.dispose();
    factories.delete(className);
  };
  return { [Symbol.dispose]: unregister };
}

/**
 * The activation factory of `className` (cached for the process, like C++/WinRT's factory cache).
 * @throws ComError REGDB_E_CLASSNOTREG naming the class when Windows does not know it, or
 *   CLASS_E_CLASSNOTAVAILABLE when the DLL registered for its namespace does not make it.
 */
export function activationFactory(className: string): Com {
  const cached = factories.get(className);
  if (cached) return cached;
  let factory: Com;
  const js = jsFactories.get(className);
  if (js) {
    const type = resolveType(className);
    const statics = type.kind === 'class' ? [...(type.descriptor.statics ?? []), ...(type.descriptor.factories ?? [])] : [];
    const interfaces = [IActivationFactory, ...statics.map((name) => (resolveType(name) as ResolvedInterface).iface)];
    factory = createObject(js(), interfaces, { runtimeClassName: className }).as(IInspectable);
  } else {
    factory = ComPtr.attach(getFactory(className, IActivationFactory.iid), IInspectable);
  }
  factories.set(className, factory);
  return factory;
}

function getFactory(className: string, iid: Guid): Pointer {
  if (!isWindows) {
    throw new ComError(REGDB_E_CLASSNOTREG, `${className}: runtime classes are activated by Windows; on ${process.platform} register a JS factory (registerActivationFactory) or use the portable host`);
  }
  const call = (): [number, Pointer | null] => {
    using name = HString.reference(className);
    const out: [Pointer | null] = [null];
    return [windows().RoGetActivationFactory(name.handle, iid.bytes, out) as number, out[0]];
  };
  let [hr, ptr] = call();
  if (hr === CO_E_NOTINITIALIZED) {
    // As C#/WinRT does for apps that never initialized COM: join the MTA and try again.
    initializeCom('mta');
    [hr, ptr] = call();
  }
  if (hr === REGDB_E_CLASSNOTREG) {
    throw new ComError(hr, `${className} is not registered on this system (Windows does not know this runtime class, or this version of Windows lacks it)`);
  }
  if (hr === CLASS_E_CLASSNOTAVAILABLE) {
    // The class's namespace is registered but its DLL does not make this class (Wine 10's
    // windows.applicationmodel.dll and BackgroundTaskRegistration, for one).
    throw new ComError(hr, `${className} is not available on this system (the DLL registered for its namespace does not provide it)`);
  }
  ComError.check(hr, `RoGetActivationFactory(${className})`);
  return ptr!;
}

/**
 * A runtime class, as a JS value: its static members, and `create(...)` for instances (typed by
 * the generated projection with the class's constructors).
 */
export interface RuntimeClass {
  /** The class's full name. */
  readonly className: string;
}

/** What `runtimeClass` returns before the projection types it: any constructor, any static. */
export interface UntypedRuntimeClass extends RuntimeClass {
  /**
   * A new instance: with no arguments through IActivationFactory::ActivateInstance, otherwise
   * through the factory method whose parameter count matches.
   */
  create(...args: unknown[]): WinRTObject;
}

/** The JS value of a runtime class: statics as members, `create` to activate. */
export function runtimeClass<T extends object = UntypedRuntimeClass>(className: string): T & RuntimeClass {
  const target = {
    className,
    create(...args: unknown[]): WinRTObject {
      const type = classType(className);
      const factory = activationFactory(className);
      if (args.length === 0 && type.descriptor.activatable) {
        using activation = factory.as(IActivationFactory);
        using instance = activation.ActivateInstance();
        return wrap(instance.as(type.defaultInterface!), type);
      }
      for (const name of type.descriptor.factories ?? []) {
        const factoryType = resolveType(name) as ResolvedInterface;
        const methods = (factoryType.descriptor as unknown as { methods: readonly (readonly [string, readonly unknown[]])[] }).methods;
        const method = methods.find(([, params]) => params.length === args.length);
        if (!method) continue;
        const members: Record<string, (...a: unknown[]) => unknown> = {};
        installMembers(members, [factoryType], () => factory.as(factoryType.iface));
        return members[method[0]]!(...args) as WinRTObject;
      }
      throw new ComError(E_NOTIMPL, `${className} has no constructor taking ${args.length} argument${args.length === 1 ? '' : 's'}`);
    },
  };
  const statics = lazyStatics(className);
  return new Proxy(target, {
    get(object, property, receiver) {
      if (property in object) return Reflect.get(object, property, receiver);
      return Reflect.get(statics(), property);
    },
    set(_object, property, value) {
      return Reflect.set(statics(), property, value);
    },
    has(object, property) {
      return property in object || property in statics();
    },
  }) as unknown as T & RuntimeClass;
}

function classType(className: string): ResolvedType & { kind: 'class' } {
  const type = resolveType(className);
  if (type.kind !== 'class') throw new TypeError(`${className} is a ${type.kind}, not a runtime class`);
  return type;
}

/** The object holding a class's static members, built on first use. */
function lazyStatics(className: string): () => object {
  let statics: object | undefined;
  return () => {
    if (statics) return statics;
    const type = classType(className);
    const interfaces = (type.descriptor.statics ?? []).map((name) => resolveType(name) as ResolvedInterface);
    const pointers = new Map<ComInterface<any>, Com>();
    let factory: Com | null = null;
    statics = {};
    installMembers(statics, interfaces, (_self, iface) => {
      // registerActivationFactory may have replaced the factory since: query the current one.
      const current = activationFactory(className);
      if (current !== factory) {
        for (const pointer of pointers.values()) pointer.dispose();
        pointers.clear();
        factory = current;
      }
      let pointer = pointers.get(iface);
      if (!pointer) pointers.set(iface, (pointer = current.as(iface)));
      return pointer;
    });
    return statics;
  };
}

