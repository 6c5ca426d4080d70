// Benchmarks of the COM runtime's hot paths, each against a baseline measured in the same run:
//
//   outgoing call   ComPtr method vs a raw koffi call of the same vtable slot with preallocated
//                   typed-array out-memory (the floor) and with koffi's _Out_ boxes (what winbg
//                   did before): once with a JS callee (a winbg object: every side also pays
//                   koffi's callback), and with a native callee (winbgtest's values object, C)
//                   for every kind of out-parameter, an HSTRING in-parameter, and the generated
//                   projection's calls on it.
//   incoming call   native -> JS through the object's vtable slot vs a raw koffi callback of the
//                   same prototype doing the same JS work.
//   IUnknown        AddRef + Release pairs from C (winbgtest) on a JS object vs on a native C object.
//   object churn    createObject(...).dispose() per second vs koffi.alloc + koffi.free of the block.
//   budget          registered callbacks before/with 100 000 live objects (must be equal), and
//                   native memory once they are released (must be back where it was).
//   portable host   trigger → the task's run entered vs activating the class and calling Run
//                   without the host; cancel → the task's deferral completed (p50, p99).
//   prime sample    primes below 10^8 written to numbersQueue.log vs Debian's primesieve
//                   (`primesieve 1e8 -p -t1 > file`, package primesieve-bin) when installed, and vs
//                   the sieve alone (counting, no file); the seed's trial division to 10^5 (the
//                   "before") vs the sample on the same range; cancel → deferral complete while
//                   the sample sieves under the host (p50, p99).
//   start-up        spawned to class objects registered (issue 14's measure), and process start to
//                   exit, serving one task (.build and the published bundle), vs a plain Node
//                   process start to exit and vs Node loading koffi (the floor).
//   memory          peak resident set and JS heap of a served idle task and of the prime task at
//                   full speed under the host vs a plain Node process.
//
// Machines are noisy (CI runners, 2 cores): each pair runs in ROUNDS rounds, the two sides
// interleaved and their order swapped every round, and the medians are reported. `ratio` is always
// cost over the baseline's cost (time per operation), so 1.00 means "no overhead" and lower is
// better, also for the rates.
//
//   node scripts/bench.mjs [--json] [--rounds N]     (npm run -s bench -- --json: -s keeps
//                                                     npm's banner out of the JSON)
//     --json     one JSON object per line: {"name", "value", "unit"[, "ratio"]}
//     --rounds   rounds per pair (default 15)
//     --only S   only the measurements whose function name contains S (e.g. --only outgoing;
//                several, comma-separated: --only budget,projectedCall)
//     --wine     also the broker's figures under Wine (scripts/bench-broker.mjs, by Wine's node.exe;
//                needs node scripts/wine.mjs prepare and proxy): activation cold and warm, cancel
//                across processes, each against a baseline of the same run
//
// Exits with 1 when an invariant of the budget fails. Plain ESM: it runs the library as tsc
// compiles it into .build/, recompiling first when lib/ is newer than that.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import koffi from 'koffi';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: flags } = parseArgs({
  options: { json: { type: 'boolean', default: false }, rounds: { type: 'string', default: '15' }, wine: { type: 'boolean', default: false }, only: { type: 'string' } },
  strict: true,
});
const ROUNDS = Number(flags.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error(`--rounds must be a positive integer; got "${flags.rounds}"`);
  process.exit(2);
}
/** Time one side of a pair runs per round: 4 pairs * 2 sides * 15 rounds * 120 ms = 15 s. */
const BATCH_MS = 120;
const OBJECTS = 100_000;

// Progress goes to stderr so that --json output stays machine-readable.
const log = (line) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// The library, compiled.

/** .ts files under lib/ whose .js in .build/lib/ is missing or older. */
function staleSources() {
  const stale = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const source = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(source);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const output = path.join(projectRoot, '.build', path.relative(projectRoot, source)).replace(/\.ts$/, '.js');
        if (!fs.existsSync(output) || fs.statSync(output).mtimeMs < fs.statSync(source).mtimeMs) stale.push(source);
      }
    }
  };
  walk(path.join(projectRoot, 'lib'));
  return stale;
}

function ensureCompiled() {
  const stale = staleSources();
  if (stale.length === 0) return;
  log(`Compiling with tsc -p tsconfig.json (${stale.length} file(s) of lib/ changed) ...`);
  const tsc = path.join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: projectRoot, encoding: 'utf8' });
  // tsc emits even when it reports errors, and the errors may be in test/, which the benchmark
  // does not load: go on when lib/ came out, and show the errors either way.
  if (result.status !== 0) log(`${result.stdout}${result.stderr}`.trimEnd());
  if (staleSources().length > 0) {
    log('tsc did not produce .build/lib/; nothing measured.');
    process.exit(1);
  }
}

ensureCompiled();
const winbg = await import(pathToFileURL(path.join(projectRoot, '.build', 'lib', 'com', 'index.js')).href);
const { ComPtr, IUnknown, createObject, defineInterface, defineStruct } = winbg;
const { liveComObjects, nativeMemoryInUse, registeredCallbacks } = await import(pathToFileURL(path.join(projectRoot, '.build', 'lib', 'diagnostics', 'index.js')).href);

// ---------------------------------------------------------------------------------------------
// What is called.

const IAdder = defineInterface({
  name: 'IBenchAdder',
  iid: '5d1f0c4e-8a7b-4c2d-9e3f-1a2b3c4d5e6f', // made for this benchmark
  base: IUnknown,
  methods: { Add: 'HRESULT (int32_t a, int32_t b, _Out_ int32_t *sum)' },
});
const ADD_SLOT = 3; // after IUnknown's three

class Adder {
  Add(a, b) {
    return a + b;
  }
}

/** The prototypes a C caller and a C callee of Add would use (`this` first, __stdcall). */
const callProto = koffi.proto('__stdcall', null, 'int32_t', ['void *', 'int32_t', 'int32_t', koffi.out(koffi.pointer('int32_t'))]);
const rawProto = koffi.proto('__stdcall', null, 'int32_t', ['void *', 'int32_t', 'int32_t', 'void *']);

const slotAddress = (self, slot) => koffi.decode(koffi.decode(self, 'void *'), slot * 8, 'void *');

// ---------------------------------------------------------------------------------------------
// Timing.

// Both sides of a pair use each result the same way: added up here, as a caller would use it.
let sink = 0;

/** ns per iteration of `body(n)`, which runs n iterations itself (no closure call per iteration). */
function nsPerOp(body, n) {
  const start = process.hrtime.bigint();
  body(n);
  return Number(process.hrtime.bigint() - start) / n;
}

/** Iterations for a batch of about BATCH_MS; the doubling doubles as warm-up for the JIT. */
function calibrate(body) {
  for (let n = 64; ; n *= 2) {
    const ns = nsPerOp(body, n) * n;
    if (ns >= 25e6) return Math.max(64, Math.round((n * BATCH_MS * 1e6) / ns));
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Several ways of doing the same work, each timed in every round, their order rotated: medians
 * of each side's ns/op, and of each side's per-round ratio to the first side (the baseline).
 */
function compareSides(sides) {
  const names = Object.keys(sides);
  const counts = names.map((name) => calibrate(sides[name]));
  const times = names.map(() => []);
  const ratios = names.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    const measured = new Array(names.length);
    for (let k = 0; k < names.length; k++) {
      const i = (k + round) % names.length;
      measured[i] = nsPerOp(sides[names[i]], counts[i]);
    }
    measured.forEach((ns, i) => {
      times[i].push(ns);
      ratios[i].push(ns / measured[0]);
    });
  }
  return Object.fromEntries(names.map((name, i) => [name, { ns: median(times[i]), ratio: median(ratios[i]) }]));
}

/** Medians of both sides' ns/op, and the median of the per-round ratios (robust to drift). */
function compare(candidate, baseline) {
  const r = compareSides({ baseline, candidate });
  return { candidate: r.candidate.ns, baseline: r.baseline.ns, ratio: r.candidate.ratio };
}

// ---------------------------------------------------------------------------------------------
// Measurements.

const rows = [];
/** A measurement; `baseline` is a short name of the row that `ratio` compares it with. */
const row = (name, value, unit, ratio, baseline) => rows.push({ name, value, unit, ratio, baseline });
let failed = false;

/** Rows of one outgoing-call comparison: the floor, koffi's _Out_ boxes (the old way), winbg. */
function callRows(label, r) {
  row(`${label}: raw koffi, typed-array out-memory (the floor)`, r.floor.ns, 'ns/call');
  if (r.boxes) row(`${label}: raw koffi, _Out_ [value] boxes (winbg before)`, r.boxes.ns, 'ns/call', r.boxes.ratio, 'the floor');
  row(`${label}: ${r.projection ? 'generated projection' : 'ComPtr method'}`, (r.projection ?? r.winbg).ns, 'ns/call', (r.projection ?? r.winbg).ratio, 'the floor');
}

/** `calc.Add` on a JS object through the ComPtr, against the same slot called raw (both pay koffi's callback). */
function outgoingJs() {
  log('outgoing call, JS callee ...');
  const calc = createObject(new Adder(), [IAdder]);
  const self = calc.pointer;
  const floor = koffi.decode(slotAddress(self, ADD_SLOT), rawProto);
  const boxed = koffi.decode(slotAddress(self, ADD_SLOT), callProto);
  const sum = new Int32Array(new ArrayBuffer(8));
  const r = compareSides({
    floor: (n) => {
      for (let i = 0; i < n; i++) {
        if (floor(self, i & 0xffff, 1, sum) < 0) throw new Error('Add failed');
        sink += sum[0];
      }
    },
    boxes: (n) => {
      for (let i = 0; i < n; i++) {
        const box = [0];
        if (boxed(self, i & 0xffff, 1, box) < 0) throw new Error('Add failed');
        sink += box[0];
      }
    },
    winbg: (n) => {
      for (let i = 0; i < n; i++) sink += calc.Add(i & 0xffff, 1);
    },
  });
  calc.dispose();
  callRows('outgoing call, JS callee, Add(int32, int32, _Out_ int32)', r);
}

/** A struct of four floats, as Windows.Foundation.Rect. */
const BenchRect = defineStruct('winbg.bench.Rect', { X: 'float', Y: 'float', Width: 'float', Height: 'float' });
const VALUE_SLOTS = ['int32', 'add', 'guid', 'rect', 'string', 'object', 'array', 'set_string'];
const IValues = defineInterface({
  name: 'IBenchValues',
  iid: '5d1f0c4e-8a7b-4c2d-9e3f-1a2b3c4d5e71', // made for this benchmark
  base: winbg.IInspectable,
  types: { Rect: BenchRect },
  methods: {
    GetInt32: 'HRESULT (_Out_ int32_t *value)',
    Add: 'HRESULT (int32_t a, int32_t b, _Out_ int32_t *sum)',
    GetGuid: 'HRESULT (_Out_ GUID *value)',
    GetRect: 'HRESULT (_Out_ Rect *value)',
    GetString: 'HRESULT (_Out_ HSTRING *value)',
    GetObject: 'HRESULT (_Out_ IUnknown **value)',
    GetArray: 'HRESULT (_Out_ int32_t[] *value)',
    SetString: 'HRESULT (HSTRING value)',
  },
});

/** winbgtest (test/support/native/winbgtest.c), built if a C compiler is here; null otherwise. */
async function nativeValues() {
  const { ensureNativeTestLib } = await import('./native.mjs');
  const built = ensureNativeTestLib({ log });
  if (!built.ok) {
    log(`outgoing calls, native callee: winbgtest not available (${built.reason}); skipped`);
    return null;
  }
  const { winbgtest, valuesObject } = await import(pathToFileURL(path.join(projectRoot, '.build', 'test', 'support', 'winbgtest.js')).href);
  return { lib: winbgtest(), valuesObject };
}

const pointerOut = () => new BigUint64Array(new ArrayBuffer(8));

/** A values object's HRESULT, checked as every side of a comparison checks it. */
const check = (hr) => {
  if (hr < 0) throw new Error(`the values object failed: 0x${(hr >>> 0).toString(16)}`);
};

/**
 * Outgoing calls to a native callee (winbgtest's values object: C functions that write one kind
 * of out-parameter each), for every kind of out-parameter: winbg's ComPtr method against the
 * same slot called through koffi with preallocated typed-array out-memory (the floor: what a
 * hand-written koffi binding at its best does), and against koffi's `_Out_` boxes, what winbg
 * used before. Where the result needs work to be a JS value (a GUID object, an HSTRING's text
 * and its deletion, an interface's Release, a CoTaskMem array's elements and its freeing), the
 * floor does that work too, with the same primitives, so that the ratio is the call's overhead.
 */
async function outgoingNative() {
  const native = await nativeValues();
  if (native === null) return;
  log('outgoing calls, native callee ...');
  const { Guid, createHString, deleteHString, takeHString } = winbg;
  const { lib, valuesObject } = native;
  const returned = valuesObject(lib, VALUE_SLOTS, {});
  const object = valuesObject(lib, VALUE_SLOTS, { text: 'Windows.ApplicationModel.Background', object: returned.self, createString: createHString, deleteString: deleteHString });
  const self = object.self;
  const values = ComPtr.copyFrom(self, IValues);
  const slot = (name) => 6 + VALUE_SLOTS.indexOf(name);
  const fn = (name, params) => koffi.decode(slotAddress(self, slot(name)), koffi.proto('__stdcall', null, 'int32_t', ['void *', ...params]));
  const out = (type) => koffi.out(koffi.pointer(type));
  const release = koffi.decode(slotAddress(returned.self, 2), koffi.proto('__stdcall', null, 'uint32_t', ['void *']));
  const text = 'Windows.ApplicationModel.Background';
  const measure = (label, sides) => callRows(`outgoing call, native callee, ${label}`, compareSides(sides));
  // Every loop is written out, with no spread or closure per call, so that the floor is koffi's best.
  {
    const floor = fn('int32', ['void *']);
    const boxed = fn('int32', [out('int32_t')]);
    const value = new Int32Array(new ArrayBuffer(8));
    measure('_Out_ int32', {
      floor: (n) => { for (let i = 0; i < n; i++) { check(floor(self, value)); sink += value[0]; } },
      boxes: (n) => { for (let i = 0; i < n; i++) { const box = [0]; check(boxed(self, box)); sink += box[0]; } },
      winbg: (n) => { for (let i = 0; i < n; i++) sink += values.GetInt32(); },
    });
  }
  {
    const floor = fn('add', ['int32_t', 'int32_t', 'void *']);
    const boxed = fn('add', ['int32_t', 'int32_t', out('int32_t')]);
    const sum = new Int32Array(new ArrayBuffer(8));
    measure('Add(int32, int32, _Out_ int32)', {
      floor: (n) => { for (let i = 0; i < n; i++) { check(floor(self, i & 0xffff, 1, sum)); sink += sum[0]; } },
      boxes: (n) => { for (let i = 0; i < n; i++) { const box = [0]; check(boxed(self, i & 0xffff, 1, box)); sink += box[0]; } },
      winbg: (n) => { for (let i = 0; i < n; i++) sink += values.Add(i & 0xffff, 1); },
    });
  }
  {
    // The result is a Guid object on every side (Guid.fromBytes copies the 16 bytes). For a GUID
    // winbg before passed a fresh Uint8Array(16), not a koffi _Out_ box: its "boxes" side does so.
    const floor = fn('guid', ['void *']);
    const bytes = new Uint8Array(new ArrayBuffer(16));
    measure('_Out_ GUID', {
      floor: (n) => { for (let i = 0; i < n; i++) { check(floor(self, bytes)); sink += Guid.fromBytes(bytes).bytes[0]; } },
      boxes: (n) => { for (let i = 0; i < n; i++) { const box = new Uint8Array(16); check(floor(self, box)); sink += Guid.fromBytes(box).bytes[0]; } },
      winbg: (n) => { for (let i = 0; i < n; i++) sink += values.GetGuid().bytes[0]; },
    });
  }
  {
    // The result is a { X, Y, Width, Height } object on every side.
    const floor = fn('rect', ['void *']);
    const boxed = fn('rect', [out(BenchRect.native)]);
    const floats = new Float32Array(new ArrayBuffer(16));
    measure('_Out_ struct (4 floats)', {
      floor: (n) => { for (let i = 0; i < n; i++) { check(floor(self, floats)); sink += { X: floats[0], Y: floats[1], Width: floats[2], Height: floats[3] }.Width; } },
      boxes: (n) => { for (let i = 0; i < n; i++) { const box = [{}]; check(boxed(self, box)); sink += box[0].Width; } },
      winbg: (n) => { for (let i = 0; i < n; i++) sink += values.GetRect().Width; },
    });
  }
  {
    // The result is the string's text on every side, and the callee's handle deleted: with
    // winbg's takeHString (combase's WindowsGetStringRawBuffer and WindowsDeleteString on
    // Windows; the portable HSTRING elsewhere), so the ratio is the call's own overhead.
    const floor = fn('string', ['void *']);
    const boxed = fn('string', [out('void *')]);
    const handle = pointerOut();
    measure('_Out_ HSTRING', {
      floor: (n) => { for (let i = 0; i < n; i++) { check(floor(self, handle)); sink += takeHString(handle[0] || null).length; } },
      boxes: (n) => { for (let i = 0; i < n; i++) { const box = [null]; check(boxed(self, box)); sink += takeHString(box[0]).length; } },
      winbg: (n) => { for (let i = 0; i < n; i++) sink += values.GetString().length; },
    });
  }
  {
    // The caller's reference released on every side (winbg: ComPtr.attach, then dispose).
    const floor = fn('object', ['void *']);
    const boxed = fn('object', [out('void *')]);
    const object = pointerOut();
    measure('_Out_ interface (Release included)', {
      floor: (n) => { for (let i = 0; i < n; i++) { check(floor(self, object)); sink += release(object[0]); } },
      boxes: (n) => { for (let i = 0; i < n; i++) { const box = [null]; check(boxed(self, box)); sink += release(box[0]); } },
      winbg: (n) => { for (let i = 0; i < n; i++) values.GetObject().dispose(); },
    });
  }
  {
    // A ReceiveArray: the callee allocates (CoTaskMemAlloc; malloc off Windows), the caller reads and frees.
    const { taskMemFree } = await build('ffi/task-memory.js');
    const floor = fn('array', ['void *', 'void *']);
    const boxed = fn('array', [out('uint32_t'), out('void *')]);
    const buffer = new ArrayBuffer(16);
    const length = new Uint32Array(buffer, 0, 1);
    const pointer = new BigUint64Array(buffer, 8, 1);
    const elements = (count, at) => {
      const array = Array.from(koffi.decode(at, 'int32_t', count));
      taskMemFree(at);
      return array;
    };
    const r = compareSides({
      floor: (n) => {
        for (let i = 0; i < n; i++) {
          check(floor(self, length, pointer));
          sink += elements(length[0], pointer[0]).length;
        }
      },
      boxes: (n) => {
        for (let i = 0; i < n; i++) {
          const count = [0], at = [null];
          check(boxed(self, count, at));
          sink += elements(count[0], at[0]).length;
        }
      },
      winbg: (n) => {
        for (let i = 0; i < n; i++) sink += values.GetArray().length;
      },
    });
    callRows('outgoing call, native callee, _Out_ int32[] (ReceiveArray)', r);
  }
  {
    // An HSTRING in-parameter: created from the JS string for the call, deleted after it.
    const floor = fn('set_string', ['void *']);
    const r = compareSides({
      floor: (n) => {
        for (let i = 0; i < n; i++) {
          const handle = createHString(text);
          check(floor(self, handle));
          deleteHString(handle);
        }
      },
      winbg: (n) => {
        for (let i = 0; i < n; i++) values.SetString(text);
      },
    });
    callRows('outgoing call, native callee, HSTRING in', r);
  }
  values.dispose();
  object.dispose();
  returned.dispose();
}

function incoming() {
  log('incoming call ...');
  const calc = createObject(new Adder(), [IAdder]);
  const self = calc.pointer;
  const out = koffi.address(koffi.alloc('uint8_t', 4));
  // Both sides are decoded once, as a C caller resolves a vtable slot once per call site; a
  // koffi.call per call (test/support/native.ts) adds the same cost to both and hides the gap.
  const viaVtable = koffi.decode(slotAddress(self, ADD_SLOT), rawProto);
  // The same JS work as the JS object's Add, minus winbg: the sum into *sum, S_OK.
  const callback = koffi.register((_self, a, b, sum) => {
    koffi.encode(sum, 'int32_t', a + b);
    return 0;
  }, koffi.pointer(rawProto));
  const viaCallback = koffi.decode(callback, rawProto);
  const body = (fn) => (n) => {
    for (let i = 0; i < n; i++) {
      if (fn(self, i & 0xffff, 1, out) !== 0) throw new Error('Add failed');
      sink += koffi.decode(out, 'int32_t');
    }
  };
  const r = compare(body(viaVtable), body(viaCallback));
  koffi.unregister(callback);
  koffi.free(out);
  calc.dispose();
  row('incoming call: raw koffi callback', r.baseline, 'ns/call');
  row('incoming call: JS object through its vtable', r.candidate, 'ns/call', r.ratio, 'raw callback');
}

/**
 * AddRef + Release on a JS object's vtable (winbg's native IUnknown) against the same on a native
 * C object (winbgtest's: InterlockedIncrement/Decrement, the floor of a free-threaded count),
 * both in a tight C loop of winbgtest, so that no FFI cost is in either.
 */
async function unknownPairs() {
  const { ensureNativeTestLib } = await import('./native.mjs');
  const built = ensureNativeTestLib({ log });
  if (!built.ok) {
    log(`AddRef + Release pairs: winbgtest not available (${built.reason}); skipped`);
    return;
  }
  log('AddRef + Release pairs, native caller ...');
  const lib = koffi.load(built.path);
  const pairs = lib.func('double wt_addref_release_pairs(void *object, int64_t n)');
  const nativeObject = lib.func('void *wt_native_object_create(void)')();
  const calc = createObject(new Adder(), [IAdder]);
  const r = compare((n) => void (sink += pairs(calc.pointer, n)), (n) => void (sink += pairs(nativeObject, n)));
  calc.dispose();
  koffi.call(slotAddress(nativeObject, 2), koffi.proto('__stdcall', null, 'uint32_t', ['void *']), nativeObject);
  row('AddRef + Release from C: a native C object (InterlockedIncrement/Decrement)', r.baseline, 'ns/pair');
  row('AddRef + Release from C: a JS object (winbg\'s native IUnknown)', r.candidate, 'ns/pair', r.ratio, 'a native object');
}

function churn() {
  log('objects created and released ...');
  const r = compare(
    (n) => {
      for (let i = 0; i < n; i++) createObject(new Adder(), [IAdder]).dispose();
    },
    (n) => {
      // The block a one-interface object allocates: its header and one { vtable, header } pair.
      for (let i = 0; i < n; i++) koffi.free(koffi.alloc('uint8_t', 56));
    },
  );
  row('object churn: koffi.alloc + koffi.free of the block', 1e9 / r.baseline, 'ops/s');
  row('object churn: createObject().dispose()', 1e9 / r.candidate, 'objects/s', r.ratio, 'alloc + free');
}

function budget() {
  log(`${OBJECTS} live objects ...`);
  // Everything above has run, so the vtable of IAdder exists and its callbacks are registered.
  const callbacksBefore = registeredCallbacks();
  const memoryBefore = nativeMemoryInUse();
  const objectsBefore = liveComObjects();
  const start = process.hrtime.bigint();
  const objects = [];
  for (let i = 0; i < OBJECTS; i++) objects.push(createObject(new Adder(), [IAdder]));
  const created = Number(process.hrtime.bigint() - start) / 1e9;
  const callbacksWith = registeredCallbacks();
  const memoryWith = nativeMemoryInUse();
  for (const object of objects) object.dispose();
  const memoryAfter = nativeMemoryInUse();
  const leakedObjects = liveComObjects() - objectsBefore;

  row('budget: registered callbacks before the objects', callbacksBefore, 'callbacks');
  row(`budget: registered callbacks with ${OBJECTS} objects alive`, callbacksWith, 'callbacks');
  row(`budget: creating ${OBJECTS} objects, all held`, OBJECTS / created, 'objects/s');
  row(`budget: native memory of ${OBJECTS} objects`, memoryWith.bytes - memoryBefore.bytes, 'bytes');
  row('budget: nativeMemoryInUse() after releasing them', memoryAfter.bytes, 'bytes');
  row('budget: native blocks in use after releasing them', memoryAfter.blocks, 'blocks');
  // What the process had before (vtables) stays; anything beyond it is a leak.
  const leaked = memoryAfter.bytes - memoryBefore.bytes;
  row('budget: native memory leaked', leaked, 'bytes');

  if (callbacksWith !== callbacksBefore) {
    log(`FAIL: registered callbacks went from ${callbacksBefore} to ${callbacksWith} with ${OBJECTS} objects`);
    failed = true;
  }
  if (leaked !== 0 || memoryAfter.blocks !== memoryBefore.blocks || leakedObjects !== 0) {
    log(`FAIL: after releasing, ${leaked} bytes, ${memoryAfter.blocks - memoryBefore.blocks} blocks, ${leakedObjects} objects more than before`);
    failed = true;
  }
}

// ---------------------------------------------------------------------------------------------
// Metadata and the WinRT projection.

const build = (file) => import(pathToFileURL(path.join(projectRoot, '.build', 'lib', ...file.split('/'))).href);

/** Where the pinned .winmd inputs are (WINMD_DIR, or ../shared/winmd beside the project). */
function winmdDir() {
  for (const dir of [process.env.WINMD_DIR, path.join(projectRoot, '..', 'shared', 'winmd')]) {
    if (dir && fs.existsSync(path.join(dir, 'Windows.Foundation.winmd'))) return dir;
  }
  return null;
}

async function metadata() {
  const dir = winmdDir();
  if (!dir) {
    log('metadata: no .winmd inputs (WINMD_DIR or ../shared/winmd); skipped');
    return;
  }
  log('metadata: parse and walk every file ...');
  const { Metadata, walk } = await build('winmd/index.js');
  const { emitProjection } = await build('generator/index.js');
  const bytes = fs.readdirSync(dir).filter((f) => f.endsWith('.winmd')).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
  const parse = [];
  for (let round = 0; round < Math.max(3, Math.min(ROUNDS, 7)); round++) {
    const started = performance.now();
    walk(Metadata.load(dir));
    parse.push(performance.now() - started);
  }
  const parseMs = median(parse);
  row('metadata: load and walk all .winmd files', parseMs / 1000, 's');
  row('metadata: parse speed', bytes / 1e6 / (parseMs / 1000), 'MB/s');
  const roots = JSON.parse(fs.readFileSync(path.join(projectRoot, 'winmd', 'projection.json'), 'utf8')).roots;
  const generate = [];
  let types = 0;
  for (let round = 0; round < Math.max(3, Math.min(ROUNDS, 7)); round++) {
    const started = performance.now();
    types = emitProjection(Metadata.load(dir), roots).types;
    generate.push(performance.now() - started);
  }
  row(`generator: load + project the Background closure (${types} types)`, median(generate) / 1000, 's');
}

/**
 * Calls through the generated projection. With a JS callee (a StringMap served by this process:
 * every side pays koffi's callback): the Size property. With a native callee (winbgtest's values
 * object as a Windows.Foundation.IPropertyValue): a number, an enum property, a GUID, a struct, an
 * HSTRING and a ReceiveArray, and an interface (IIterable<Object>.First) disposed each time; each
 * against the same slot called through koffi with typed-array out-memory (the floor, doing the
 * same work to make the JS value, as in outgoingNative).
 */
async function projectedCall() {
  log('WinRT calls through the projection ...');
  await build('generated/index.js');
  const { project, registerActivationFactory, resolveType, runtimeClass } = await build('winrt/index.js');
  {
    const map = resolveType('Windows.Foundation.Collections.IMap`2<String, String>');
    const iterable = resolveType('Windows.Foundation.Collections.IIterable`1<Windows.Foundation.Collections.IKeyValuePair`2<String, String>>');
    const observable = resolveType('Windows.Foundation.Collections.IObservableMap`2<String, String>');
    const entries = new Map([['a', '1'], ['b', '2']]);
    const factory = registerActivationFactory('Windows.Foundation.Collections.StringMap', () => ({
      ActivateInstance: () => ({ interfaces: [map.iface, iterable.iface, observable.iface], get_Size: () => entries.size, HasKey: (k) => entries.has(k) }),
    }));
    const instance = runtimeClass('Windows.Foundation.Collections.StringMap').create();
    // One read through winbg first: the map's vtable was built inside a COM call (ActivateInstance),
    // and winbg registers its stubs again before its next synchronous call (object.ts, settleStubs);
    // a raw koffi call before that would reach koffi's limit on callbacks registered in callbacks.
    sink += instance.Size;
    const self = instance.comPtr(map.iface).pointer;
    const slot = map.iface.allMethods.find((m) => m.name === 'get_Size').slot;
    const floor = koffi.decode(slotAddress(self, slot), koffi.proto('__stdcall', null, 'int32_t', ['void *', 'void *']));
    const boxed = koffi.decode(slotAddress(self, slot), koffi.proto('__stdcall', null, 'int32_t', ['void *', koffi.out(koffi.pointer('uint32_t'))]));
    const size = new Uint32Array(new ArrayBuffer(8));
    const r = compareSides({
      floor: (n) => { for (let i = 0; i < n; i++) { if (floor(self, size) < 0) throw new Error('get_Size failed'); sink += size[0]; } },
      boxes: (n) => { for (let i = 0; i < n; i++) { const box = [0]; if (boxed(self, box) < 0) throw new Error('get_Size failed'); sink += box[0]; } },
      projection: (n) => { for (let i = 0; i < n; i++) sink += instance.Size; },
    });
    instance.dispose();
    factory[Symbol.dispose]();
    callRows('WinRT property read, JS callee (map.Size)', r);
  }
  const native = await nativeValues();
  if (native === null) return;
  const { lib, valuesObject } = native;
  const { Guid, createHString, deleteHString, takeHString } = winbg;
  const { taskMemFree } = await build('ffi/task-memory.js');
  const IPropertyValue = resolveType('Windows.Foundation.IPropertyValue');
  const kinds = { get_Type: 'int32', GetInt32: 'int32', GetString: 'string', GetGuid: 'guid', GetRect: 'rect', GetInt32Array: 'array' };
  const methods = IPropertyValue.iface.allMethods.filter((m) => m.slot >= 6);
  const slotNames = methods.map((m) => kinds[m.name] ?? 'int32');
  const text = 'Windows.ApplicationModel.Background';
  const object = valuesObject(lib, slotNames, { text, createString: createHString, deleteString: deleteHString });
  const self = object.self;
  const value = project(ComPtr.copyFrom(self, IPropertyValue.iface), IPropertyValue);
  const fn = (name) => koffi.decode(slotAddress(self, methods.find((m) => m.name === name).slot), koffi.proto('__stdcall', null, 'int32_t', ['void *', 'void *']));
  const measure = (label, sides) => callRows(`WinRT call, native callee, ${label}`, compareSides(sides));
  {
    const floor = fn('GetInt32');
    const v = new Int32Array(new ArrayBuffer(8));
    measure('IPropertyValue.GetInt32()', {
      floor: (n) => { for (let i = 0; i < n; i++) { check(floor(self, v)); sink += v[0]; } },
      projection: (n) => { for (let i = 0; i < n; i++) sink += value.GetInt32(); },
    });
  }
  {
    const floor = fn('get_Type');
    const v = new Int32Array(new ArrayBuffer(8));
    measure('IPropertyValue.Type (an enum property)', {
      floor: (n) => { for (let i = 0; i < n; i++) { check(floor(self, v)); sink += v[0]; } },
      projection: (n) => { for (let i = 0; i < n; i++) sink += value.Type; },
    });
  }
  {
    const floor = fn('GetGuid');
    const v = new Uint8Array(new ArrayBuffer(16));
    measure('IPropertyValue.GetGuid()', {
      floor: (n) => { for (let i = 0; i < n; i++) { check(floor(self, v)); sink += Guid.fromBytes(v).bytes[0]; } },
      projection: (n) => { for (let i = 0; i < n; i++) sink += value.GetGuid().bytes[0]; },
    });
  }
  {
    const floor = fn('GetRect');
    const v = new Float32Array(new ArrayBuffer(16));
    measure('IPropertyValue.GetRect() (a struct)', {
      floor: (n) => { for (let i = 0; i < n; i++) { check(floor(self, v)); sink += { X: v[0], Y: v[1], Width: v[2], Height: v[3] }.Width; } },
      projection: (n) => { for (let i = 0; i < n; i++) sink += value.GetRect().Width; },
    });
  }
  {
    const floor = fn('GetString');
    const v = pointerOut();
    measure('IPropertyValue.GetString()', {
      floor: (n) => { for (let i = 0; i < n; i++) { check(floor(self, v)); sink += takeHString(v[0] || null).length; } },
      projection: (n) => { for (let i = 0; i < n; i++) sink += value.GetString().length; },
    });
  }
  {
    const slot = methods.find((m) => m.name === 'GetInt32Array').slot;
    const floor = koffi.decode(slotAddress(self, slot), koffi.proto('__stdcall', null, 'int32_t', ['void *', 'void *', 'void *']));
    const buffer = new ArrayBuffer(16);
    const length = new Uint32Array(buffer, 0, 1);
    const pointer = new BigUint64Array(buffer, 8, 1);
    measure('IPropertyValue.GetInt32Array() (a ReceiveArray)', {
      floor: (n) => {
        for (let i = 0; i < n; i++) {
          check(floor(self, length, pointer));
          sink += Array.from(koffi.decode(pointer[0], 'int32_t', length[0])).length;
          taskMemFree(pointer[0]);
        }
      },
      projection: (n) => { for (let i = 0; i < n; i++) sink += value.GetInt32Array().length; },
    });
  }
  value.dispose();
  object.dispose();
  {
    // An interface out-parameter: IIterable<Object>.First() returns an IIterator<Object> (the
    // values object returns the same other object each time, AddRef'd), disposed each time.
    const iterableType = resolveType('Windows.Foundation.Collections.IIterable`1<Object>');
    const iteratorType = resolveType('Windows.Foundation.Collections.IIterator`1<Object>');
    const returned = valuesObject(lib, iteratorType.iface.allMethods.filter((m) => m.slot >= 6).map(() => 'int32'), {});
    const holder = valuesObject(lib, ['object'], { object: returned.self });
    const iterable = project(ComPtr.copyFrom(holder.self, iterableType.iface), iterableType);
    const floor = koffi.decode(slotAddress(holder.self, 6), koffi.proto('__stdcall', null, 'int32_t', ['void *', 'void *']));
    const release = koffi.decode(slotAddress(returned.self, 2), koffi.proto('__stdcall', null, 'uint32_t', ['void *']));
    const v = pointerOut();
    // One wrapper per COM object (as C#/WinRT keeps one RCW per object) takes the object's
    // identity, QueryInterface(IUnknown) and its Release, for every interface received: the
    // floor of that, raw, is the second baseline.
    const query = koffi.decode(slotAddress(returned.self, 0), koffi.proto('__stdcall', null, 'int32_t', ['void *', 'void *', 'void *']));
    const iidUnknown = winbg.IUnknown.iid.bytes;
    const identity = pointerOut();
    const r = compareSides({
      floor: (n) => { for (let i = 0; i < n; i++) { check(floor(holder.self, v)); sink += release(v[0]); } },
      identity: (n) => {
        for (let i = 0; i < n; i++) {
          check(floor(holder.self, v));
          check(query(v[0], iidUnknown, identity));
          sink += release(identity[0]) + release(v[0]);
        }
      },
      projection: (n) => { for (let i = 0; i < n; i++) iterable.First().dispose(); },
    });
    const label = 'WinRT call, native callee, IIterable<Object>.First() (an interface, disposed)';
    callRows(label, r);
    row(`${label}: raw koffi with the identity QueryInterface and Release (the floor of one wrapper per object)`, r.identity.ns, 'ns/call', r.identity.ratio, 'the floor');
    row(`${label}: generated projection, against the identity floor`, r.projection.ns, 'ns/call', r.projection.ns / r.identity.ns, 'the identity floor');
    iterable.dispose();
    holder.dispose();
    returned.dispose();
  }
}

/**
 * Process start → class objects registered: a Node process that serves a task (in-process
 * class table off Windows, CoRegisterClassObject on Windows), against one that only starts.
 */
/**
 * The published bundle, as users import it (package.json "exports" → dist/, built by tsup), built
 * afresh into .cache/bench-dist (the JavaScript only: declarations do not change what runs). Its
 * tasks entry, or null when tsup is not installed or fails.
 */
function publishedBundle() {
  const out = path.join(projectRoot, '.cache', 'bench-dist');
  const tsup = path.join(projectRoot, 'node_modules', 'tsup', 'dist', 'cli-default.js');
  if (!fs.existsSync(tsup)) return null;
  const result = spawnSync(process.execPath, [tsup, '--no-dts', '--out-dir', out], { cwd: projectRoot, encoding: 'utf8' });
  const entry = path.join(out, 'tasks', 'index.js');
  if (result.status !== 0 || !fs.existsSync(entry)) {
    log(`  tsup failed: no figures for the published bundle\n${result.stdout}${result.stderr}`);
    return null;
  }
  return entry;
}

/**
 * The files of the bundle that importing `entry` loads (its static imports, transitively) and
 * their size: Node 20's ES module loader costs about a millisecond a module on a small machine,
 * so their number matters as much as their size.
 */
function staticGraph(entry) {
  const seen = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = fs.readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^(?:import|export)\b[^;'"]*?(?:from\s*)?["'](\.{1,2}\/[^"']+)["']/gm)) walk(path.resolve(path.dirname(file), m[1]));
  };
  walk(entry);
  return { files: seen.size, bytes: [...seen].reduce((sum, file) => sum + fs.statSync(file).size, 0) };
}

/**
 * Process start to exit, serving one task: a child imports winbg/tasks, defines a task and serves
 * it in process until its class objects are registered, then stops. Issue 14's goal is 1.3x a
 * plain Node process. Baselines of the same rounds: a plain Node process (an ES module -e script,
 * as the servers are), and the floor no library over koffi can go below: Node loading koffi, as
 * winbg does (its CommonJS entry) and through its ES module entry. Both the compiled library
 * (.build) and the bundle users import (dist, by tsup) are measured.
 */
function serverStart() {
  log('server start ...');
  // The moment, as time since this process's start and as the epoch time the parent compares with
  // its own (performance.timeOrigin is the wall clock at each process's start, hrtime since).
  const now = "process.stdout.write(performance.now() + ' ' + (performance.timeOrigin + performance.now()));";
  const serving = (entry) => `
    const { defineBackgroundTask, serve } = await import(${JSON.stringify(pathToFileURL(entry).href)});
    const task = defineBackgroundTask({ clsid: '5e0a7c41-9b2f-4d3e-8a61-0c7b2e9f4aff', run() {} });
    const server = serve(task, { inProcess: true, handleSignals: false, onEvent: (e) => { if (e.type === 'registered') ${now} } });
    server.stop();`;
  const bundle = publishedBundle();
  // An ES module file that loads koffi: Node's loader of module files (fs/promises, readline and
  // the rest behind it) starts with the first file imported, which a plain -e script never does.
  const koffiFile = path.join(projectRoot, '.cache', 'bench-start', 'koffi.mjs');
  fs.mkdirSync(path.dirname(koffiFile), { recursive: true });
  fs.writeFileSync(koffiFile, `import { createRequire } from 'node:module';\ncreateRequire(${JSON.stringify(path.join(projectRoot, 'package.json'))})('koffi');\n`);
  const scripts = {
    plain: now,
    koffiFile: `await import(${JSON.stringify(pathToFileURL(koffiFile).href)}); ${now}`,
    koffi: `import { createRequire } from 'node:module'; createRequire(${JSON.stringify(path.join(projectRoot, 'package.json'))})('koffi'); ${now}`,
    koffiModule: `await import('koffi'); ${now}`,
    koffiAddon: `await import(${JSON.stringify(pathToFileURL(path.join(projectRoot, '.build', 'lib', 'ffi', 'koffi.js')).href)}); ${now}`,
    build: serving(path.join(projectRoot, '.build', 'lib', 'tasks', 'index.js')),
    ...(bundle ? { bundle: serving(bundle) } : {}),
  };
  const measure = (script) => {
    const started = performance.now();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: projectRoot });
    if (child.status !== 0) throw new Error(`server start failed: ${child.stderr}`);
    const [inside, at] = child.stdout.split(' ').map(Number);
    return { wall: performance.now() - started, inside, reached: at - (performance.timeOrigin + started) };
  };
  const runs = Object.fromEntries(Object.keys(scripts).map((name) => [name, []]));
  const names = Object.keys(scripts);
  for (let round = 0; round < Math.max(5, Math.min(ROUNDS, 11)); round++) {
    // Interleaved, and the order turned every round, so that drift spreads over every side.
    for (const name of round % 2 === 0 ? names : [...names].reverse()) runs[name].push(measure(scripts[name]));
  }
  const wall = (name) => median(runs[name].map((m) => m.wall));
  const inside = (name) => median(runs[name].map((m) => m.inside));
  const reached = (name) => median(runs[name].map((m) => m.reached));
  const plain = wall('plain');
  if (bundle) {
    const graph = staticGraph(bundle);
    row('server: modules of the published bundle that winbg/tasks loads', graph.files, 'files');
    row('server: their size', graph.bytes / 1024, 'KiB');
  }
  row('server: a plain Node process start to exit', plain, 'ms');
  row('server: Node loading koffi\'s CommonJS entry, start to exit: the floor', wall('koffi'), 'ms', wall('koffi') / plain, 'a plain Node process');
  row('server: Node importing winbg\'s koffi loader (lib/ffi/koffi.js: the addon directly), start to exit', wall('koffiAddon'), 'ms', wall('koffiAddon') / plain, 'a plain Node process');
  row('server: Node loading koffi\'s ES module entry, start to exit', wall('koffiModule'), 'ms', wall('koffiModule') / plain, 'a plain Node process');
  row('server: Node importing an ES module file that loads koffi, start to exit', wall('koffiFile'), 'ms', wall('koffiFile') / plain, 'a plain Node process');
  for (const [name, what] of [['build', '.build'], ['bundle', 'the published bundle']]) {
    if (!runs[name]) continue;
    // Issue 14's measure as it states it: spawned until the class objects are registered, against
    // `node -e` spawned until it exited (not the same kind of span: the other rows compare like
    // with like). Two processes' clocks (timeOrigin, see `now`): a wall-clock step during a run
    // would skew it, a median of the rounds keeps one such run out.
    row(`server: spawned to class objects registered (${what})`, reached(name), 'ms', reached(name) / plain, 'a plain Node process start to exit');
    row(`server: process start to class objects registered, in the process (${what})`, inside(name), 'ms', inside(name) / inside('plain'), 'a plain Node process\'s script start');
    row(`server: process start to exit, serving one task (${what})`, wall(name), 'ms', wall(name) / plain, 'a plain Node process');
    row(`server: process start to exit, serving one task (${what}) vs the floor`, wall(name), 'ms', wall(name) / wall('koffi'), 'Node loading koffi');
    row(`server: process start to exit, serving one task (${what}) vs an ES module file loading koffi`, wall(name), 'ms', wall(name) / wall('koffiFile'), 'that');
  }
}

// ---------------------------------------------------------------------------------------------
// Memory.

const MEMORY_ROUNDS = 3;
const MEMORY_IDLE_MS = 1000;
const MEMORY_PRIMES_MS = 2000;

/**
 * Resident set and JS heap of a child process: `body` (an ES module's text) runs with `sample()`
 * and `report()` in scope; sample() records process.memoryUsage() (rss, heapUsed), report() prints
 * the peaks, with the kernel's peak resident set (VmHWM in /proc/self/status) where there is one.
 */
function memoryOf(body) {
  const script = `
    import { readFileSync } from 'node:fs';
    let rss = 0, heapUsed = 0;
    const sample = () => { const m = process.memoryUsage(); rss = Math.max(rss, m.rss); heapUsed = Math.max(heapUsed, m.heapUsed); };
    const report = () => {
      sample();
      let hwm = 0;
      try { hwm = 1024 * Number(/^VmHWM:\\s*(\\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0); } catch {}
      process.stdout.write(JSON.stringify({ rss: Math.max(rss, hwm), heapUsed }));
    };
    ${body}`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: projectRoot });
  if (child.status !== 0) throw new Error(`memory measurement failed: ${child.stderr}`);
  return JSON.parse(child.stdout);
}

/**
 * Peak resident set and JS heap of (a) a process that serves one task and waits, (b) the prime
 * sample running at full speed, served in process under the portable host (its run sampled every
 * 20 ms for two seconds, then canceled), each against a plain Node process that waits as long,
 * in the same rounds.
 */
async function memory() {
  log('memory: a served idle task, the prime task at full speed ...');
  const url = (file) => JSON.stringify(pathToFileURL(path.join(projectRoot, '.build', 'lib', file)).href);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'winbg-bench-memory-'));
  const wait = (ms) => `await new Promise((resolve) => { const timer = setInterval(sample, 20); setTimeout(() => { clearInterval(timer); resolve(); }, ${ms}); });`;
  const scripts = {
    plain: `${wait(MEMORY_IDLE_MS)} report();`,
    idle: `
      const { defineBackgroundTask, serve } = await import(${url('tasks/index.js')});
      const task = defineBackgroundTask({ clsid: '5e0a7c41-9b2f-4d3e-8a61-0c7b2e9f4afe', run() {} });
      const server = serve(task, { inProcess: true, handleSignals: false });
      ${wait(MEMORY_IDLE_MS)} report(); server.stop();`,
    primes: `
      const { createHost } = await import(${url('host/index.js')});
      const { createPrimesTask } = await import(${url('samples/index.js')});
      const { serve, registerBackgroundTask, timeTrigger } = await import(${url('tasks/index.js')});
      const host = createHost();
      let sieving = () => {};
      const task = createPrimesTask({ file: ${JSON.stringify(path.join(dir, 'numbersQueue.log'))}, max: 1e12, clsid: '3f6d2b10-7c4e-4a59-9e21-6b8d0c5a7e04', onStatus: () => sieving() });
      const server = serve(task, { inProcess: true, handleSignals: false });
      const { registration } = registerBackgroundTask({ name: 'bench: memory', clsid: task.clsid, trigger: timeTrigger(15) });
      const running = new Promise((resolve) => (sieving = resolve));
      const done = host.waitForCompletion('bench: memory');
      host.fire('bench: memory');
      await running;
      ${wait(MEMORY_PRIMES_MS)}
      report();
      host.cancel('bench: memory', 'Abort');
      await done;
      registration.raw.dispose(); server.stop(); host.close();`,
  };
  const runs = { plain: [], idle: [], primes: [] };
  try {
    for (let round = 0; round < MEMORY_ROUNDS; round++) {
      for (const name of Object.keys(runs)) {
        if (name === 'primes') fs.rmSync(path.join(dir, 'numbersQueue.log'), { force: true });
        runs[name].push(memoryOf(scripts[name]));
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const mb = (name, key) => median(runs[name].map((m) => m[key])) / 2 ** 20;
  row('memory: a plain Node process, resident set (peak)', mb('plain', 'rss'), 'MiB');
  row('memory: a plain Node process, JS heap used', mb('plain', 'heapUsed'), 'MiB');
  row('memory: a served idle task, resident set (peak)', mb('idle', 'rss'), 'MiB', mb('idle', 'rss') / mb('plain', 'rss'), 'a plain Node process');
  row('memory: a served idle task, JS heap used', mb('idle', 'heapUsed'), 'MiB', mb('idle', 'heapUsed') / mb('plain', 'heapUsed'), 'a plain Node process');
  row('memory: the prime task at full speed under the host, resident set (peak)', mb('primes', 'rss'), 'MiB', mb('primes', 'rss') / mb('plain', 'rss'), 'a plain Node process');
  row('memory: the prime task at full speed under the host, JS heap used (peak)', mb('primes', 'heapUsed'), 'MiB', mb('primes', 'heapUsed') / mb('plain', 'heapUsed'), 'a plain Node process');
}

// ---------------------------------------------------------------------------------------------
// The portable host, on a ManualClock: no real timer is involved in what is measured.

const HOST_RUNS = 200;
const HOST_CANCELS = 200;
const HOST_WARMUP = 10;

/** The value below which `p` of the sorted `values` fall (nearest rank). */
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
};

/** A task served in this process (serve, in process) and registered with the host under `name`. */
async function hostTask(name, clsid, run) {
  const { defineBackgroundTask, serve, registerBackgroundTask, timeTrigger } = await build('tasks/index.js');
  const task = defineBackgroundTask({ clsid, name, run });
  const server = serve(task, { inProcess: true, handleSignals: false });
  const { registration } = registerBackgroundTask({ name, clsid, trigger: timeTrigger(15) });
  return { task, stop: () => (registration.raw.dispose(), server.stop()) };
}

/**
 * Trigger → run entered: host.fire() until the task's run function starts. The host takes a
 * microtask, activates the class (createInstance: the in-process class table, CoCreateInstance
 * on Windows), makes an IBackgroundTaskInstance with its events and deferrals, records the run
 * and logs it, and calls Run through the vtable. The baseline, in the same rounds, is the least
 * any host must do: activate the same class and call its Run through the vtable with a minimal
 * JS IBackgroundTaskInstance. Both include the task's side (projecting the instance, subscribing
 * to Canceled), so the ratio is what the host's own bookkeeping costs on top of the COM work.
 */
async function hostTriggerToRun() {
  log('host: trigger → run entered ...');
  const { createHost, ManualClock } = await build('host/index.js');
  const { createInstance, createObject, Guid, isWindows } = await build('com/index.js');
  const { resolveType } = await build('winrt/index.js');
  const clsid = '3f6d2b10-7c4e-4a59-9e21-6b8d0c5a7e01'; // made for this benchmark
  let entered = 0;
  const host = createHost({ clock: new ManualClock() });
  const served = await hostTask('bench: trigger', clsid, () => void (entered = performance.now()));
  const IBackgroundTask = resolveType('Windows.ApplicationModel.Background.IBackgroundTask').iface;
  const IBackgroundTaskInstance = resolveType('Windows.ApplicationModel.Background.IBackgroundTaskInstance').iface;
  class MinimalInstance {
    interfaces = [IBackgroundTaskInstance];
    id = Guid.parse(crypto.randomUUID());
    handler = null;
    get_InstanceId() { return this.id; }
    add_Canceled(handler) { this.handler = handler; return { Value: 1n }; }
    remove_Canceled() { this.handler?.dispose(); this.handler = null; }
  }
  const viaHost = async () => {
    const done = host.waitForCompletion('bench: trigger');
    const start = performance.now();
    host.fire('bench: trigger');
    const run = await done;
    if (run.state !== 'completed') throw new Error(`host run ${run.state}: ${run.error?.message}`);
    return entered - start;
  };
  const direct = async () => {
    const start = performance.now();
    const task = await createInstance(clsid, IBackgroundTask);
    const instance = createObject(new MinimalInstance(), [IBackgroundTaskInstance]);
    if (isWindows) await task.callAsync('Run', instance); // as the host calls it there
    else task.Run(instance);
    const ms = entered - start;
    task.dispose();
    instance.dispose();
    return ms;
  };
  const hosted = [], baseline = [], ratios = [];
  try {
    for (let round = 0; round < HOST_WARMUP + HOST_RUNS; round++) {
      let h, b;
      if (round % 2 === 0) {
        h = await viaHost();
        b = await direct();
      } else {
        b = await direct();
        h = await viaHost();
      }
      if (round < HOST_WARMUP) continue;
      hosted.push(h);
      baseline.push(b);
      ratios.push(h / b);
    }
  } finally {
    served.stop();
    host.close();
  }
  row('host: activate + Run through the vtable, no host (baseline)', median(baseline), 'ms');
  row(`host: trigger → run entered (host.fire → run starts, median of ${HOST_RUNS})`, median(hosted), 'ms', median(ratios), 'activate + Run');
}

/**
 * Cancel → deferral complete: host.cancel() on a running async task that stops when its signal
 * aborts, until its deferral is completed (the host's 'deferral-completed' event): Canceled
 * raised through the delegate's vtable, the AbortSignal, the task's promise, Complete() back
 * through the deferral's vtable.
 */
async function hostCancelToDeferral() {
  log('host: cancel → deferral complete ...');
  const { createHost, ManualClock } = await build('host/index.js');
  const host = createHost({ clock: new ManualClock() }); // the grace period never elapses
  let started = () => {};
  const served = await hostTask('bench: cancel', '3f6d2b10-7c4e-4a59-9e21-6b8d0c5a7e02', async (_instance, signal) => {
    started();
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  });
  let completedAt = 0;
  const stopWatching = host.onEvent((event) => {
    if (event.type === 'deferral-completed') completedAt = performance.now();
  });
  const samples = [];
  try {
    for (let i = 0; i < HOST_WARMUP + HOST_CANCELS; i++) {
      const running = new Promise((resolve) => (started = resolve));
      const done = host.waitForCompletion('bench: cancel');
      host.fire('bench: cancel');
      await running;
      const start = performance.now();
      host.cancel('bench: cancel', 'Abort');
      const run = await done;
      if (run.state !== 'completed') throw new Error(`canceled run ${run.state}: ${run.error?.message}`);
      if (i >= HOST_WARMUP) samples.push(completedAt - start);
    }
  } finally {
    stopWatching();
    served.stop();
    host.close();
  }
  row(`host: cancel → deferral complete, p50 of ${HOST_CANCELS}`, percentile(samples, 0.5), 'ms');
  row(`host: cancel → deferral complete, p99 of ${HOST_CANCELS}`, percentile(samples, 0.99), 'ms');
}

// ---------------------------------------------------------------------------------------------
// The prime sample.

const PRIME_MAX = 1e8;
const PRIME_ROUNDS = 3;
const PRIME_CANCELS = 40;

/** Seconds `body` takes, and what it returned. */
async function timed(body) {
  const start = performance.now();
  const value = await body();
  return { seconds: (performance.now() - start) / 1000, value };
}

/**
 * Primes below 10^8 into the file, from an empty file: the sample's runPrimes in this process.
 * Baselines in the same rounds: primesieve (when on PATH) writing the same primes, one per line,
 * through the shell (its process start is in its figure, a few milliseconds), and the sieve alone.
 */
async function primesToFile() {
  log('prime sample: primes below 1e8 to a file ...');
  const { runPrimes, countPrimes } = await build('samples/index.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'winbg-bench-primes-'));
  const file = path.join(dir, 'numbersQueue.log');
  const primesieve = spawnSync('primesieve', ['--version'], { encoding: 'utf8' }).status === 0;
  const ours = [], sieveOnly = [], theirs = [];
  let count = 0;
  try {
    for (let round = 0; round < PRIME_ROUNDS; round++) {
      fs.rmSync(file, { force: true });
      const run = await timed(() => runPrimes({ file, max: PRIME_MAX }));
      if (run.value.outcome !== 'completed') throw new Error('the prime run did not complete');
      count = run.value.primes;
      ours.push(run.seconds);
      sieveOnly.push((await timed(() => countPrimes(PRIME_MAX))).seconds);
      if (primesieve) {
        const out = path.join(dir, 'primesieve.txt');
        const done = await timed(() => spawnSync('sh', ['-c', `primesieve ${PRIME_MAX} -p -t1 > '${out}'`]));
        if (done.value.status !== 0) throw new Error(`primesieve failed: ${done.value.stderr}`);
        theirs.push(done.seconds);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const seconds = median(ours);
  row('primes: the sieve alone, counting to 1e8 (baseline)', median(sieveOnly), 's');
  if (primesieve) row(`primes: primesieve 1e8 -p -t1 > file (baseline, ${spawnSync('primesieve', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0].trim()})`, median(theirs), 's');
  else log('  primesieve is not installed (apt-get install primesieve-bin): no physical-limit baseline');
  row(`primes: below 1e8 into numbersQueue.log (${count.toLocaleString('en-US')} primes)`, seconds, 's', seconds / median(sieveOnly), 'the sieve alone');
  if (primesieve) row('primes: below 1e8 into the file vs primesieve', seconds, 's', seconds / median(theirs), 'primesieve -p -t1');
  row('primes: written per second', count / seconds, 'primes/s');
}

/**
 * The "before": the seed's SampleTask algorithm, trial division by every smaller number, appending
 * ten primes at a time (File.AppendAllText: here appendFileSync) to 10^5, vs the sample to 10^5.
 */
async function trialDivision() {
  log('prime sample: the seed\'s trial division to 1e5 ...');
  const { runPrimes } = await build('samples/index.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'winbg-bench-seed-'));
  const max = 100_000;
  const seed = () => {
    const file = path.join(dir, 'seed.log');
    fs.rmSync(file, { force: true });
    const isPrime = (dividend) => {
      for (let divisor = dividend - 1; divisor > 1; divisor -= 1) if (dividend % divisor === 0) return false;
      return true;
    };
    const queue = [];
    let current = 1;
    while (current < max) {
      current += 1;
      while (!isPrime(current)) current += 1;
      if (current > max) break;
      queue.push(current);
      if (queue.length >= 10) {
        fs.appendFileSync(file, `${queue.join(', ')}, `);
        queue.length = 0;
      }
    }
    fs.appendFileSync(file, queue.length ? `${queue.join(', ')}, ` : '');
    return fs.readFileSync(file, 'latin1');
  };
  const before = [], after = [];
  try {
    for (let round = 0; round < PRIME_ROUNDS; round++) {
      const old = await timed(seed);
      const file = path.join(dir, 'sample.log');
      fs.rmSync(file, { force: true });
      after.push((await timed(() => runPrimes({ file, max }))).seconds);
      if (old.value !== fs.readFileSync(file, 'latin1')) throw new Error('the seed\'s algorithm and the sample wrote different files');
      before.push(old.seconds);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  row('primes: the sample to 1e5 (baseline)', median(after) * 1000, 'ms');
  row('primes: the seed\'s trial division to 1e5, same file (before)', median(before) * 1000, 'ms', median(before) / median(after), 'the sample');
}

/** Cancel → deferral complete while the sample sieves toward 10^12 under the host. */
async function primesCancel() {
  log('prime sample: cancel → deferral complete while sieving ...');
  const { createHost } = await build('host/index.js');
  const { createPrimesTask } = await build('samples/index.js');
  const { serve, registerBackgroundTask, timeTrigger } = await build('tasks/index.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'winbg-bench-cancel-'));
  const host = createHost();
  let sieving = () => {};
  const task = createPrimesTask({ file: path.join(dir, 'numbersQueue.log'), max: 1e12, clsid: '3f6d2b10-7c4e-4a59-9e21-6b8d0c5a7e03', onStatus: () => sieving() });
  const server = serve(task, { inProcess: true, handleSignals: false });
  const { registration } = registerBackgroundTask({ name: 'bench: primes', clsid: task.clsid, trigger: timeTrigger(15) });
  let completedAt = 0;
  const stopWatching = host.onEvent((event) => {
    if (event.type === 'deferral-completed') completedAt = performance.now();
  });
  const samples = [];
  try {
    for (let i = 0; i < PRIME_CANCELS; i++) {
      const running = new Promise((resolve) => (sieving = resolve));
      const done = host.waitForCompletion('bench: primes');
      host.fire('bench: primes');
      await running;
      await new Promise((resolve) => setTimeout(resolve, 5 + (i % 5) * 5)); // well into sieving
      const start = performance.now();
      host.cancel('bench: primes', 'Abort');
      const run = await done;
      if (run.state !== 'completed') throw new Error(`canceled prime run ${run.state}: ${run.error?.message}`);
      samples.push(completedAt - start);
    }
  } finally {
    stopWatching();
    registration.raw.dispose();
    server.stop();
    host.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  row(`primes: cancel → deferral complete while sieving, p50 of ${PRIME_CANCELS}`, percentile(samples, 0.5), 'ms');
  row(`primes: cancel → deferral complete while sieving, p99 of ${PRIME_CANCELS}`, percentile(samples, 0.99), 'ms');
}

/** The broker's figures, measured by Wine's node.exe (scripts/bench-broker.mjs). */
async function brokerUnderWine() {
  log('broker under Wine: activation and cancel across processes ...');
  const { runUnderWine } = await import('./wine.mjs');
  const { ensureProxyRegistered } = await import('./wine-proxy.mjs');
  await ensureProxyRegistered({ log });
  const result = await runUnderWine('scripts/bench-broker.mjs', [], { timeoutMs: 300_000 });
  const lines = result.output.split('\n').filter((line) => line.startsWith('{'));
  if (result.code !== 0 || lines.length === 0) {
    failed = true;
    log(`  the broker benchmark failed (exit ${result.code}):\n${result.output}`);
    return;
  }
  for (const line of lines) {
    const { name, value, unit, ratio, baseline } = JSON.parse(line);
    row(name, value, unit, ratio, baseline);
  }
}

// ---------------------------------------------------------------------------------------------
// Report.

const started = Date.now();
// In this order (the budget counts what the measurements before it left registered).
const measurements = [outgoingJs, outgoingNative, incoming, unknownPairs, churn, budget, metadata, projectedCall, serverStart, hostTriggerToRun, hostCancelToDeferral, primesToFile, trialDivision, primesCancel, memory];
if (flags.wine) measurements.push(brokerUnderWine);
for (const measure of measurements) {
  if (flags.only === undefined || flags.only.split(',').some((part) => measure.name.includes(part))) await measure();
}
const seconds = (Date.now() - started) / 1000;

/** Three significant digits: enough for a noisy benchmark, easy to read. */
const round = (value) => (Number.isInteger(value) ? value : Number(value.toPrecision(3)));

if (flags.json) {
  for (const { name, value, unit, ratio } of rows) {
    console.log(JSON.stringify(ratio === undefined ? { name, value: round(value), unit } : { name, value: round(value), unit, ratio: round(ratio) }));
  }
} else {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`winbg benchmarks: Node ${process.version}, koffi ${koffi.version}, ${process.platform}-${process.arch}, ${cpu} (${os.cpus().length} cores)`);
  console.log(`median of ${ROUNDS} rounds per pair; ratio = cost / baseline's cost, lower is better; ${seconds.toFixed(1)} s\n`);
  const table = rows.map(({ name, value, unit, ratio, baseline }) => [
    name,
    round(value).toLocaleString('en-US'),
    unit,
    ratio === undefined ? '' : `${ratio.toFixed(2)}x`,
    baseline === undefined ? '' : `of ${baseline}`,
  ]);
  const widths = [0, 1, 2, 3].map((col) => Math.max(...table.map((cells) => cells[col].length), ['measurement', 'value', 'unit', 'ratio'][col].length));
  const line = (cells) => [cells[0].padEnd(widths[0]), cells[1].padStart(widths[1]), cells[2].padEnd(widths[2]), cells[3].padStart(widths[3]), cells[4]].join('  ').trimEnd();
  console.log(line(['measurement', 'value', 'unit', 'ratio', '']));
  for (const cells of table) console.log(line(cells));
}
process.exitCode = failed ? 1 : 0;
