// Guid: parsing and formatting the registry/MIDL text form, and the 16-byte `GUID` struct
// (guiddef.h: uint32 Data1, uint16 Data2, uint16 Data3, uint8 Data4[8]; little-endian fields).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import koffi from 'koffi';
import { Guid } from '../../lib/com/index.js';
import { allocate, nativeMemoryInUse, release } from '../../lib/ffi/memory.js';
import { IID, Memory } from '../support/native.js';

const IUNKNOWN = '00000000-0000-0000-C000-000000000046';
/** Every byte distinct, so a swapped or misplaced field shows. */
const DISTINCT = '01234567-89AB-CDEF-0123-456789ABCDEF';
const DISTINCT_BYTES = [0x67, 0x45, 0x23, 0x01, 0xab, 0x89, 0xef, 0xcd, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];

/** The struct as C declares it, read by koffi independently of Guid's own byte handling. */
const GUID_STRUCT = koffi.struct({ Data1: 'uint32_t', Data2: 'uint16_t', Data3: 'uint16_t', Data4: koffi.array('uint8_t', 8) });

// ---------------------------------------------------------------------------------------------

const parse = suite('Guid.parse');

parse('accepts the form without braces', () => {
  assert.is(Guid.parse(DISTINCT).toString(), DISTINCT);
});

parse('accepts the form with braces', () => {
  assert.is(Guid.parse(`{${DISTINCT}}`).toString(), DISTINCT);
});

parse('is case-insensitive: upper, lower and mixed case give the same GUID', () => {
  const upper = Guid.parse(DISTINCT);
  const lower = Guid.parse(DISTINCT.toLowerCase());
  const mixed = Guid.parse('01234567-89aB-CdEf-0123-456789AbCdEf');
  assert.equal(lower.bytes, upper.bytes);
  assert.equal(mixed.bytes, upper.bytes);
  assert.is(lower.key, upper.key);
  assert.is(mixed.key, upper.key);
});

parse('different GUIDs get different keys', () => {
  assert.is.not(Guid.parse(DISTINCT).key, Guid.parse(IUNKNOWN).key);
  // Differ only in the last byte.
  assert.is.not(Guid.parse('01234567-89AB-CDEF-0123-456789ABCDEE').key, Guid.parse(DISTINCT).key);
});

parse('Guid.from passes a Guid through and parses a string', () => {
  const guid = Guid.parse(DISTINCT);
  assert.is(Guid.from(guid), guid);
  assert.equal(Guid.from(`{${DISTINCT.toLowerCase()}}`).bytes, guid.bytes);
});

parse.run();

// ---------------------------------------------------------------------------------------------

const malformed = suite('Guid.parse of malformed input');

/** Asserts a TypeError whose message shows the input. */
function rejects(input: unknown, shown: string = typeof input === 'string' ? JSON.stringify(input) : String(input)): void {
  let caught: unknown;
  try {
    Guid.parse(input as string);
  } catch (error) {
    caught = error;
  }
  assert.instance(caught, TypeError, `Guid.parse(${String(input)}) should throw a TypeError`);
  assert.ok((caught as Error).message.includes(shown), `message ${JSON.stringify((caught as Error).message)} shows ${shown}`);
}

malformed('too short', () => {
  rejects('00000000-0000-0000-C000-00000000004');
  rejects('00000000-0000-0000-C000');
});

malformed('bad hex digits', () => {
  rejects('0000000G-0000-0000-C000-000000000046');
  rejects('00000000-0000-0000-C000-00000000004Z');
  rejects('+0000000-0000-0000-C000-000000000046'); // parseInt would accept a sign
});

malformed('mismatched braces', () => {
  rejects(`{${IUNKNOWN}`);
  rejects(`${IUNKNOWN}}`);
  rejects(`{{${IUNKNOWN}}}`);
  rejects(`(${IUNKNOWN})`);
});

malformed('misplaced or missing hyphens', () => {
  rejects('000000000000-0000-C000-000000000046-');
  rejects('00000000000000000C000000000000046');
  rejects('000000000000-0000-C000-000000000046');
});

malformed('extra characters before or after', () => {
  rejects(`${IUNKNOWN}0`);
  rejects(`x${IUNKNOWN}`);
  rejects(` ${IUNKNOWN}`);
  rejects(`${IUNKNOWN} `);
  rejects(`${IUNKNOWN}\n`);
  rejects(`{${IUNKNOWN}}x`);
});

malformed('empty string', () => {
  rejects('', '""');
});

malformed('non-strings', () => {
  rejects(42);
  rejects(null);
  rejects(undefined);
  rejects({ toString: () => IUNKNOWN }, '{}'); // not coerced through toString
  rejects(0x1234n, '4660n'); // a pointer passed where the text was meant
  assert.throws(() => Guid.from(42 as never), TypeError);
});

malformed.run();

// ---------------------------------------------------------------------------------------------

const format = suite('Guid formatting');

format('toString is canonical upper case without braces', () => {
  assert.is(Guid.parse(DISTINCT.toLowerCase()).toString(), DISTINCT);
  assert.is(Guid.parse(`{${IUNKNOWN.toLowerCase()}}`).toString(), IUNKNOWN);
  assert.is(String(Guid.parse(DISTINCT)), DISTINCT);
});

format('format: braces, lowercase, both, neither', () => {
  const guid = Guid.parse(DISTINCT);
  assert.is(guid.format(), DISTINCT);
  assert.is(guid.format({ braces: true }), `{${DISTINCT}}`);
  assert.is(guid.format({ lowercase: true }), DISTINCT.toLowerCase());
  assert.is(guid.format({ braces: true, lowercase: true }), `{${DISTINCT.toLowerCase()}}`);
  assert.is(guid.format({ braces: false, lowercase: false }), DISTINCT);
});

format('leading zeros are kept in every group', () => {
  const text = '00000001-0002-0003-0004-000000000005';
  assert.is(Guid.parse(text).toString(), text);
});

format('JSON.stringify writes the canonical string', () => {
  assert.is(JSON.stringify({ iid: Guid.parse(DISTINCT.toLowerCase()) }), `{"iid":"${DISTINCT}"}`);
});

format.run();

// ---------------------------------------------------------------------------------------------

const layout = suite('Guid struct layout');

layout('IUnknown is 00 00 00 00 | 00 00 | 00 00 | C0 00 00 00 00 00 00 46', () => {
  assert.equal([...Guid.parse(IUNKNOWN).bytes], [0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46]);
});

layout('Data1, Data2, Data3 are little-endian; Data4 is in order', () => {
  assert.equal([...Guid.parse(DISTINCT).bytes], DISTINCT_BYTES);
});

layout('the key is the hex of the bytes in memory order', () => {
  assert.is(Guid.parse(DISTINCT).key, '67452301ab89efcd0123456789abcdef');
});

layout('fromBytes reads the same layout and formats it back', () => {
  const guid = Guid.fromBytes(new Uint8Array(DISTINCT_BYTES));
  assert.is(guid.toString(), DISTINCT);
  assert.ok(guid.equals(DISTINCT));
});

layout('fromBytes copies its input', () => {
  const bytes = new Uint8Array(DISTINCT_BYTES);
  const guid = Guid.fromBytes(bytes);
  bytes.fill(0);
  assert.is(guid.toString(), DISTINCT);
});

layout('fromBytes rejects anything but 16 bytes in a Uint8Array', () => {
  assert.throws(() => Guid.fromBytes(new Uint8Array(15)), (e: unknown) => e instanceof TypeError && /16 bytes/.test(e.message) && /15/.test(e.message));
  assert.throws(() => Guid.fromBytes(new Uint8Array(17)), (e: unknown) => e instanceof TypeError && /17/.test(e.message));
  assert.throws(() => Guid.fromBytes(new Uint8Array(0)), TypeError);
  assert.throws(() => Guid.fromBytes(DISTINCT_BYTES as never), TypeError, 'a plain array is not accepted');
  assert.throws(() => Guid.fromBytes(new Uint16Array(16) as never), TypeError);
  assert.throws(() => Guid.fromBytes(null as never), TypeError);
  assert.throws(() => Guid.fromBytes(undefined as never), TypeError);
});

layout.run();

// ---------------------------------------------------------------------------------------------

const native = suite('Guid in native memory');
const memory = new Memory();
native.after.each(() => memory.free());

native('write puts the C struct fields where C reads them', () => {
  const ptr = memory.alloc(16, 0xcc);
  Guid.parse(DISTINCT).write(ptr);
  const struct = koffi.decode(ptr, GUID_STRUCT) as { Data1: number; Data2: number; Data3: number; Data4: Uint8Array };
  assert.is(struct.Data1, 0x01234567);
  assert.is(struct.Data2, 0x89ab);
  assert.is(struct.Data3, 0xcdef);
  assert.equal([...struct.Data4], [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
});

native('read decodes a struct that C code wrote', () => {
  const ptr = memory.alloc(16);
  koffi.encode(ptr, GUID_STRUCT, { Data1: 0x01234567, Data2: 0x89ab, Data3: 0xcdef, Data4: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef] });
  assert.is(Guid.read(ptr).toString(), DISTINCT);
  assert.is(Guid.keyAt(ptr), Guid.parse(DISTINCT).key);
  for (const iid of Object.values(IID)) assert.is(Guid.read(memory.guid(iid)).toString(), iid);
});

native('write then read round-trips through memory from lib/ffi/memory.ts', () => {
  const before = nativeMemoryInUse();
  const ptr = allocate(16);
  try {
    for (const text of [IUNKNOWN, DISTINCT, 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '00000000-0000-0000-0000-000000000000']) {
      const guid = Guid.parse(text);
      guid.write(ptr);
      const back = Guid.read(ptr);
      assert.is(back.toString(), text);
      assert.ok(back.equals(guid));
      assert.is(Guid.keyAt(ptr), guid.key);
    }
  } finally {
    release(ptr, 16);
  }
  assert.equal(nativeMemoryInUse(), before);
});

native('write touches exactly 16 bytes', () => {
  const ptr = memory.alloc(32, 0xcc);
  Guid.parse(IUNKNOWN).write(ptr + 8n);
  const all = [...(koffi.decode(ptr, 'uint8_t', 32) as Uint8Array)];
  assert.equal(all.slice(0, 8), Array(8).fill(0xcc));
  assert.equal(all.slice(8, 24), [...Guid.parse(IUNKNOWN).bytes]);
  assert.equal(all.slice(24), Array(8).fill(0xcc));
});

native('read returns a copy, not a view of native memory', () => {
  const ptr = memory.alloc(16);
  Guid.parse(DISTINCT).write(ptr);
  const guid = Guid.read(ptr);
  Guid.parse(IUNKNOWN).write(ptr);
  assert.is(guid.toString(), DISTINCT);
});

native.run();

// ---------------------------------------------------------------------------------------------

const equality = suite('Guid.equals');

equality('equal GUIDs compare equal, whatever their spelling', () => {
  const guid = Guid.parse(DISTINCT);
  assert.ok(guid.equals(Guid.parse(DISTINCT)));
  assert.ok(guid.equals(DISTINCT.toLowerCase()));
  assert.ok(guid.equals(`{${DISTINCT}}`));
  assert.ok(guid.equals(Guid.fromBytes(new Uint8Array(DISTINCT_BYTES))));
});

equality('different GUIDs are not equal', () => {
  const guid = Guid.parse(DISTINCT);
  assert.not.ok(guid.equals(IUNKNOWN));
  assert.not.ok(guid.equals('01234567-89AB-CDEF-0123-456789ABCDEE'));
  // Same hex digits, but Data1 given in memory order: a byte-order mix-up would make these equal.
  assert.not.ok(guid.equals('67452301-AB89-EFCD-0123-456789ABCDEF'));
});

equality('comparing with a malformed string is a TypeError, not false', () => {
  assert.throws(() => Guid.parse(DISTINCT).equals('not a guid'), /not a guid/);
});

equality.run();
