// winbgtest (test/support/native/winbgtest.c, built by scripts/native.mjs into
// .cache/native/<platform>-<arch>/): native threads that call COM objects as native code does,
// and a native COM object for baselines. Test tooling, loaded with koffi like any C library.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const target = `${process.platform}-${process.arch}`;
export const winbgtestPath = join(root, '.cache', 'native', target, process.platform === 'win32' ? 'winbgtest.dll' : 'winbgtest.so');

/** Slots of the results array wt_hammer_start fills (see winbgtest.c). */
export const RESULT = { finished: 0, rounds: 1, errors: 2, firstError: 3, maxAddRef: 4, started: 5, firstErrorValue: 6, elapsedNs: 7 } as const;

export interface Winbgtest {
  /** Starts `threads` native threads hammering `object` (AddRef, QI known/IUnknown/unknown/NULL, Release); returns at once. */
  hammerStart(object: bigint, knownIid: bigint, threads: number, iterations: number, results: bigint): number;
  hammerJoin(): void;
  errorName(code: number): string;
  nativeObjectCreate(): bigint;
  nativeObjectCount(): bigint | number;
  /** n AddRef+Release pairs through the vtable in C; elapsed nanoseconds. */
  addRefReleasePairs(object: bigint, n: number): number;
}

let loaded: Winbgtest | null | undefined;

/** The library, or null when it is not built (`why` says what to do). */
export function winbgtest(): Winbgtest | null {
  if (loaded !== undefined) return loaded;
  if (!existsSync(winbgtestPath)) return (loaded = null);
  const lib = koffi.load(winbgtestPath);
  loaded = {
    hammerStart: lib.func('int wt_hammer_start(void *object, const void *known_iid, int threads, int iterations, void *results)'),
    hammerJoin: lib.func('void wt_hammer_join(void)'),
    errorName: lib.func('const char *wt_error_name(int code)'),
    nativeObjectCreate: lib.func('void *wt_native_object_create(void)'),
    nativeObjectCount: lib.func('int64_t wt_native_object_count(void)'),
    addRefReleasePairs: lib.func('double wt_addref_release_pairs(void *object, int64_t n)'),
  } as Winbgtest;
  return loaded;
}

export const winbgtestMissing = `${winbgtestPath} is not built (node scripts/native.mjs build; npm test builds it)`;
