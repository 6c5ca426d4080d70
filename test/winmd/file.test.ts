// The file layers on the real metadata: PE/COFF headers, the CLI header, the metadata root and its
// streams, the #~ stream's table layout (ECMA-335 §II.24.2.6) and the heaps.
import { readdirSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readCliHeader } from '../../lib/winmd/cli-header.js';
import { TableId, WinmdError, WinmdFile } from '../../lib/winmd/index.js';
import { ModuleRow } from '../../lib/winmd/rows/module.js';
import { AssemblyRow } from '../../lib/winmd/rows/assembly.js';
import { TypeDefRow } from '../../lib/winmd/rows/type-def.js';
import { SCHEMA, TABLE_COUNT } from '../../lib/winmd/schema.js';
import { readWinmd, WINMD_DIR, withInputs } from '../support/winmd.js';

const names = WINMD_DIR ? readdirSync(WINMD_DIR).filter((n) => n.endsWith('.winmd')).sort() : [];
const open = (name: string): WinmdFile => new WinmdFile(name, readWinmd(name));

// ---------------------------------------------------------------------------------------------

const headers = withInputs(suite('PE, CLI header and metadata root of the real files'));

headers('every file is a PE32 CLI image with WindowsRuntime metadata and the five streams', () => {
  assert.ok(names.length >= 10, `found ${names.length} files`);
  for (const name of names) {
    const file = open(name);
    assert.is(file.pe.format, 'PE32', name);
    assert.ok(file.pe.sections.some((s) => s.name === '.text'), name);
    const cli = readCliHeader(file.bytes, file.pe);
    assert.is(cli.runtimeVersion, '2.5', name);
    assert.match(file.root.version, /^WindowsRuntime /, name);
    assert.equal(file.root.streams.map((s) => s.name).sort(), ['#Blob', '#GUID', '#Strings', '#US', '#~'], name);
    assert.is(file.root.tables.name, '#~');
  }
});

headers('the Module row names the file, the Assembly row its namespace', () => {
  const file = open('Windows.Foundation.winmd');
  assert.is(new ModuleRow(file, 1).name(), 'Windows.Foundation.winmd');
  assert.match(new ModuleRow(file, 1).mvid() ?? '', /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
  assert.is(new AssemblyRow(file, 1).name(), 'Windows.Foundation');
});

headers('PE32+ is read too: the same file with a PE32+ optional header', () => {
  const bytes = readWinmd('Windows.Management.Setup.winmd').slice();
  const view = new DataView(bytes.buffer);
  const pe = view.getUint32(0x3c, true);
  const optional = pe + 24;
  const optionalSize = view.getUint16(pe + 20, true);
  const sectionsEnd = optional + optionalSize + view.getUint16(pe + 6, true) * 40;
  assert.ok(sectionsEnd + 16 <= view.getUint32(optional + optionalSize + 20, true), 'room for 16 more header bytes before the first section');
  // PE32+ has no BaseOfData and an 8-byte ImageBase and stack/heap sizes: the directories move
  // from 96 to 112 and the optional header grows by 16 bytes.
  bytes.copyWithin(optional + 112 - 4, optional + 96 - 4, sectionsEnd);
  view.setUint16(optional, 0x20b, true);
  view.setUint16(pe + 20, optionalSize + 16, true);
  const file = new WinmdFile('pe32plus.winmd', bytes);
  assert.is(file.pe.format, 'PE32+');
  assert.is(new ModuleRow(file, 1).name(), 'Windows.Management.Setup.winmd');
  // Still PE32 magic with the moved directories: the CLI directory is not where PE32 has it.
  view.setUint16(optional, 0x10b, true);
  assert.throws(() => new WinmdFile('pe32plus.winmd', bytes), (e: unknown) => e instanceof WinmdError);
});

headers.run();

// ---------------------------------------------------------------------------------------------

const tables = withInputs(suite('#~ table layout of the real files'));

tables('the tables fill the #~ stream exactly, up to its 4-byte padding', () => {
  // Any wrong column width in any table with rows would move the end by at least a row count.
  for (const name of names) {
    const file = open(name);
    const last = file.tables[TABLE_COUNT - 1]!;
    const end = last.offset + last.rows * last.rowSize;
    const streamEnd = file.root.tables.offset + file.root.tables.size;
    assert.ok(streamEnd - end >= 0 && streamEnd - end <= 4, `${name}: ${streamEnd - end} bytes after the last table`);
  }
});

tables('each table starts where the one before ends, and the Valid mask says which have rows', () => {
  for (const name of names) {
    const file = open(name);
    assert.is(file.tables.length, TABLE_COUNT);
    for (let id = 1; id < TABLE_COUNT; id++) {
      const before = file.tables[id - 1]!;
      assert.is(file.tables[id]!.offset, before.offset + before.rows * before.rowSize, `${name} ${file.tables[id]!.name}`);
    }
    // The header (24 bytes) and one row count per Valid bit come before the first table.
    let present = 0;
    for (let id = 0; id < 64; id++) if ((file.stream.valid >> BigInt(id)) & 1n) present++;
    assert.is(file.tables[0]!.offset, file.root.tables.offset + 24 + 4 * present, name);
    assert.ok(file.tables.every((t) => t.rows === 0 || (file.stream.valid >> BigInt(t.id)) & 1n), name);
  }
});

tables('column widths follow the heap size flags and the 2-byte/4-byte index rules', () => {
  // Windows.ApplicationModel.winmd: 4-byte #Strings and #Blob indexes (HeapSizes 0x05); the
  // CustomAttribute coded indexes point into tables of more than 2^11 (HasCustomAttribute, 5 tag
  // bits) and 2^13 rows (CustomAttributeType, 3 tag bits: 8770 MethodDefs), so 4 bytes.
  const big = open('Windows.ApplicationModel.winmd');
  assert.is(big.stream.heapSizes & 0x07, 0x05);
  const typeDef = big.table(TableId.TypeDef).columns;
  assert.equal(typeDef.map((c) => c.size), [4, 4, 4, 2, 2, 2]); // Flags, Name, Namespace, Extends, FieldList, MethodList
  const ca = big.table(TableId.CustomAttribute).columns;
  assert.is(big.rows(TableId.MethodDef) >= 2 ** 13, true);
  assert.equal(ca.map((c) => c.size), [4, 4, 4]); // Parent (HasCustomAttribute), Type (CustomAttributeType), Value
  // Windows.Foundation.winmd: everything small.
  const small = open('Windows.Foundation.winmd');
  assert.is(small.stream.heapSizes & 0x07, 0);
  assert.equal(small.table(TableId.TypeDef).columns.map((c) => c.size), [4, 2, 2, 2, 2, 2]);
  assert.equal(small.table(TableId.CustomAttribute).columns.map((c) => c.size), [2, 2, 2]);
  assert.is(small.table(TableId.TypeDef).rowSize, 14);
  assert.is(SCHEMA.length, TABLE_COUNT);
});

tables('TypeDef rows read names from #Strings; row 1 is <Module>', () => {
  const file = open('Windows.Foundation.winmd');
  assert.is(new TypeDefRow(file, 1).name(), '<Module>');
  const all = Array.from({ length: file.rows(TableId.TypeDef) }, (_, i) => new TypeDefRow(file, i + 1));
  const found = all.find((t) => t.namespace() === 'Windows.Foundation' && t.name() === 'IAsyncAction');
  assert.ok(found, 'IAsyncAction is a TypeDef');
  assert.ok(found!.methods().length === 3);
});

tables('a row past the table is a WinmdError naming the table', () => {
  const file = open('Windows.Foundation.winmd');
  const rows = file.rows(TableId.TypeDef);
  assert.throws(
    () => new TypeDefRow(file, rows + 1).name(),
    (e: unknown) => e instanceof WinmdError && e.where === 'TypeDef' && e.file === 'Windows.Foundation.winmd' && e.message.includes(`row ${rows + 1} does not exist`),
  );
});

tables.run();
