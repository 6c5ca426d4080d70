// Compressed integers and the bounded blob cursor (ECMA-335 §II.23.2).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { blobOf, winmdErrorOf } from '../support/winmd.js';

/** Asserts a WinmdError about the #Blob at `offset`, naming the file. */
function throwsAt(run: () => unknown, offset: number, pattern?: RegExp): void {
  const error = winmdErrorOf(run);
  assert.is(error.file, 'test.winmd');
  assert.is(error.where, '#Blob');
  assert.is(error.offset, offset);
  assert.ok(error.message.includes('test.winmd') && error.message.includes('#Blob'), error.message);
  if (pattern) assert.match(error.message, pattern);
}

const unsigned = suite('compressed unsigned integers');

// The examples of §II.23.2.
const UNSIGNED: [number, number[]][] = [
  [0x03, [0x03]],
  [0x7f, [0x7f]],
  [0x80, [0x80, 0x80]],
  [0x2e57, [0xae, 0x57]],
  [0x3fff, [0xbf, 0xff]],
  [0x4000, [0xc0, 0x00, 0x40, 0x00]],
  [0x1fffffff, [0xdf, 0xff, 0xff, 0xff]],
];

unsigned('decodes the ECMA-335 examples and advances by the width', () => {
  for (const [value, bytes] of UNSIGNED) {
    const r = blobOf([...bytes, 0x55]);
    assert.is(r.compressed(), value, `${bytes.map((b) => b.toString(16))}`);
    assert.is(r.position, bytes.length);
  }
});

unsigned('a lead byte 111xxxxx is invalid', () => {
  throwsAt(() => blobOf([0xe0, 0, 0, 0]).compressed(), 0, /lead byte 0xe0/);
});

unsigned('a 2- or 4-byte integer cut by the end of the blob fails there', () => {
  throwsAt(() => blobOf([0x80]).compressed(), 0, /past the end/);
  throwsAt(() => blobOf([0xc0, 0, 0]).compressed(), 0, /past the end/);
  const r = blobOf([0x01]);
  r.compressed();
  throwsAt(() => r.compressed(), 1, /past the end/);
});

unsigned.run();

const signed = suite('compressed signed integers');

const SIGNED: [number, number[]][] = [
  [3, [0x06]],
  [-3, [0x7b]],
  [64, [0x80, 0x80]],
  [-64, [0x01]],
  [8192, [0xc0, 0x00, 0x40, 0x00]],
  [-8192, [0x80, 0x01]],
  [268435455, [0xdf, 0xff, 0xff, 0xfe]],
  [-268435456, [0xc0, 0x00, 0x00, 0x01]],
];

signed('decodes the ECMA-335 examples', () => {
  for (const [value, bytes] of SIGNED) assert.is(blobOf(bytes).compressedSigned(), value, `${value}`);
});

signed.run();

const cursor = suite('BlobReader bounds');

cursor('fixed-width reads are little-endian', () => {
  const r = blobOf([0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  assert.is(r.u16(), 0x1234);
  assert.is(r.u32(), 0x12345678);
  assert.is(r.i64(), -1n);
  assert.is(r.remaining, 0);
});

cursor('a read past the end of the blob is a WinmdError at that offset', () => {
  const r = blobOf([1, 2, 3]);
  r.u16();
  throwsAt(() => r.u16(), 2, /2-byte value runs past the end of the blob/);
  throwsAt(() => blobOf([]).u8(), 0);
  throwsAt(() => blobOf([]).peek(), 0, /blob ends early/);
});

cursor('count() rejects counts the rest of the blob cannot hold', () => {
  const r = blobOf([1, 2, 3, 4]);
  assert.is(r.count(4, 1, 'item'), 4);
  throwsAt(() => r.count(5, 1, 'item'), 0, /item count 5/);
  throwsAt(() => r.count(0x1fffffff, 2, 'parameter'), 0, /parameter count/);
});

cursor.run();
