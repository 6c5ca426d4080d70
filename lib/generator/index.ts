// `winbg generate`: reads Windows metadata and writes a projection. The .winmd folder comes from
// --winmd, then WINMD_DIR, then %SystemRoot%\System32\WinMetadata on Windows.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata } from '../winmd/index.js';
import { emitProjection, type EmitOptions, type Projection } from './emit.js';
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
  for (const name of readdirSync(options.out)) if (name.endsWith('.ts')) rmSync(join(options.out, name));
  for (const file of projection.files) writeFileSync(join(options.out, file.path), file.text);
  return projection;
}
