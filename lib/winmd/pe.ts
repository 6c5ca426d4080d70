// PE/COFF: from the DOS header to the CLI header's data directory, and the section table that
// maps RVAs to file offsets (ECMA-335 §II.25; the Microsoft PE/COFF specification).
import type { Bytes } from './bytes.js';

const DOS_MAGIC = 0x5a4d; // 'MZ'
const PE_SIGNATURE = 0x00004550; // 'PE\0\0'
const PE32 = 0x10b;
const PE32_PLUS = 0x20b;
/** Index of the CLI header in the optional header's data directories (§II.25.2.3.3). */
const CLI_HEADER_DIRECTORY = 14;

export interface Section {
  readonly name: string;
  readonly virtualAddress: number;
  readonly virtualSize: number;
  readonly rawSize: number;
  readonly rawOffset: number;
}

export interface PeImage {
  /** 'PE32' or 'PE32+' (§II.25.2.3: .winmd files are PE32, but both are read). */
  readonly format: 'PE32' | 'PE32+';
  readonly machine: number;
  readonly sections: readonly Section[];
  /** The CLI header's directory entry (§II.25.2.3.3). */
  readonly cliHeader: { readonly rva: number; readonly size: number; readonly entryOffset: number };
}

/** Reads the PE headers and section table. */
export function readPe(bytes: Bytes): PeImage {
  if (bytes.u16('DOS header', 0) !== DOS_MAGIC) bytes.fail('DOS header', 0, 'not a PE file: no MZ signature');
  // §II.25.2.1: lfanew, the offset of the PE signature, is at 0x3c.
  const peOffset = bytes.u32('DOS header', 0x3c);
  if (bytes.u32('PE signature', peOffset) !== PE_SIGNATURE) bytes.fail('PE signature', peOffset, 'no PE\\0\\0 signature');

  // COFF file header (§II.25.2.2), 20 bytes.
  const coff = peOffset + 4;
  const machine = bytes.u16('COFF header', coff);
  const sectionCount = bytes.u16('COFF header', coff + 2);
  const optionalSize = bytes.u16('COFF header', coff + 16);

  // Optional header (§II.25.2.3): the data directories start at 96 (PE32) or 112 (PE32+).
  const optional = coff + 20;
  const magic = bytes.u16('optional header', optional);
  if (magic !== PE32 && magic !== PE32_PLUS) bytes.fail('optional header', optional, `unknown optional header magic 0x${magic.toString(16)}`);
  const format = magic === PE32 ? 'PE32' : 'PE32+';
  const directories = optional + (format === 'PE32' ? 96 : 112);
  const directoryCount = bytes.u32('optional header', directories - 4);
  const entry = directories + CLI_HEADER_DIRECTORY * 8;
  if (directoryCount <= CLI_HEADER_DIRECTORY || entry + 8 > optional + optionalSize) {
    bytes.fail('optional header', directories - 4, `no CLI header data directory (${directoryCount} directories, optional header of ${optionalSize} bytes)`);
  }
  const cliHeader = { rva: bytes.u32('optional header', entry), size: bytes.u32('optional header', entry + 4), entryOffset: entry };

  // Section headers (§II.25.3), 40 bytes each, right after the optional header.
  const table = optional + optionalSize;
  bytes.check('section table', table, sectionCount * 40, `${sectionCount} section headers`);
  const sections: Section[] = [];
  for (let i = 0; i < sectionCount; i++) {
    const at = table + i * 40;
    let name = '';
    for (let c = 0; c < 8; c++) {
      const ch = bytes.u8('section table', at + c);
      if (ch === 0) break;
      name += String.fromCharCode(ch);
    }
    sections.push({
      name,
      virtualSize: bytes.u32('section table', at + 8),
      virtualAddress: bytes.u32('section table', at + 12),
      rawSize: bytes.u32('section table', at + 16),
      rawOffset: bytes.u32('section table', at + 20),
    });
  }
  return { format, machine, sections, cliHeader };
}

/**
 * The file offset of the `size` bytes at `rva`, which must lie inside one section's raw data and
 * inside the file; `where` names what is being looked for and `referencedAt` where the RVA was read,
 * for the error.
 */
export function rvaToOffset(bytes: Bytes, pe: PeImage, rva: number, size: number, where: string, referencedAt: number): number {
  for (const section of pe.sections) {
    // The loaded extent is VirtualSize; the bytes on disk are the first SizeOfRawData of it.
    const extent = Math.max(section.virtualSize, section.rawSize);
    if (rva >= section.virtualAddress && rva < section.virtualAddress + extent) {
      const delta = rva - section.virtualAddress;
      if (delta + size > section.rawSize) {
        bytes.fail(where, section.rawOffset + Math.min(delta, section.rawSize), `RVA 0x${rva.toString(16)} (+${size} bytes) runs past the raw data of section ${JSON.stringify(section.name)}`);
      }
      const offset = section.rawOffset + delta;
      bytes.check(where, offset, size, `RVA 0x${rva.toString(16)}`);
      return offset;
    }
  }
  return bytes.fail(where, referencedAt, `RVA 0x${rva.toString(16)} is in no section`);
}
