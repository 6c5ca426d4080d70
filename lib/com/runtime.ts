// The COM library calls of a process (objbase.h): apartment, class objects, activation. On
// Windows (natively or under Wine) they are ole32's. Elsewhere the portable host needs the same
// calls in-process: class objects go into a table of this process, activation calls their
// IClassFactory through its vtable, and there is no apartment to join.
import { isWindows, type Pointer } from '../ffi/koffi.js';
import { windows } from '../ffi/windows.js';
import { classFactoryPointer, IClassFactory, type ClassDefinition, type ClassFactoryMethods } from './class-factory.js';
import { Guid } from './guid.js';
import { CO_E_OBJISREG, ComError, REGDB_E_CLASSNOTREG, RPC_E_CHANGED_MODE } from './hresult.js';
import type { ComInterface } from './interface.js';
import { ComPtr, type Com } from './pointer.js';
import { settleStubs } from './object.js';

export const CLSCTX_INPROC_SERVER = 0x1;
export const CLSCTX_LOCAL_SERVER = 0x4;
export const CLSCTX_ALL = 0x17;
export const REGCLS_SINGLEUSE = 0;
export const REGCLS_MULTIPLEUSE = 1;
export const REGCLS_MULTI_SEPARATE = 2;
export const REGCLS_SUSPENDED = 4;
const COINIT_MULTITHREADED = 0x0;
const COINIT_APARTMENTTHREADED = 0x2;

/** Class objects registered in this process when there is no COM library (off Windows). */
const portableClasses = new Map<string, { factory: Com<ClassFactoryMethods>; suspended: boolean }>();

/**
 * Joins the calling thread to an apartment: the MTA by default, where COM calls JS objects
 * from its RPC threads and koffi queues those calls to the JS thread. Returns true for the first
 * initialization of the thread, false when it already was in that apartment.
 */
export function initializeCom(apartment: 'mta' | 'sta' = 'mta'): boolean {
  if (!isWindows) return false; // no apartments without COM: calls come on the JS thread
  const hr = windows().CoInitializeEx(null, apartment === 'mta' ? COINIT_MULTITHREADED : COINIT_APARTMENTTHREADED) as number;
  if (hr === RPC_E_CHANGED_MODE) {
    throw new ComError(hr, `this thread is already in the ${apartment === 'mta' ? 'single-threaded' : 'multithreaded'} apartment; initialize COM before anything else does`);
  }
  ComError.check(hr, 'CoInitializeEx');
  return hr === 0;
}

export interface ClassRegistration extends Disposable {
  readonly clsid: Guid;
  readonly cookie: number;
  /** CoRevokeClassObject; a second call does nothing. */
  revoke(): void;
}

export interface RegisterOptions {
  /** CLSCTX_LOCAL_SERVER (default) for an out-of-process server, CLSCTX_INPROC_SERVER for this process only. */
  readonly context?: number;
  /** REGCLS_MULTIPLEUSE (default); add REGCLS_SUSPENDED to publish several with resumeClassObjects(). */
  readonly flags?: number;
}

/**
 * Publishes a JS class to COM (CoRegisterClassObject) so that CoCreateInstance of `clsid`, from
 * this process or another, creates objects through a JS IClassFactory.
 */
export function registerClassObject(clsid: Guid | string, definition: ClassDefinition, options: RegisterOptions = {}): ClassRegistration {
  const id = Guid.from(clsid);
  const factory = ComPtr.attach(classFactoryPointer(definition), IClassFactory);
  const flags = options.flags ?? REGCLS_MULTIPLEUSE;
  let revoked = false;
  if (!isWindows) {
    if (portableClasses.has(id.key)) {
      factory.dispose();
      throw new ComError(CO_E_OBJISREG, `{${id}} is already registered in this process`);
    }
    portableClasses.set(id.key, { factory, suspended: (flags & REGCLS_SUSPENDED) !== 0 });
    const revoke = (): void => {
      if (revoked) return;
      revoked = true;
      portableClasses.delete(id.key);
      factory.dispose();
    };
    return { clsid: id, cookie: 0, revoke, [Symbol.dispose]: revoke };
  }
  const cookie: [number] = [0];
  try {
    ComError.check(
      windows().CoRegisterClassObject(id.bytes, factory.pointer, options.context ?? CLSCTX_LOCAL_SERVER, flags, cookie),
      `CoRegisterClassObject({${id}})`,
    );
  } catch (error) {
    factory.dispose();
    throw error;
  }
  const revoke = (): void => {
    if (revoked) return;
    revoked = true;
    try {
      ComError.check(windows().CoRevokeClassObject(cookie[0]), `CoRevokeClassObject({${id}})`);
    } finally {
      factory.dispose(); // COM released its own reference in CoRevokeClassObject
    }
  };
  return { clsid: id, cookie: cookie[0], revoke, [Symbol.dispose]: revoke };
}

/** Lets COM hand out class objects registered with REGCLS_SUSPENDED (CoResumeClassObjects). */
export function resumeClassObjects(): void {
  if (!isWindows) {
    for (const entry of portableClasses.values()) entry.suspended = false;
    return;
  }
  ComError.check(windows().CoResumeClassObjects(), 'CoResumeClassObjects');
}

/** Off Windows: a new object of a class registered in this process, through its IClassFactory. */
function createPortable<M extends object>(id: Guid, iface: ComInterface<M>): Com<M> {
  const entry = portableClasses.get(id.key);
  if (!entry || entry.suspended) {
    throw new ComError(REGDB_E_CLASSNOTREG, `{${id}} has no class object registered in this process${entry ? ' (it is suspended until resumeClassObjects)' : ''}`);
  }
  settleStubs();
  const raw = entry.factory.CreateInstance(null, iface.iid);
  return ComPtr.attach(raw, iface);
}

/**
 * CoCreateInstance on a koffi worker thread, so that this JS thread stays free to serve the
 * calls that activation may make back into JS objects (a class served by this very process).
 */
export function createInstance<M extends object>(clsid: Guid | string, iface: ComInterface<M>, context: number = CLSCTX_LOCAL_SERVER): Promise<Com<M>> {
  const id = Guid.from(clsid);
  if (!isWindows) {
    try {
      return Promise.resolve(createPortable(id, iface));
    } catch (error) {
      return Promise.reject(error);
    }
  }
  const out: [Pointer | null] = [null];
  return new Promise((resolve, reject) => {
    windows().CoCreateInstance.async(id.bytes, null, context, iface.iid.bytes, out, (error: unknown, hr: number) => {
      if (error) return reject(error);
      if (hr < 0) return reject(new ComError(hr, `CoCreateInstance({${id}}, ${iface.name})`));
      resolve(ComPtr.attach(out[0]!, iface));
    });
  });
}

/** CoCreateInstance on this thread: only for classes that do not call back into this JS thread. */
export function createInstanceSync<M extends object>(clsid: Guid | string, iface: ComInterface<M>, context: number = CLSCTX_LOCAL_SERVER): Com<M> {
  const id = Guid.from(clsid);
  if (!isWindows) return createPortable(id, iface);
  settleStubs();
  const out: [Pointer | null] = [null];
  ComError.check(windows().CoCreateInstance(id.bytes, null, context, iface.iid.bytes, out), `CoCreateInstance({${id}}, ${iface.name})`);
  return ComPtr.attach(out[0]!, iface);
}
