// The log prime-app.ts writes, as the broker tests read it: app.log (its main thread) and
// app.log.thread-N (a worker's), one JSON object per line.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One line of the app's log. */
export interface AppLogLine {
  readonly pid: number;
  /** Milliseconds with a fraction (performance.timeOrigin + now()). */
  readonly time: number;
  readonly type: string;
  readonly [field: string]: unknown;
}

/** The log lines of the app whose config named `dir`/app.log, in time order. Whole lines only: the app may be writing the last one. */
export function readAppLog(dir: string): AppLogLine[] {
  const lines: AppLogLine[] = [];
  for (const name of readdirSync(dir)) {
    if (!/^app\.log(\.thread-\d+)?$/.test(name)) continue;
    for (const text of readFileSync(join(dir, name), 'utf8').split('\n').slice(0, -1)) if (text) lines.push(JSON.parse(text) as AppLogLine);
  }
  return lines.sort((a, b) => a.time - b.time);
}
