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
  /** The C function for one kind of slot of a values object (see {@link valuesObject}). */
  valuesFunction(name: string): bigint | null;
  valuesCreate(vtable: bigint, string: bigint | null, object: bigint | null, reenter: unknown): bigint;
  valuesTakeString(object: bigint): bigint | null;
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
    valuesFunction: lib.func('void *wt_values_function(const char *name)'),
    valuesCreate: lib.func('void *wt_values_create(void *vtable, void *string, void *object, void *reenter)'),
    valuesTakeString: lib.func('void *wt_values_take_string(void *object)'),
  } as Winbgtest;
  return loaded;
}

export const winbgtestMissing = `${winbgtestPath} is not built (node scripts/native.mjs build; npm test builds it)`;

const releaseProto = koffi.proto('__stdcall', null, 'uint32_t', ['void *']);

/** The callback a values object's "reenter" slot calls: `int32_t (void *self, int32_t depth)`. */
export const reenterCallback = koffi.proto('int32_t wt_reenter_callback(void *self, int32_t depth)');

/**
 * A native COM object (winbgtest's values object) whose vtable has, at each slot, the C function
 * named there: 'int32', 'guid', 'string'… (wt_values_function lists them). Slots 0-5 are IUnknown
 * and IInspectable's. Its HSTRING is `text` (created here, deleted by dispose()); its GetObject
 * returns `object`. The vtable is never freed (winbg caches decoded slots by vtable address).
 */
export function valuesObject(lib: Winbgtest, slots: readonly string[], options: { text?: string; object?: bigint | null; reenter?: unknown; createString?: (text: string) => bigint | null; deleteString?: (handle: bigint | null) => void } = {}): { self: bigint; dispose(): void } {
  const names = ['query', 'addref', 'release', 'iids', 'class_name', 'trust', ...slots];
  const vtable = koffi.address(koffi.alloc('uint8_t', names.length * 8)) as bigint;
  names.forEach((name, i) => {
    const fn = lib.valuesFunction(name);
    if (fn === null) throw new Error(`winbgtest has no values function ${JSON.stringify(name)} (rebuild it: node scripts/native.mjs build)`);
    koffi.encode(vtable, i * 8, 'void *', fn);
  });
  const string = options.text !== undefined && options.createString ? options.createString(options.text) : null;
  const self = lib.valuesCreate(vtable, string, options.object ?? null, options.reenter ?? null);
  return {
    self,
    dispose(): void {
      const held = lib.valuesTakeString(self);
      options.deleteString?.(held);
      koffi.call(koffi.decode(vtable, 2 * 8, 'void *'), releaseProto, self);
    },
  };
}
