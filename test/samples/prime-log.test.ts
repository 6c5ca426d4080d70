// numbersQueue.log: the seed's format, recovery of torn records, refusal of files that are not
// prime logs (left untouched), and the batched writer.
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PrimeLogError, PrimeLogWriter, recoverPrimeLog } from '../../lib/samples/prime-log.js';
import { primeSegments } from '../../lib/samples/sieve.js';
import { primeText } from '../support/primes.js';
import { removeTree } from '../support/files.js';

const dir = mkdtempSync(join(tmpdir(), 'winbg-primelog-'));
let serial = 0;
const fileWith = (content: string | Buffer): string => {
  const file = join(dir, `log-${serial++}.log`);
  writeFileSync(file, content);
  return file;
};
/** The seed's text for the primes ≤ to: "2, 3, 5, ". */

const recovery = suite('recoverPrimeLog');

recovery('a missing or empty file is an empty log', () => {
  assert.equal(recoverPrimeLog(join(dir, 'missing.log')), { last: null, bytes: 0, trimmed: 0 });
  assert.not.ok(existsSync(join(dir, 'missing.log')), 'recovery creates nothing');
  assert.equal(recoverPrimeLog(fileWith('')), { last: null, bytes: 0, trimmed: 0 });
});

recovery('a clean file: its last prime, nothing trimmed', () => {
  assert.equal(recoverPrimeLog(fileWith('2, ')), { last: 2, bytes: 3, trimmed: 0 });
  assert.equal(recoverPrimeLog(fileWith('2, 3, 5, 7, ')), { last: 7, bytes: 12, trimmed: 0 });
  const big = primeText(1_000_000);
  assert.equal(recoverPrimeLog(fileWith(big)), { last: 999_983, bytes: big.length, trimmed: 0 });
});

recovery('torn records (digits, digits and comma, zero bytes after them) are trimmed to the last boundary', () => {
  const clean = primeText(10_000);
  const cases: [tail: string | Buffer, trimmed: number][] = [
    ['1', 1], ['10', 2], ['1000', 4], ['10007,', 6], [',', 1],
    [Buffer.from('10007\0\0\0', 'latin1'), 8], [Buffer.alloc(4096), 4096], [Buffer.concat([Buffer.from('1000'), Buffer.alloc(60_000)]), 60_004],
  ];
  for (const [tail, trimmed] of cases) {
    const file = fileWith(Buffer.concat([Buffer.from(clean, 'latin1'), Buffer.from(tail as string, 'latin1')]));
    assert.equal(recoverPrimeLog(file), { last: 9973, bytes: clean.length, trimmed }, JSON.stringify(String(tail).slice(0, 12)));
    assert.is(readFileSync(file, 'latin1'), clean, 'trimmed on disk');
  }
  const torn = fileWith('2, 3');
  assert.equal(recoverPrimeLog(torn), { last: 2, bytes: 3, trimmed: 1 });
  const onlyTorn = fileWith('2');
  assert.equal(recoverPrimeLog(onlyTorn), { last: null, bytes: 0, trimmed: 1 });
  assert.is(readFileSync(onlyTorn, 'latin1'), '');
});

recovery('files that are not prime logs are refused, named, and left untouched', () => {
  const cases: [content: string | Buffer, message: RegExp][] = [
    ['hello world', /does not end with a prime log record[^]*byte 10 is "d"/],
    ['2, 3, 5, x', /byte 9 is "x"/],
    ['2, 3, 5,  ', /byte 9 is " "/],
    ['3, 5, 7, ', /does not start with "2, "/],
    ['2, 3, 7, ', /ends with 3, 7, which are not consecutive primes/],
    ['2, 3, 5, 5, ', /ends with 5, 5, which are not consecutive primes/],
    ['2, 3, 4, ', /ends with 3, 4/],
    ['2, 03, ', /"03"/],
    ['2, 3, 5, 12345678901234567890', /ends with more than 18 digits, more than any record holds/],
    [Buffer.concat([Buffer.from('2, 3, '), Buffer.alloc(70_000)]), /neither records nor a torn record/],
    ['2, 3, 5, \n', /byte 9 is 0x0a/],
  ];
  for (const [content, message] of cases) {
    const file = fileWith(content);
    const before = readFileSync(file);
    try {
      recoverPrimeLog(file);
      assert.unreachable(`accepted ${JSON.stringify(String(content).slice(0, 20))}`);
    } catch (error) {
      assert.instance(error, PrimeLogError);
      assert.match((error as Error).message, message);
      assert.ok((error as Error).message.startsWith(file), 'names the file');
      assert.match((error as Error).message, /move it away|move the file away/, 'says what to do');
    }
    assert.equal(readFileSync(file), before, 'untouched');
  }
});

const writer = suite('PrimeLogWriter');

writer('writes the seed\'s format, creating the folder, appending after what is there', () => {
  const file = join(dir, 'new', 'folder', 'numbersQueue.log');
  const log = new PrimeLogWriter(file, { flushBytes: 7 });
  log.append([2, 3, 5]);
  log.append(Float64Array.of(7, 11, 9_007_199_254_740_881));
  log.close();
  log.close(); // twice is harmless
  assert.is(readFileSync(file, 'latin1'), '2, 3, 5, 7, 11, 9007199254740881, ');
  assert.is(log.written, 34);
  using again = new PrimeLogWriter(file);
  again.append([9_007_199_254_740_991]);
  again.flush();
  assert.is(readFileSync(file, 'latin1'), '2, 3, 5, 7, 11, 9007199254740881, 9007199254740991, ');
  assert.throws(() => log.append([13]), /is closed/);
});

writer('every write ends on a record boundary, whatever flushBytes is', () => {
  for (const flushBytes of [1, 2, 3, 5, 17, 64, 4096]) {
    const file = join(dir, `boundary-${flushBytes}.log`);
    const log = new PrimeLogWriter(file, { flushBytes });
    let flushedBefore = 0;
    for (const segment of primeSegments(0, 20_000)) {
      log.append(segment);
      if (log.written !== flushedBefore) {
        flushedBefore = log.written;
        assert.ok(readFileSync(file, 'latin1').endsWith(', '), `after a write with flushBytes ${flushBytes}`);
      }
    }
    log.close();
    assert.is(readFileSync(file, 'latin1'), primeText(20_000));
  }
});

writer('flushBytes is validated', () => {
  for (const flushBytes of [0, -1, 1.5, Number.NaN, 2 ** 30]) {
    assert.throws(() => new PrimeLogWriter(join(dir, 'never.log'), { flushBytes }), /flushBytes must be a whole number from 1 to 67108864/);
  }
});

writer.after(() => removeTree(dir));
recovery.run();
writer.run();
