// HSTRING as winstring.h defines it: null is '', lengths count UTF-16 code units, any code unit
// (NUL, lone surrogates) survives, duplicates are independent references, reference strings
// borrow a buffer. The same assertions hold against combase on Windows; off Windows a bad handle
// is an E_INVALIDARG ComError (on Windows it is undefined behaviour, so those tests are skipped).
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import koffi from 'koffi';
import {
  ComError, createHString, deleteHString, duplicateHString, E_INVALIDARG, HString, HSTRING_HEADER_SIZE, hstringLength, isWindows, readHString, takeHString, type HSTRING,
} from '../../lib/com/index.js';
import { nativeMemoryInUse } from '../../lib/diagnostics/index.js';

/** A 100 000-unit string cycling through every code unit (NULs and lone surrogates included). */
const LONG = Array.from({ length: 100_000 }, (_, i) => String.fromCharCode((i * 7919) % 0x10000)).join('');
const SAMPLES: Record<string, string> = {
  ascii: 'Windows.ApplicationModel.Background.TimeTrigger',
  'embedded NUL': 'a\0b',
  'surrogate pair': '😀',
  'unpaired surrogate': '\ud800x',
  'trailing NUL': 'abc\0',
  '100 000 characters': LONG,
};

/**
 * Registers a test that must leave winbg's native memory as it found it. winbg allocates the
 * portable strings and every reference-string buffer; combase's own heap strings are not counted,
 * so the balance must hold on Windows too.
 */
function leakChecked(run: Test): (name: string, body: () => void) => void {
  return (name, body) =>
    run(name, () => {
      const before = nativeMemoryInUse();
      body();
      assert.equal(nativeMemoryInUse(), before, 'every HSTRING the test made was deleted');
    });
}

/** Asserts that `action` throws a ComError carrying `hresult`. */
function throwsComError(action: () => unknown, hresult: number, what: string): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  assert.instance(caught, ComError, `${what} throws a ComError`);
  assert.is((caught as ComError).hresult, hresult, what);
}

// ---------------------------------------------------------------------------------------------

const create = suite('createHString / readHString');
const createTest = leakChecked(create);

createTest("'' is the null handle and reads back as ''", () => {
  const handle = createHString('');
  assert.is(handle, null);
  assert.is(readHString(handle), '');
  assert.is(hstringLength(handle), 0);
  assert.is(duplicateHString(handle), null);
  assert.is(takeHString(handle), '');
  deleteHString(handle); // deleting null is a no-op, as WindowsDeleteString(NULL) is
});

for (const [name, text] of Object.entries(SAMPLES)) {
  createTest(`round trip: ${name}`, () => {
    const handle = createHString(text);
    try {
      assert.ok(handle !== null, 'a non-empty string has a handle');
      const back = readHString(handle);
      assert.is(back.length, text.length);
      assert.ok(back === text, `${name} reads back unchanged`);
      assert.is(readHString(handle), text, 'reading does not consume the string');
    } finally {
      deleteHString(handle);
    }
  });
}

createTest('code units are kept exactly: NUL, lone high and low surrogates', () => {
  const text = 'a\0b\ud800x\udc00\udbff\udfff';
  const handle = createHString(text);
  const back = readHString(handle);
  deleteHString(handle);
  assert.equal(
    Array.from(back, (_, i) => back.charCodeAt(i)),
    Array.from(text, (_, i) => text.charCodeAt(i)),
  );
});

createTest('hstringLength counts UTF-16 code units', () => {
  const cases: [string, number][] = [['abc', 3], ['😀', 2], ['a\0b', 3], ['\ud800x', 2], ['é', 1], ['e\u0301', 2], [LONG, 100_000]];
  for (const [text, length] of cases) {
    const handle = createHString(text);
    const actual = hstringLength(handle);
    deleteHString(handle);
    assert.is(actual, length, JSON.stringify(text.slice(0, 8)));
  }
});

createTest('each createHString makes a distinct handle', () => {
  const a = createHString('same');
  const b = createHString('same');
  assert.is.not(a, b);
  deleteHString(a);
  assert.is(readHString(b), 'same', 'deleting one does not affect the other');
  deleteHString(b);
});

createTest('a non-string argument is a TypeError naming the argument', () => {
  for (const value of [42, null, undefined, {}, Symbol('s'), ['a']]) {
    assert.throws(
      () => createHString(value as never),
      (e: unknown) => e instanceof TypeError && /\btext\b/.test(e.message) && e.message.includes(typeof value),
      `createHString(${typeof value})`,
    );
  }
});

if (!isWindows) {
  createTest('nativeMemoryInUse counts a live portable string until it is deleted', () => {
    // Proves the leak check of the other tests can fail.
    const before = nativeMemoryInUse();
    const handle = createHString('counted');
    assert.is(nativeMemoryInUse().blocks, before.blocks + 1);
    assert.ok(nativeMemoryInUse().bytes > before.bytes);
    deleteHString(handle);
    assert.equal(nativeMemoryInUse(), before);
  });
}

create.run();

// ---------------------------------------------------------------------------------------------

const ownership = suite('duplicateHString / takeHString / deleteHString');
const ownershipTest = leakChecked(ownership);

ownershipTest('a duplicate survives deleting the original', () => {
  const original = createHString('shared text');
  const copy = duplicateHString(original);
  assert.ok(copy !== null);
  deleteHString(original);
  assert.is(readHString(copy), 'shared text');
  assert.is(hstringLength(copy), 11);
  deleteHString(copy);
});

ownershipTest('the original survives deleting a duplicate', () => {
  const original = createHString('shared text');
  const copy = duplicateHString(original);
  deleteHString(copy);
  assert.is(readHString(original), 'shared text');
  deleteHString(original);
});

ownershipTest('duplicates of duplicates each need their own delete', () => {
  const original = createHString('x\0y');
  const copies = [duplicateHString(original), duplicateHString(original)];
  copies.push(duplicateHString(copies[0]!));
  deleteHString(original);
  for (const copy of copies.slice(0, 2)) {
    assert.is(readHString(copies[2]!), 'x\0y');
    deleteHString(copy);
  }
  assert.is(readHString(copies[2]!), 'x\0y');
  deleteHString(copies[2]!);
});

ownershipTest('takeHString reads the string and deletes it', () => {
  const handle = createHString('taken 😀');
  assert.is(takeHString(handle), 'taken 😀');
  if (!isWindows) {
    // The handle is gone: deleting it again is a caller bug, reported rather than corrupting memory.
    throwsComError(() => deleteHString(handle), E_INVALIDARG, 'a second delete');
    throwsComError(() => readHString(handle), E_INVALIDARG, 'reading a deleted handle');
  }
});

ownershipTest('takeHString of a duplicate leaves the original alive', () => {
  const original = createHString('kept');
  assert.is(takeHString(duplicateHString(original)), 'kept');
  assert.is(readHString(original), 'kept');
  deleteHString(original);
});

if (!isWindows) {
  ownershipTest('a handle that is not an HSTRING is an E_INVALIDARG ComError, not a crash', () => {
    const block = koffi.alloc('uint8_t', 64);
    const fake = koffi.address(block) as bigint;
    try {
      throwsComError(() => readHString(fake), E_INVALIDARG, 'readHString');
      throwsComError(() => hstringLength(fake), E_INVALIDARG, 'hstringLength');
      throwsComError(() => duplicateHString(fake), E_INVALIDARG, 'duplicateHString');
      throwsComError(() => deleteHString(fake), E_INVALIDARG, 'deleteHString');
      throwsComError(() => takeHString(fake), E_INVALIDARG, 'takeHString');
      throwsComError(() => readHString(0x1234n), E_INVALIDARG, 'an arbitrary address');
    } finally {
      koffi.free(block);
    }
  });

  ownershipTest('a duplicated string is freed when its last reference is deleted', () => {
    const original = createHString('refcounted');
    const copy = duplicateHString(original);
    deleteHString(original);
    deleteHString(copy);
    throwsComError(() => readHString(copy), E_INVALIDARG, 'reading after the last delete');
  });
}

ownership.run();

// ---------------------------------------------------------------------------------------------

const owned = suite('HString');
const ownedTest = leakChecked(owned);

ownedTest('holds its text; length counts code units', () => {
  const string = new HString('abc😀');
  assert.is(string.toString(), 'abc😀');
  assert.is(String(string), 'abc😀');
  assert.is(string.length, 5);
  assert.is(readHString(string.handle), 'abc😀');
  string.dispose();
});

ownedTest("'' has the null handle", () => {
  const string = new HString('');
  assert.is(string.handle, null);
  assert.is(string.length, 0);
  assert.is(string.toString(), '');
  assert.is(string.detach(), null);
});

ownedTest('`using` deletes the string at the end of the scope', () => {
  let escaped: HString | undefined;
  let handle: HSTRING = null;
  {
    using string = new HString('scoped');
    escaped = string;
    handle = string.handle;
    assert.is(string.toString(), 'scoped');
  }
  throwsComError(() => escaped!.handle, E_INVALIDARG, 'the handle after the scope');
  if (!isWindows) throwsComError(() => readHString(handle), E_INVALIDARG, 'the raw handle after the scope');
});

ownedTest('`using` deletes the string when the scope throws', () => {
  let escaped: HString | undefined;
  assert.throws(() => {
    using string = new HString('scoped');
    escaped = string;
    throw new RangeError('inside');
  }, RangeError);
  throwsComError(() => escaped!.toString(), E_INVALIDARG, 'toString after the scope');
});

ownedTest('disposing twice is harmless', () => {
  const string = new HString('twice');
  string.dispose();
  string.dispose();
  string[Symbol.dispose]();
});

ownedTest('use after dispose throws a ComError', () => {
  const string = new HString('gone');
  string.dispose();
  throwsComError(() => string.handle, E_INVALIDARG, 'handle');
  throwsComError(() => string.length, E_INVALIDARG, 'length');
  throwsComError(() => string.toString(), E_INVALIDARG, 'toString');
  throwsComError(() => string.detach(), E_INVALIDARG, 'detach');
});

ownedTest('detach transfers ownership: disposing the HString no longer deletes it', () => {
  const string = new HString('detached');
  const handle = string.detach();
  assert.ok(handle !== null);
  throwsComError(() => string.handle, E_INVALIDARG, 'the HString after detach');
  string.dispose();
  assert.is(readHString(handle), 'detached', 'the caller owns a live string');
  assert.is(takeHString(handle), 'detached');
});

ownedTest('a non-string is a TypeError naming the argument', () => {
  assert.throws(() => new HString(7 as never), (e: unknown) => e instanceof TypeError && /\btext\b/.test(e.message) && /number/.test(e.message));
});

owned.run();

// ---------------------------------------------------------------------------------------------

const reference = suite('HString.reference');
const referenceTest = leakChecked(reference);

referenceTest('reads back its text and length', () => {
  using string = HString.reference('fast-pass 😀');
  assert.ok(string.handle !== null);
  assert.is(string.toString(), 'fast-pass 😀');
  assert.is(readHString(string.handle), 'fast-pass 😀');
  assert.is(string.length, 12);
});

referenceTest('keeps embedded NULs and lone surrogates', () => {
  using string = HString.reference('a\0b\udc00');
  assert.is(string.length, 4);
  assert.ok(string.toString() === 'a\0b\udc00');
});

referenceTest('a 100 000-character reference reads back', () => {
  using string = HString.reference(LONG);
  assert.is(string.length, LONG.length);
  assert.ok(string.toString() === LONG);
});

referenceTest("'' is the null handle", () => {
  const string = HString.reference('');
  assert.is(string.handle, null);
  assert.is(string.toString(), '');
  assert.is(string.detach(), null);
});

referenceTest('detach returns a heap copy that outlives the reference', () => {
  const string = HString.reference('outlives');
  const borrowed = string.handle;
  const owned = string.detach();
  assert.ok(owned !== null);
  assert.is.not(owned, borrowed, 'a new string, not the borrowed one');
  throwsComError(() => string.handle, E_INVALIDARG, 'the reference after detach');
  // Recycle the freed buffer so that a copy still pointing into it would read garbage.
  using filler = HString.reference('X'.repeat(8));
  assert.is(readHString(owned), 'outlives');
  assert.is(takeHString(owned), 'outlives');
  assert.is(filler.toString(), 'XXXXXXXX');
});

referenceTest('duplicateHString of a reference makes a copy that outlives it', () => {
  const string = HString.reference('dup\0ref');
  const copy = duplicateHString(string.handle);
  string.dispose();
  assert.is(readHString(copy), 'dup\0ref');
  deleteHString(copy);
});

referenceTest('dispose twice is harmless; use after dispose throws', () => {
  const string = HString.reference('ref');
  string.dispose();
  string.dispose();
  throwsComError(() => string.toString(), E_INVALIDARG, 'toString after dispose');
});

if (!isWindows) {
  referenceTest('the handle of a disposed reference is no longer a string', () => {
    const string = HString.reference('borrowed');
    const handle = string.handle;
    string.dispose();
    throwsComError(() => readHString(handle), E_INVALIDARG, 'reading a dead reference');
  });
}

referenceTest('HSTRING_HEADER_SIZE is the 64-bit winstring.h header size', () => {
  assert.is(HSTRING_HEADER_SIZE, 24);
});

referenceTest('a non-string is a TypeError naming the argument', () => {
  assert.throws(() => HString.reference(null as never), (e: unknown) => e instanceof TypeError && /\btext\b/.test(e.message));
});

reference.run();
