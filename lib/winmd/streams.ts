// The metadata root and its stream headers (ECMA-335 §II.24.2.1, §II.24.2.2).
import type { Bytes } from './bytes.js';
import type { CliHeader } from './cli-header.js';

const SIGNATURE = 0x424a5342; // 'BSJB'
/** §II.24.2.2: a stream name is at most 32 characters including the terminating NUL. */
const MAX_NAME = 32;

export interface Stream {
  readonly name: string;
  /** File offset and length of the stream's bytes. */
  readonly offset: number;
  readonly size: number;
}

export interface MetadataRoot {
  /** The version string, e.g. 'WindowsRuntime 1.4' for Windows metadata. */
  readonly version: string;
  /** '#~' (compressed) or '#-' (uncompressed, §II.24.2.6 and the CLR's ENC form). */
  readonly tables: Stream;
  readonly strings: Stream | null;
  readonly blob: Stream | null;
  readonly guid: Stream | null;
  readonly userStrings: Stream | null;
  readonly streams: readonly Stream[];
}

export function readMetadataRoot(bytes: Bytes, cli: CliHeader): MetadataRoot {
  const root = cli.metadataOffset;
  const end = root + cli.metadataSize;
  const where = 'metadata root';
  if (bytes.u32(where, root) !== SIGNATURE) bytes.fail(where, root, 'no BSJB signature');
  const versionLength = bytes.u32(where, root + 12);
  // The version string is padded to a multiple of 4 (§II.24.2.1); it holds a NUL-terminated name.
  if (versionLength > 255 || root + 16 + versionLength + 4 > end) bytes.fail(where, root + 12, `version string length ${versionLength} is impossible`);
  let version = '';
  for (let i = 0; i < versionLength; i++) {
    const ch = bytes.u8(where, root + 16 + i);
    if (ch === 0) break;
    version += String.fromCharCode(ch);
  }
  const flagsAt = root + 16 + ((versionLength + 3) & ~3);
  const count = bytes.u16(where, flagsAt + 2);

  const streams: Stream[] = [];
  let at = flagsAt + 4;
  for (let i = 0; i < count; i++) {
    if (at + 8 > end) bytes.fail('stream headers', at, `stream header ${i} of ${count} lies past the metadata (${cli.metadataSize} bytes)`);
    const offset = bytes.u32('stream headers', at);
    const size = bytes.u32('stream headers', at + 4);
    let name = '';
    let length = 0;
    for (;;) {
      if (length >= MAX_NAME || at + 8 + length >= end) bytes.fail('stream headers', at + 8, 'stream name is not terminated within 32 bytes');
      const ch = bytes.u8('stream headers', at + 8 + length);
      length++;
      if (ch === 0) break;
      name += String.fromCharCode(ch);
    }
    if (offset > cli.metadataSize || size > cli.metadataSize - offset) {
      bytes.fail('stream headers', at, `stream ${name} (${size} bytes at ${offset}) lies outside the metadata (${cli.metadataSize} bytes)`);
    }
    if (streams.some((s) => s.name === name)) bytes.fail('stream headers', at, `stream ${name} appears twice`);
    streams.push({ name, offset: root + offset, size });
    at += 8 + ((length + 3) & ~3);
  }

  const find = (name: string): Stream | null => streams.find((s) => s.name === name) ?? null;
  const tables = find('#~') ?? find('#-');
  if (!tables) bytes.fail('stream headers', flagsAt + 4, `no #~ stream among ${count} streams (${streams.map((s) => s.name).join(', ')})`);
  if (find('#~') && find('#-')) bytes.fail('stream headers', flagsAt + 4, 'both #~ and #- streams');
  return { version, tables, strings: find('#Strings'), blob: find('#Blob'), guid: find('#GUID'), userStrings: find('#US'), streams };
}
