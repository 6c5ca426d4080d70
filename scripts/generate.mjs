// `npm run generate`: compiles winbg and regenerates lib/generated from the Windows metadata
// (--winmd DIR, WINMD_DIR, ../shared/winmd beside this repository, or Windows' own folder), then
// records the SHA-256 of the inputs in winmd/SHA256SUMS. `--check` regenerates into a temporary
// folder and fails when the committed output differs (CI's drift check).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const explicit = args[args.indexOf('--winmd') + 1] && args.includes('--winmd') ? args[args.indexOf('--winmd') + 1] : undefined;
const shared = join(root, '..', 'shared', 'winmd');
const winmd = explicit ?? process.env.WINMD_DIR ?? (existsSync(shared) ? shared : undefined);

execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
const cli = join(root, '.build', 'lib', 'cli.js');
const winmdArgs = winmd ? ['--winmd', winmd] : [];

if (!check) {
  execFileSync(process.execPath, [cli, 'generate', ...winmdArgs, '--config', join(root, 'winmd', 'projection.json'), '--out', join(root, 'lib', 'generated'), '--package', '--hashes', join(root, 'winmd', 'SHA256SUMS')], { stdio: 'inherit', cwd: root });
} else {
  const out = mkdtempSync(join(tmpdir(), 'winbg-generated-'));
  try {
    execFileSync(process.execPath, [cli, 'generate', ...winmdArgs, '--config', join(root, 'winmd', 'projection.json'), '--out', out, '--package'], { stdio: 'inherit', cwd: root });
    // The inputs must be the ones the committed output was generated from (winmd/SHA256SUMS).
    const { inputHashes } = await import(join(root, '.build', 'lib', 'generator', 'index.js'));
    if (winmd && inputHashes(winmd) !== readFileSync(join(root, 'winmd', 'SHA256SUMS'), 'utf8')) {
      console.error(`the .winmd files in ${winmd} are not the ones winmd/SHA256SUMS pins: the drift check needs those inputs`);
      process.exitCode = 1;
    }
    const committed = join(root, 'lib', 'generated');
    const names = new Set([...readdirSync(out), ...readdirSync(committed)]);
    const differing = [...names].filter((name) => !existsSync(join(out, name)) || !existsSync(join(committed, name)) || !readFileSync(join(out, name)).equals(readFileSync(join(committed, name))));
    if (differing.length > 0) {
      console.error(`lib/generated differs from what the generator writes now: ${differing.join(', ')}\nRun \`npm run generate\` and commit the result.`);
      process.exitCode = 1;
    } else {
      console.log(`lib/generated matches a fresh generation (${names.size} files).`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
