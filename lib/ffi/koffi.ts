// The one place that imports koffi: everything else in winbg reaches native code through lib/ffi/.
import { createRequire } from 'node:module';
import type koffiModule from 'koffi';

// koffi's CommonJS entry (its package.json "exports" → "require"). Its ES module entry loads the
// same native addon, through require() too, but first runs `import util from 'node:util'` and
// `import fs from 'node:fs'`, and an ES module import of a built-in makes Node evaluate every lazy
// export of it (fs.promises, streams, readline, perf_hooks…): about a third of koffi's load time.
// Node, Bun and Deno all provide createRequire (node:module); both entries share one addon, so
// pointers and types made through either work with the other.
const koffi: typeof koffiModule = createRequire(import.meta.url)('koffi');

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
