// The package's folder as `winbg package init` writes it: AppxManifest.xml and the logos its
// Properties and VisualElements name (PNG, encoded by fast-png). For a sparse package this folder
// is what gets registered (Add-AppxPackage -Register, or PackageManager with an external location
// that holds the launcher and the app); for a full layout the app's files go in it as well.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encode } from 'fast-png';
import { LOGOS, type PackageManifest } from './package.js';

/** The pixel size of each logo the manifest names (the scale-100 sizes of the manifest schema's pages). */
const LOGO_SIZES: Readonly<Record<keyof typeof LOGOS, number>> = { store: 50, square150: 150, square44: 44 };

/**
 * A logo: a square of winbg's blue with a white ring, in RGBA, `size` pixels a side (a
 * recognisable placeholder until the app has its own; Windows shows it in Settings' app list).
 */
export function logoPng(size: number): Uint8Array {
  if (!Number.isInteger(size) || size < 16 || size > 1024) throw new RangeError(`logoPng: size must be an integer from 16 to 1024; got ${size}`);
  const data = new Uint8Array(size * size * 4);
  const centre = (size - 1) / 2;
  const outer = size * 0.36;
  const inner = size * 0.24;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const distance = Math.hypot(x - centre, y - centre);
      const ring = distance <= outer && distance >= inner;
      const at = (y * size + x) * 4;
      data.set(ring ? [255, 255, 255, 255] : [0x1f, 0x5f, 0xbf, 255], at);
    }
  }
  return encode({ width: size, height: size, data, channels: 4, depth: 8 });
}

/**
 * Writes AppxManifest.xml and its logos into `dir` (made if missing), each file written whole
 * before it takes its name. Returns the paths written.
 */
export function writePackageLayout(dir: string, manifest: PackageManifest): string[] {
  const files: [string, Uint8Array | string][] = [
    ['AppxManifest.xml', manifest.xml],
    ...(Object.keys(LOGOS) as (keyof typeof LOGOS)[]).map((key): [string, Uint8Array] => [LOGOS[key].replaceAll('\\', '/'), logoPng(LOGO_SIZES[key])]),
  ];
  const written: string[] = [];
  for (const [name, content] of files) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomically(path, content);
    written.push(path);
  }
  return written;
}

/** Writes `content` to `path` whole before the file takes that name (a cut-short write leaves only a .partial file). */
export function writeFileAtomically(path: string, content: Uint8Array | string): void {
  const partial = `${path}.partial-${process.pid}`;
  writeFileSync(partial, content);
  renameSync(partial, path);
}
