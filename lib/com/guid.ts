import type { Pointer } from '../ffi/koffi.js';
import { readBytes, writeBytes } from '../ffi/memory.js';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const PATTERN = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/**
 * A GUID (IID, CLSID). Stored as the 16 bytes of the Windows `GUID` struct: Data1 (uint32),
 * Data2 and Data3 (uint16) little-endian, Data4 as 8 bytes in order.
 *
 * @example
 * const iid = Guid.parse('{00000000-0000-0000-C000-000000000046}');
 * iid.toString(); // '00000000-0000-0000-C000-000000000046'
 */
export class Guid {
  /** The struct's bytes in memory order. */
  readonly bytes: Uint8Array;
  #key: string | undefined;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Hex of {@link bytes}: a cheap identity key for GUIDs read from native memory (made on first use). */
  get key(): string {
    return (this.#key ??= keyOf(this.bytes));
  }

  /**
   * Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, with or without braces, in any case.
   * @throws TypeError naming the input when it is not a GUID.
   */
  static parse(text: string): Guid {
    const match = typeof text === 'string' ? PATTERN.exec(text) : null;
    const hasOpen = typeof text === 'string' && text.startsWith('{');
    const hasClose = typeof text === 'string' && text.endsWith('}');
    if (!match || hasOpen !== hasClose) {
      // A bigint is most likely a pointer to a GUID (that is Guid.read); JSON.stringify throws on it.
      const shown = typeof text === 'bigint' ? `${text}n` : JSON.stringify(text);
      throw new TypeError(
        `Invalid GUID ${shown}: expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex digits, braces optional)`,
      );
    }
    const [, d1, d2, d3, d4, d5] = match as unknown as [string, string, string, string, string, string];
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, parseInt(d1, 16), true);
    view.setUint16(4, parseInt(d2, 16), true);
    view.setUint16(6, parseInt(d3, 16), true);
    const tail = d4 + d5;
    for (let i = 0; i < 8; i++) bytes[8 + i] = parseInt(tail.slice(i * 2, i * 2 + 2), 16);
    return new Guid(bytes);
  }

  /** A GUID from the 16 bytes of a `GUID` struct. */
  static fromBytes(bytes: Uint8Array): Guid {
    if (!(bytes instanceof Uint8Array) || bytes.length !== 16) {
      throw new TypeError(`Guid.fromBytes: expected 16 bytes, got ${bytes?.length ?? typeof bytes}`);
    }
    return new Guid(new Uint8Array(bytes));
  }

  /** Reads the `GUID` struct at `ptr`. */
  static read(ptr: Pointer): Guid {
    return new Guid(readBytes(ptr, 16));
  }

  /** The identity key of the GUID at `ptr`, without building a Guid. */
  static keyAt(ptr: Pointer): string {
    return keyOf(readBytes(ptr, 16));
  }

  /** Accepts a Guid or a string to parse. */
  static from(value: Guid | string): Guid {
    return value instanceof Guid ? value : Guid.parse(value);
  }

  /** Writes the struct's 16 bytes at `ptr`. */
  write(ptr: Pointer): void {
    writeBytes(ptr, this.bytes);
  }

  equals(other: Guid | string): boolean {
    return Guid.from(other).key === this.key;
  }

  /** Canonical upper-case form without braces, as the registry and MIDL headers spell it. */
  toString(): string {
    return this.format();
  }

  /** `braces` adds `{}`; `lowercase` as C#'s `Guid.ToString()` writes it. */
  format(options: { braces?: boolean; lowercase?: boolean } = {}): string {
    const b = this.bytes;
    const h = (i: number): string => HEX[b[i]!]!;
    let text =
      h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' +
      h(8) + h(9) + '-' + h(10) + h(11) + h(12) + h(13) + h(14) + h(15);
    text = options.lowercase ? text : text.toUpperCase();
    return options.braces ? `{${text}}` : text;
  }

  toJSON(): string {
    return this.format();
  }
}

function keyOf(bytes: Uint8Array): string {
  let key = '';
  for (let i = 0; i < 16; i++) key += HEX[bytes[i]!];
  return key;
}
