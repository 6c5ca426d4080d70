// Fuzzing: real files mutated at random (seeded, so any failure can be replayed) must each either
// load and walk completely (every type, member, signature and attribute, the lazy parts included)
// or throw a WinmdError that names the file; never another exception, never a hang.
//
//   WINMD_FUZZ_SEED=<n>    replay a run (the seed is printed)
//   WINMD_FUZZ_COUNT=<n>   inputs (default 10 000)
//
// Most inputs come from the smallest file (Windows.Management.Setup.winmd, 12 KB), every tenth
// from Windows.Foundation.winmd, so that the run stays within seconds. Each input is bounded by
// the reader's own checks (every count against the bytes left, every index against its table or
// heap, nesting limits); a watchdog cannot interrupt a synchronous loop, so the total and the
// slowest input's time are reported instead.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Metadata, walk, WinmdError, WinmdFile } from '../../lib/winmd/index.js';
import { mulberry32 } from '../support/random.js';
import { readWinmd, withInputs } from '../support/winmd.js';

const COUNT = Number(process.env.WINMD_FUZZ_COUNT ?? 10_000);
const SEED = Number(process.env.WINMD_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

const MUTATIONS = ['truncate', 'flip bits', 'random bytes', 'random bytes in a stream', 'table cell', 'tables header'] as const;
type Mutation = (typeof MUTATIONS)[number];

interface Input {
  readonly name: string;
  readonly original: Uint8Array;
  readonly layout: WinmdFile;
}

/** Applies one mutation to a copy of the input; returns the bytes and what was done. */
function mutate(input: Input, kind: Mutation, random: () => number): { bytes: Uint8Array; what: string } {
  const int = (n: number): number => Math.floor(random() * n);
  const bytes = input.original.slice();
  const view = new DataView(bytes.buffer);
  const { layout } = input;
  switch (kind) {
    case 'truncate': {
      const length = int(bytes.length);
      return { bytes: bytes.subarray(0, length), what: `truncated to ${length}` };
    }
    case 'flip bits': {
      const flips = 1 + int(8);
      const at: number[] = [];
      for (let i = 0; i < flips; i++) {
        at.push(int(bytes.length));
        bytes[at[i]!]! ^= 1 << int(8);
      }
      return { bytes, what: `bits flipped at ${at.join(', ')}` };
    }
    case 'random bytes':
    case 'random bytes in a stream': {
      const stream = layout.root.streams[int(layout.root.streams.length)]!;
      const [from, size] = kind === 'random bytes' ? [0, bytes.length] : [stream.offset, stream.size];
      const at = from + int(size);
      const length = 1 + int(16);
      for (let i = 0; i < length && at + i < bytes.length; i++) bytes[at + i] = int(256);
      return { bytes, what: `${length} random bytes at ${at}` };
    }
    case 'table cell': {
      // An out-of-range (or just wrong) index, heap offset or flag in some row.
      const tables = layout.tables.filter((t) => t.rows > 0);
      const table = tables[int(tables.length)]!;
      const row = 1 + int(table.rows);
      const column = table.columns[int(table.columns.length)]!;
      const max = 2 ** (8 * column.size) - 1;
      const choices = [0, max, table.rows + 1, int(max + 1), 1 + int(64), max >>> 1];
      const value = choices[int(choices.length)]! % (max + 1);
      const at = table.offset + (row - 1) * table.rowSize + column.offset;
      for (let i = 0; i < column.size; i++) bytes[at + i] = (value >>> (8 * i)) & 0xff;
      return { bytes, what: `${table.name}[${row}].${column.name} = ${value}` };
    }
    case 'tables header': {
      // Huge, slightly wrong or zero row counts, or other heap size flags (which change every
      // column width).
      const start = layout.root.tables.offset;
      if (random() < 0.25) {
        bytes[start + 6]! ^= 1 << int(3);
        return { bytes, what: `HeapSizes = 0x${bytes[start + 6]!.toString(16)}` };
      }
      let present = 0;
      for (let id = 0; id < 64; id++) if ((layout.stream.valid >> BigInt(id)) & 1n) present++;
      const slot = int(present);
      const count = view.getUint32(start + 24 + 4 * slot, true);
      const choices = [0xffffffff, 0x7fffffff, 0x10000, 0xffff, int(2 ** 32), count * 2 + 1, Math.max(0, count - 1), 0];
      const value = choices[int(choices.length)]! >>> 0;
      view.setUint32(start + 24 + 4 * slot, value, true);
      return { bytes, what: `row count ${slot} = ${value}` };
    }
  }
}

const fuzz = withInputs(suite('fuzzing the reader'));

fuzz('the unmutated inputs load and walk', () => {
  for (const name of ['Windows.Management.Setup.winmd', 'Windows.Foundation.winmd']) {
    const counts = walk(Metadata.parse([{ name, bytes: readWinmd(name) }]));
    assert.ok(counts.types > 10 && counts.methods > 50 && counts.attributes > 50, name);
  }
});

fuzz(`${COUNT} mutated inputs: each loads and walks, or throws a WinmdError naming the file`, () => {
  const inputs: Input[] = ['Windows.Management.Setup.winmd', 'Windows.Foundation.winmd'].map((name) => {
    const original = readWinmd(name);
    return { name, original, layout: new WinmdFile(name, original) };
  });
  const random = mulberry32(SEED);
  const outcomes = new Map<Mutation, { walked: number; failed: number }>(MUTATIONS.map((m) => [m, { walked: 0, failed: 0 }]));
  const where = new Map<string, number>();
  let slowest = { ms: 0, what: '' };
  const started = performance.now();
  for (let i = 0; i < COUNT; i++) {
    const input = inputs[i % 10 === 9 ? 1 : 0]!;
    const kind = MUTATIONS[Math.floor(random() * MUTATIONS.length)]!;
    const { bytes, what } = mutate(input, kind, random);
    const replay = `input ${i} (${input.name}: ${what}); replay with WINMD_FUZZ_SEED=${SEED}`;
    const began = performance.now();
    try {
      walk(Metadata.parse([{ name: input.name, bytes }]));
      outcomes.get(kind)!.walked++;
    } catch (error) {
      if (!(error instanceof WinmdError)) {
        assert.unreachable(`${replay}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        throw error;
      }
      assert.ok(error.message.includes(input.name), `${replay}: message does not name the file: ${error.message}`);
      assert.is(error.file, input.name, replay);
      assert.not.match(error.message, /internal error/, `${replay}: ${error.message}`);
      outcomes.get(kind)!.failed++;
      where.set(error.where, (where.get(error.where) ?? 0) + 1);
    }
    const ms = performance.now() - began;
    if (ms > slowest.ms) slowest = { ms, what: `input ${i} (${what})` };
  }
  const total = performance.now() - started;
  const walked = [...outcomes.values()].reduce((sum, o) => sum + o.walked, 0);
  console.log(
    `\n  fuzz: seed ${SEED}, ${COUNT} inputs in ${(total / 1000).toFixed(1)} s: ${walked} loaded and walked, ${COUNT - walked} WinmdError;` +
      ` slowest ${slowest.ms.toFixed(1)} ms (${slowest.what})\n  by mutation: ${[...outcomes].map(([k, o]) => `${k} ${o.walked}/${o.failed}`).join(', ')} (walked/failed)` +
      `\n  errors by where: ${[...where].sort((a, b) => b[1] - a[1]).map(([w, n]) => `${w} ${n}`).join(', ')}`,
  );
  // Each kind of mutation both breaks some inputs and leaves some readable, or it tests nothing.
  if (COUNT >= 1000) {
    for (const [kind, o] of outcomes) assert.ok(o.failed > 0 && o.walked > 0, `${kind}: ${o.walked} walked, ${o.failed} failed`);
  }
});

fuzz.run();
