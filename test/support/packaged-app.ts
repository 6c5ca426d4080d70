// An app folder as `winbg package init` leaves it, for the tests of registration and the doctor:
// app.js, a placeholder launcher (winbg-node.exe: what is checked is that it is there) and the
// package folder, with one task.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageCommand } from '../../lib/manifest/package-command.js';
import { removeTree } from './files.js';

export interface PackagedApp extends Disposable {
  readonly dir: string;
  readonly packageDir: string;
}

/** `winbg package init --name NAME --task CLSID=primes --script app.js ...extra` in a new folder; disposing it removes the folder. */
export async function packagedApp(name: string, clsid: string, extra: readonly string[] = []): Promise<PackagedApp> {
  const dir = mkdtempSync(join(tmpdir(), 'winbg-app-'));
  writeFileSync(join(dir, 'app.js'), '');
  writeFileSync(join(dir, 'winbg-node.exe'), 'MZ');
  await packageCommand(['init', '--name', name, '--task', `${clsid}=primes`, '--script', 'app.js', ...extra], { cwd: dir });
  return { dir, packageDir: join(dir, 'package'), [Symbol.dispose]: () => removeTree(dir) };
}
