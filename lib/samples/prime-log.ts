// The prime sample's file, numbersQueue.log: the seed's format, decimal primes in ascending order,
// each followed by the delimiter ", " ("2, 3, 5, 7, "), as the seed's FlushNumbersToFile appends
// them with File.AppendAllText (UTF-8, which for these characters is ASCII).
//
// The file is append-only and every write ends on a record boundary, so after a crash (the process
// killed mid-write, or a power loss) only the last record can be incomplete: a torn record, some
// digits with or without the comma, possibly followed by zero bytes where the file system extended
// the file but the data never arrived. Opening the log trims such a tail and checks that what is
// left ends with two consecutive primes, so that a resumed run continues without a gap or a
// duplicate. Anything else in the tail is not a torn record: the file is left alone and the error
// says so, rather than destroying data that is not ours.
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { primeSegments } from './sieve.js';

/** The seed's delimiter, written after every prime. */
export const DELIMITER = ', ';
const COMMA = 0x2c;
const SPACE = 0x20;
const ZERO = 0x30;

/** The longest record: 2^53 has 16 digits, plus the delimiter. */
const MAX_RECORD = 18;

/** The log is not a prime log, or not one we can continue without losing data. */
export class PrimeLogError extends Error {
  override readonly name = 'PrimeLogError';
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
  }
}

/** What opening a log found. */
export interface PrimeLogState {
  /** The last complete prime in the file, or null for an empty (or new) file. */
  readonly last: number | null;
  /** The file's length after trimming, in bytes: a record boundary. */
  readonly bytes: number;
  /** Bytes of a torn trailing record that were cut off (0 when the file ended cleanly). */
  readonly trimmed: number;
}

/**
 * Reads the end of the log at `file` and trims a torn trailing record. A missing file is an empty
 * log. Throws PrimeLogError when the file is not a prime log that can be continued.
 */
export function recoverPrimeLog(file: string): PrimeLogState {
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { last: null, bytes: 0, trimmed: 0 };
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    // Enough of the tail for the torn record, zero bytes the file system may have added (up to a
    // 64 KiB cluster) and two complete records.
    const window = Math.min(size, 64 * 1024 + 3 * MAX_RECORD);
    const tail = Buffer.alloc(window);
    readExactly(fd, tail, size - window);
    const head = Buffer.alloc(Math.min(size, 3));
    readExactly(fd, head, 0);

    // The end of the last delimiter; what follows is the torn part.
    let end = tail.length;
    while (end > 0 && tail[end - 1] === 0) end--;
    let digits = 0;
    if (end > 0 && tail[end - 1] === COMMA) end--;
    while (end > 0 && isDigit(tail[end - 1]!) && digits <= MAX_RECORD) end--, digits++;
    const torn = tail.length - end;
    if (end === 0 && window < size) {
      throw new PrimeLogError(file, `ends with ${torn} bytes that are neither records nor a torn record (zero bytes or digits); move it away, or give another file`);
    }
    if (digits > MAX_RECORD - 2) throw new PrimeLogError(file, `ends with ${digits > MAX_RECORD ? 'more than ' + MAX_RECORD : digits} digits, more than any record holds; move the file away, or give another file`);
    if (end > 0 && !(tail[end - 1] === SPACE && tail[end - 2] === COMMA)) {
      throw new PrimeLogError(file, `does not end with a prime log record (decimal numbers each followed by ${JSON.stringify(DELIMITER)}): byte ${size - torn - 1} is ${describeByte(tail[end - 1]!)}. It is not a file this sample wrote; move it away, or give another file`);
    }
    const boundary = size - torn;
    if (boundary === 0) {
      if (torn > 0) truncate(fd, 0);
      return { last: null, bytes: 0, trimmed: torn };
    }
    if (!(head[0] === ZERO + 2 && head[1] === COMMA && head[2] === SPACE)) {
      throw new PrimeLogError(file, 'does not start with "2, ", the first record of a prime log; move it away, or give another file');
    }

    // The last two records must be consecutive primes. When the window starts inside the file,
    // its first record may be cut, and is not used.
    const records = tail.subarray(0, end - DELIMITER.length).toString('latin1').split(DELIMITER);
    const complete = window === size ? records : records.slice(1);
    const last = parseRecord(file, complete.at(-1)!, boundary);
    const previous = complete.length >= 2 ? parseRecord(file, complete.at(-2)!, boundary) : null;
    const expected = nextPrimes(previous === null ? 0 : previous + 1, last);
    if (expected.length !== 1 || expected[0] !== last) {
      throw new PrimeLogError(file, previous === null
        ? `holds ${last} as its only record, which is not 2; move it away, or give another file`
        : `ends with ${previous}, ${last}, which are not consecutive primes (the file was changed by something else); move it away, or give another file`);
    }
    if (torn > 0) truncate(fd, boundary);
    return { last, bytes: boundary, trimmed: torn };
  } finally {
    closeSync(fd);
  }
}

function truncate(fd: number, length: number): void {
  ftruncateSync(fd, length);
  fsyncSync(fd);
}

function readExactly(fd: number, buffer: Buffer, position: number): void {
  let done = 0;
  while (done < buffer.length) {
    const read = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (read === 0) throw new Error(`the file shrank while it was read (at byte ${position + done})`);
    done += read;
  }
}

const isDigit = (byte: number): boolean => byte >= ZERO && byte <= ZERO + 9;

function describeByte(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? JSON.stringify(String.fromCharCode(byte)) : `0x${byte.toString(16).padStart(2, '0')}`;
}

function parseRecord(file: string, text: string, at: number): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new PrimeLogError(file, `holds ${JSON.stringify(text.slice(0, 40))} before byte ${at}, which is not a record of a prime log; move it away, or give another file`);
  }
  return Number(text);
}

/** The primes from `from` to `to`, when there are few (a gap between two records). */
function nextPrimes(from: number, to: number): number[] {
  const found: number[] = [];
  for (const segment of primeSegments(from, to)) {
    for (const p of segment) found.push(p);
    if (found.length > 1) break;
  }
  return found;
}

export interface PrimeLogWriterOptions {
  /** Bytes gathered before a write (default 64 KiB): every write ends on a record boundary. */
  readonly flushBytes?: number;
}

/**
 * Appends primes to a log, formatting them straight into a buffer and writing it when it is
 * full (`flush`), always ending on a record boundary. `sync` makes what was written durable
 * (fsync). Open it after `recoverPrimeLog`, which trims a torn tail.
 */
export class PrimeLogWriter {
  readonly file: string;
  readonly #fd: number;
  readonly #buffer: Uint8Array;
  readonly #limit: number;
  #used = 0;
  #closed = false;
  #written = 0;
  #unsynced = false;

  constructor(file: string, options: PrimeLogWriterOptions = {}) {
    const flushBytes = options.flushBytes ?? 64 * 1024;
    if (!Number.isInteger(flushBytes) || flushBytes < 1 || flushBytes > 64 * 1024 * 1024) {
      throw new RangeError(`PrimeLogWriter: flushBytes must be a whole number from 1 to 67108864 (64 MiB), got ${String(flushBytes)}`);
    }
    this.file = file;
    this.#limit = flushBytes;
    this.#buffer = new Uint8Array(flushBytes + MAX_RECORD);
    mkdirSync(dirname(file), { recursive: true });
    this.#fd = openSync(file, 'a');
  }

  /** Bytes handed to the file system by this writer (flushed, not necessarily synced). */
  get written(): number {
    return this.#written;
  }

  /** Bytes formatted but not written yet. */
  get pending(): number {
    return this.#used;
  }

  /** Adds primes (ascending, each above the last one written); writes whenever the buffer fills. */
  append(primes: ArrayLike<number>): void {
    if (this.#closed) throw new Error(`PrimeLogWriter: ${this.file} is closed`);
    const buffer = this.#buffer;
    let used = this.#used;
    for (let i = 0; i < primes.length; i++) {
      let n = primes[i]!;
      // Digits from the right, into their place; then the delimiter.
      const end = used + digitCount(n);
      let at = end;
      do {
        const q = Math.floor(n / 10);
        buffer[--at] = ZERO + (n - q * 10);
        n = q;
      } while (n > 0);
      buffer[end] = COMMA;
      buffer[end + 1] = SPACE;
      used = end + 2;
      if (used >= this.#limit) {
        this.#used = used;
        this.flush();
        used = 0;
      }
    }
    this.#used = used;
  }

  /** Writes what is gathered: complete records only, so the file ends on a boundary. */
  flush(): void {
    let done = 0;
    while (done < this.#used) done += writeSync(this.#fd, this.#buffer, done, this.#used - done);
    this.#written += done;
    if (done > 0) this.#unsynced = true;
    this.#used = 0;
  }

  /** Flushes, then fsyncs: what was written survives a power loss. */
  sync(): void {
    this.flush();
    if (this.#unsynced) fsyncSync(this.#fd);
    this.#unsynced = false;
  }

  /** Flushes, syncs and closes; further calls do nothing. */
  close(): void {
    if (this.#closed) return;
    try {
      this.sync();
    } finally {
      this.#closed = true;
      closeSync(this.#fd);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Decimal digits of a whole number below 2^53. */
function digitCount(n: number): number {
  if (n < 1e8) return n < 1e4 ? (n < 100 ? (n < 10 ? 1 : 2) : n < 1e3 ? 3 : 4) : n < 1e6 ? (n < 1e5 ? 5 : 6) : n < 1e7 ? 7 : 8;
  let count = 9;
  for (let power = 1e9; n >= power && count < 16; power *= 10) count++;
  return count;
}
