// A child process for the crash test: appends primes to a log until killed (or done).
// Arguments: <file> <max> <flushBytes>.
import process from 'node:process';
import { runPrimes } from '../../../lib/samples/primes.js';

const [file, max, flushBytes] = process.argv.slice(2);
await runPrimes({ file: file!, max: Number(max), flushBytes: Number(flushBytes), flushMs: 0, fsyncMs: 50 });
