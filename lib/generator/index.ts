// `winbg generate`: reads Windows metadata and writes a projection. The .winmd folder comes from
// --winmd, then WINMD_DIR, then %SystemRoot%\System32\WinMetadata on Windows.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata } from '../winmd/index.js';
import { emitProjection, GENERATED_HEADER, type EmitOptions, type Projection } from './emit.js';
import type { Root } from './model.js';

export { emitProjection, type Projection, type GeneratedFile, type EmitOptions } from './emit.js';
export { closure, typeDescriptor, type Root, type Closure } from './model.js';
export { emitIdl } from './idl.js';

/** The projection's configuration (winmd/projection.json in this repository). */
export interface ProjectionConfig {
  readonly roots: readonly Root[];
}

/** Where the .winmd files are: the argument, WINMD_DIR, or Windows' own folder. */
export function winmdDirectory(explicit?: string): string {
  const candidates = [explicit, process.env.WINMD_DIR, process.platform === 'win32' && process.env.SystemRoot ? join(process.env.SystemRoot, 'System32', 'WinMetadata') : undefined];
  for (const dir of candidates) if (dir) {
    if (!existsSync(dir)) throw new Error(`winmd folder ${dir} does not exist`);
    return dir;
  }
  throw new Error('no Windows metadata: pass --winmd DIR or set WINMD_DIR (on Windows, %SystemRoot%\\System32\\WinMetadata is used)');
}

/** SHA-256 of every .winmd in `dir`, in the format of sha256sum. */
export function inputHashes(dir: string): string {
  return readdirSync(dir)
    .filter((name) => name.toLowerCase().endsWith('.winmd'))
    .sort()
    .map((name) => `${createHash('sha256').update(readFileSync(join(dir, name))).digest('hex')}  ${name}\n`)
    .join('');
}

export interface GenerateOptions extends EmitOptions {
  readonly winmd: string;
  readonly roots: readonly Root[];
  /** Output folder; its .ts files are replaced. */
  readonly out: string;
}

/** Generates and writes a projection; returns what was written. */
export function generate(options: GenerateOptions): Projection {
  const metadata = Metadata.load(options.winmd);
  const projection = emitProjection(metadata, options.roots, options);
  mkdirSync(options.out, { recursive: true });
  // What an earlier run wrote (.ts, or .js and .d.ts) goes first; only files that begin with the
  // generator's header, so that a folder shared with the app's own code keeps it.
  for (const name of readdirSync(options.out)) {
    if (!/\.(ts|js)$/.test(name)) continue;
    const path = join(options.out, name);
    if (readFileSync(path, 'utf8').startsWith(GENERATED_HEADER)) rmSync(path);
  }
  for (const file of projection.files) writeFileSync(join(options.out, file.path), file.text);
  return projection;
}
