// The CLI header (ECMA-335 §II.25.3.3): where the metadata root is.
import type { Bytes } from './bytes.js';
import { type PeImage, rvaToOffset } from './pe.js';

/** The smallest CLI header: cb, runtime version, and the MetaData directory. */
const MIN_SIZE = 16;

export interface CliHeader {
  readonly runtimeVersion: string;
  readonly flags: number;
  /** File offset and size of the metadata root (§II.24.2.1). */
  readonly metadataOffset: number;
  readonly metadataSize: number;
}

export function readCliHeader(bytes: Bytes, pe: PeImage): CliHeader {
  const { rva, size, entryOffset } = pe.cliHeader;
  if (rva === 0 || size < MIN_SIZE) bytes.fail('CLI header', entryOffset, `not a CLI image: CLI header directory is ${size} bytes at RVA 0x${rva.toString(16)}`);
  const at = rvaToOffset(bytes, pe, rva, Math.min(size, 72), 'CLI header', entryOffset);
  const cb = bytes.u32('CLI header', at);
  if (cb < MIN_SIZE) bytes.fail('CLI header', at, `header size ${cb} is too small`);
  const major = bytes.u16('CLI header', at + 4);
  const minor = bytes.u16('CLI header', at + 6);
  const metadataRva = bytes.u32('CLI header', at + 8);
  const metadataSize = bytes.u32('CLI header', at + 12);
  const flags = cb >= 20 ? bytes.u32('CLI header', at + 16) : 0;
  const metadataOffset = rvaToOffset(bytes, pe, metadataRva, metadataSize, 'metadata root', at + 8);
  return { runtimeVersion: `${major}.${minor}`, flags, metadataOffset, metadataSize };
}
