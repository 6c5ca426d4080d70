// winbg/samples/primes: the seed's prime-counting background task as a real workload, and its parts.
export { createPrimesTask, primesTask, runPrimes, SAMPLE_TASK_CLSID, DEFAULT_MAX, MAX_LIMIT, type PrimeRunOptions, type PrimeRunResult, type PrimeStatus, type PrimesTaskOptions } from './primes.js';
export { recoverPrimeLog, PrimeLogWriter, PrimeLogError, DELIMITER, type PrimeLogState, type PrimeLogWriterOptions } from './prime-log.js';
export { localDataFolder, defaultPrimesFile, processName, PRIMES_FILE_NAME, type DataFolder, type DataFolderOptions } from './data-folder.js';
export { primeSegments, smallPrimes, countPrimes, SEGMENT_ODDS } from './sieve.js';
import '../tasks/index.js'; // the whole runtime of a served task, so that the bundle keeps it in one chunk (README, Start-up)
