// Truncated and corrupted files: every failure is a WinmdError that names the file, the structure
// being read (a header, a stream, a table) and the byte offset, whether it happens while loading or
// later, when the model decodes a part lazily.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readCliHeader } from '../../lib/winmd/cli-header.js';
import { Metadata, TableId, walk, WinmdError, WinmdFile } from '../../lib/winmd/index.js';
import { readWinmd, withInputs } from '../support/winmd.js';
import { removeTree } from '../support/files.js';

const SMALL = 'Windows.Management.Setup.winmd';
const FOUNDATION = 'Windows.Foundation.winmd';

/** A copy of a real file changed by `mutate`, which gets the original's layout. */
function corrupt(name: string, mutate: (bytes: Uint8Array, view: DataView, layout: WinmdFile) => Uint8Array | void): Uint8Array {
  const bytes = readWinmd(name).slice();
  const layout = new WinmdFile(name, readWinmd(name));
  return mutate(bytes, new DataView(bytes.buffer), layout) ?? bytes;
}

/** File offset of a column of a row. */
function cell(layout: WinmdFile, table: TableId, row: number, column: number): { at: number; size: number } {
  const t = layout.table(table);
  const c = t.columns[column]!;
  return { at: t.offset + (row - 1) * t.rowSize + c.offset, size: c.size };
}
function write(view: DataView, { at, size }: { at: number; size: number }, value: number): void {
  if (size === 2) view.setUint16(at, value, true);
  else view.setUint32(at, value, true);
}

/** Runs `run` and returns the WinmdError it throws, checking the message names all three. */
function winmdError(run: () => unknown, name: string, where: string | RegExp, pattern?: RegExp): WinmdError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  assert.instance(caught, WinmdError, `expected a WinmdError, got ${String(caught)}`);
  const error = caught as WinmdError;
  assert.is(error.name, 'WinmdError');
  assert.is(error.file, name);
  if (typeof where === 'string') assert.is(error.where, where);
  else assert.match(error.where, where);
  assert.ok(Number.isInteger(error.offset) && error.offset >= 0, `offset ${error.offset}`);
  assert.ok(error.message.includes(name) && error.message.includes(error.where) && error.message.includes(`0x${error.offset.toString(16)}`), error.message);
  assert.not.match(error.message, /internal error/);
  if (pattern) assert.match(error.message, pattern);
  return error;
}
const parse = (name: string, bytes: Uint8Array) => () => Metadata.parse([{ name, bytes }]);

// ---------------------------------------------------------------------------------------------

const headers = withInputs(suite('errors in headers and streams'));

headers('empty input, and a file that is not PE', () => {
  winmdError(parse('empty.winmd', new Uint8Array(0)), 'empty.winmd', 'DOS header', /runs past the end of the file/);
  winmdError(parse('text.winmd', new TextEncoder().encode('hello, this is not a PE file at all, just text'.repeat(3))), 'text.winmd', 'DOS header', /no MZ/);
});

headers('truncation at each layer names the layer', () => {
  const full = readWinmd(SMALL);
  const view = new DataView(full.buffer, full.byteOffset);
  const peOffset = view.getUint32(0x3c, true);
  const error = winmdError(parse(SMALL, full.subarray(0, 0x40)), SMALL, 'PE signature');
  assert.is(error.offset, 0x40); // clamped to the end of the file
  winmdError(parse(SMALL, full.subarray(0, peOffset + 10)), SMALL, 'COFF header');
  winmdError(parse(SMALL, full.subarray(0, peOffset + 30)), SMALL, 'optional header');
  // Cut inside the metadata: the section's raw data no longer fits the file.
  winmdError(parse(SMALL, full.subarray(0, 4000)), SMALL, /CLI header|metadata root/, /past the end of the file/);
});

headers('a bad metadata signature, and an unknown table in the Valid mask', () => {
  const root = readCliHeader(new WinmdFile(SMALL, readWinmd(SMALL)).bytes, new WinmdFile(SMALL, readWinmd(SMALL)).pe).metadataOffset;
  const noBsjb = corrupt(SMALL, (bytes) => {
    assert.equal([...bytes.subarray(root, root + 4)], [0x42, 0x53, 0x4a, 0x42]); // 'BSJB'
    bytes[root + 1] = 0;
  });
  const error = winmdError(parse(SMALL, noBsjb), SMALL, 'metadata root', /no BSJB signature/);
  assert.is(error.offset, root);
  const unknownTable = corrupt(SMALL, (_bytes, view, l) => view.setUint8(l.root.tables.offset + 8 + 6, 0x01)); // Valid bit 48
  winmdError(parse(SMALL, unknownTable), SMALL, '#~', /table 0x30, which ECMA-335 does not define/);
});

headers('a huge row count is caught before any row is read', () => {
  const bytes = corrupt(SMALL, (_bytes, view, l) => view.setUint32(l.root.tables.offset + 24 + 4 * 2, 0x7fffffff, true)); // TypeDef, the third present table
  const error = winmdError(parse(SMALL, bytes), SMALL, /^[A-Za-z]+$/, /2147483647 rows of \d+ bytes run past the end of the #~ stream/);
  assert.is(error.where, 'TypeDef');
});

headers.run();

// ---------------------------------------------------------------------------------------------

const rows = withInputs(suite('errors in table rows and heaps'));

rows('a string index past #Strings fails while loading (type names are read eagerly)', () => {
  const bytes = corrupt(SMALL, (_b, view, l) => write(view, cell(l, TableId.TypeDef, 2, 1), 0xfff0));
  winmdError(parse(SMALL, bytes), SMALL, '#Strings', /string index 65520 is outside the heap/);
});

rows('a coded index with a tag that names no table fails when the part is read', () => {
  const bytes = corrupt(SMALL, (_b, view, l) => write(view, cell(l, TableId.TypeDef, 2, 3), 0x0003));
  const metadata = Metadata.parse([{ name: SMALL, bytes }]);
  const type = metadata.types()[0]!;
  const error = winmdError(() => type.extends, SMALL, 'TypeDef', /TypeDef\.Extends: TypeDefOrRef tag 3 names no table/);
  const layout = new WinmdFile(SMALL, readWinmd(SMALL));
  assert.is(error.offset, layout.table(TableId.TypeDef).offset + layout.table(TableId.TypeDef).rowSize);
  winmdError(() => type.kind, SMALL, 'TypeDef'); // and again: failures are not cached
  winmdError(() => walk(metadata), SMALL, 'TypeDef');
});

rows('a signature blob index past #Blob, and a blob that is not a method signature', () => {
  const pastHeap = corrupt(SMALL, (_b, view, l) => write(view, cell(l, TableId.MethodDef, 1, 4), 0xfffe));
  const method = Metadata.parse([{ name: SMALL, bytes: pastHeap }]).types().flatMap((t) => t.methods)[0]!;
  winmdError(() => method.signature, SMALL, '#Blob', /blob index 65534 is outside the heap/);

  const notAMethod = corrupt(SMALL, (bytes, view, l) => {
    const blob = l.blobs.get(view.getUint16(cell(l, TableId.MethodDef, 1, 4).at, true));
    bytes[blob.start] = 0x06; // FIELD
  });
  const other = Metadata.parse([{ name: SMALL, bytes: notAMethod }]).types().flatMap((t) => t.methods)[0]!;
  const error = winmdError(() => other.signature, SMALL, '#Blob', /calling convention 0x6 is not a method's/);
  assert.ok(error.offset > new WinmdFile(SMALL, readWinmd(SMALL)).root.blob!.offset);
});

rows('a member list that runs backwards', () => {
  const layout = new WinmdFile(SMALL, readWinmd(SMALL));
  const methodList = (row: number): number => layout.value(TableId.TypeDef, row, 5);
  // A row whose predecessor owns methods: setting its MethodList to 1 makes the predecessor's run backwards.
  let row = 3;
  while (methodList(row - 1) <= 1) row++;
  const bytes = corrupt(SMALL, (_b, view, l) => write(view, cell(l, TableId.TypeDef, row, 5), 1));
  const before = Metadata.parse([{ name: SMALL, bytes }]).types()[row - 3]!; // types() leaves out <Module>, row 1
  const error = winmdError(() => before.methods, SMALL, 'TypeDef', new RegExp(`TypeDef.MethodList runs from ${methodList(row - 1)} to 1`));
  assert.is(error.offset, layout.rowOffset(TableId.TypeDef, row - 1));
});

rows('a TypeSpec that contains itself is a cycle, not endless recursion', () => {
  const layout = new WinmdFile(FOUNDATION, readWinmd(FOUNDATION));
  let target = 0;
  const bytes = corrupt(FOUNDATION, (data, view) => {
    // The first TypeSpec with a blob of at least 3 bytes and a row small enough for a 1-byte token.
    for (let row = 1; row <= Math.min(layout.rows(TableId.TypeSpec), 31) && !target; row++) {
      const blob = layout.blobs.get(view.getUint16(cell(layout, TableId.TypeSpec, row, 0).at, true));
      if (blob.end - blob.start >= 3) {
        data.set([0x1d, 0x12, (row << 2) | 2], blob.start); // SZARRAY CLASS <this TypeSpec>
        target = row;
      }
    }
  });
  assert.ok(target > 0);
  winmdError(() => walk(Metadata.parse([{ name: FOUNDATION, bytes }])), FOUNDATION, /TypeSpec|#Blob/, /TypeSpec refers to itself/);
});

rows.run();

// ---------------------------------------------------------------------------------------------

const loading = suite('Metadata.load and file system errors');

loading('a directory without .winmd files is a WinmdError; a missing path is the file system error', () => {
  const empty = mkdtempSync(join(tmpdir(), 'winmd-'));
  try {
    winmdError(() => Metadata.load(empty), empty, 'directory', /no \.winmd files/);
  } finally {
    removeTree(empty);
  }
  let caught: unknown;
  try {
    Metadata.load(join(empty, 'missing.winmd'));
  } catch (error) {
    caught = error;
  }
  assert.not.instance(caught, WinmdError);
  assert.is((caught as NodeJS.ErrnoException).code, 'ENOENT');
});

loading.run();
