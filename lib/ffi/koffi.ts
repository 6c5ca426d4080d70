// The one place that imports koffi: everything else in winbg reaches native code through lib/ffi/.
import koffi from 'koffi';

export { koffi };
export type { TypeObject as NativeType } from 'koffi';

/** True when running on Windows (natively or under Wine), where ole32/combase are real. */
export const isWindows: boolean = process.platform === 'win32';

/** A native address as koffi represents it. `0n` is never used: null pointers are `null`. */
export type Pointer = bigint;

/**
 * Registered callbacks in use process-wide. koffi allows 8192 at once; winbg's vtables use a
 * fixed number of them, independent of how many COM objects exist.
 */
export function registeredCallbacks(): number {
  return koffi.stats().callbacks;
}
