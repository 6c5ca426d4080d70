// winbg's proxy/stub DLL for the Wine test tier: `node scripts/wine.mjs proxy [--idl FILE]`.
//
// Cross-process calls on IBackgroundTask, IBackgroundTaskInstance & co. need a proxy/stub for
// each interface (and for IInspectable, their base), registered under HKCR\Interface\{IID}.
// Windows ships them; Wine 8 has none for these interfaces. So, for tests only, this builds one
// from IDL with Wine's widl and mingw-w64 and registers it in the Wine prefix with regsvr32. winbg
// itself never needs it: on Windows the system's proxies are used.
//
//   .cache/wine/proxy/src/         the IDL and what widl writes from it (kept for reading)
//   .cache/wine/proxy/winbgps.dll  the DLL that the prefix's registry points at
//   .cache/wine/proxy/inputs.sha256  hash of everything the DLL was built from
//
// The IDL comes from --idl FILE (or WINBG_PROXY_IDL), else from winbg's generator: emitIdl() of
// .build/lib/generator/idl.js over the Windows metadata, for the roots in IDL_ROOTS. The sources
// this project owns (HSTRING marshalling, the dlldata wrapper, the .def) are in test/windows/proxy/.
//
// Plain ESM, Node built-ins only, like wine.mjs; wine.mjs loads this module for `proxy` and `status`.

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { findOnPath, spawnWineSync, toWindowsPath, wineEnv, winePaths, wineStatus } from './wine.mjs';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = path.join(projectRoot, 'test', 'windows', 'proxy');

/**
 * CLSID of the DLL's proxy/stub factory: PROXY_CLSID_IS in test/windows/proxy/dlldata-wrapper.c.
 * regsvr32 writes it as ProxyStubClsid32 of every interface in the DLL.
 */
export const PROXY_CLSID = '{39FE75F6-8B52-4A38-9E42-F8B23222CF87}';

/** IID of Windows.ApplicationModel.Background.IBackgroundTask: the registration we check for. */
export const IID_IBACKGROUNDTASK = '{7D13D534-FD12-43CE-8C22-EA1FF13C06DF}';

/** The types whose closure the IDL declares. */
export const IDL_ROOTS = [
  'Windows.ApplicationModel.Background.IBackgroundTask',
  'Windows.ApplicationModel.Background.IBackgroundTaskInstance',
  'Windows.ApplicationModel.Background.IBackgroundTaskDeferral',
  'Windows.ApplicationModel.Background.BackgroundTaskCanceledEventHandler',
  'Windows.ApplicationModel.Background.IBackgroundTaskRegistration',
];

/** Where Debian's wine64-tools puts Wine's IDL files and headers, and its PE import libraries. */
const WINE_INCLUDE = '/usr/include/wine';
const WINE_WINDOWS_INCLUDE = '/usr/include/wine/wine/windows';
const WINE_PE_LIBS = '/usr/lib/x86_64-linux-gnu/wine/x86_64-windows';
const MINGW_GCC = 'x86_64-w64-mingw32-gcc';

/** Every path of the proxy build. The cache folder is resolved, so that the registry holds a real path. */
export function proxyPaths() {
  const { cacheDir } = winePaths();
  let realCache = cacheDir;
  try {
    realCache = fs.realpathSync(cacheDir);
  } catch {
    // not created yet; prepare makes it
  }
  const dir = path.join(realCache, 'proxy');
  return { dir, src: path.join(dir, 'src'), dll: path.join(dir, 'winbgps.dll'), hash: path.join(dir, 'inputs.sha256') };
}

/** Why the build tools are not usable, or null when they are. */
function missingTools() {
  const missing = [];
  if (!findOnPath('widl') || !fs.existsSync(path.join(WINE_WINDOWS_INCLUDE, 'inspectable.idl')) || !fs.existsSync(path.join(WINE_PE_LIBS, 'libwinecrt0.a'))) {
    missing.push("widl with Wine's headers and PE import libraries (Debian package wine64-tools)");
  }
  if (!findOnPath(MINGW_GCC)) missing.push(`${MINGW_GCC} (Debian package mingw-w64)`);
  if (missing.length === 0) return null;
  return (
    `cannot build the proxy/stub DLL: missing ${missing.join(' and ')}. ` +
    'Install them (as root: apt-get install -y --no-install-recommends wine64-tools mingw-w64).'
  );
}

/** The winmd folder as scripts/generate.mjs finds it: WINMD_DIR, else ../shared/winmd beside the repository. */
function winmdHint() {
  const shared = path.join(projectRoot, '..', 'shared', 'winmd');
  return process.env.WINMD_DIR ?? (fs.existsSync(shared) ? shared : undefined);
}

/**
 * The IDL text: the file given, or what winbg's generator emits for IDL_ROOTS. Throws with a
 * message that says what to do when the generator is not there.
 * @returns {Promise<{ text: string, source: string }>}
 */
async function readIdl(idlFile) {
  if (idlFile) {
    try {
      return { text: fs.readFileSync(idlFile, 'utf8'), source: path.resolve(idlFile) };
    } catch (error) {
      throw new Error(`cannot read --idl ${idlFile}: ${error.message}`);
    }
  }
  const build = path.join(projectRoot, '.build', 'lib');
  const idlModule = path.join(build, 'generator', 'idl.js');
  const noGenerator = 'the IDL generator is not available: emitIdl(metadata, roots) from lib/generator/idl.ts, compiled to .build/lib/generator/idl.js';
  const instead = 'or give an IDL file with --idl FILE (or WINBG_PROXY_IDL)';
  if (!fs.existsSync(path.join(build, 'generator', 'index.js'))) {
    throw new Error(`${noGenerator}; .build/ has no compiled generator: run npx tsc -p tsconfig.json first, ${instead}.`);
  }
  if (!fs.existsSync(idlModule)) {
    throw new Error(`${noGenerator}; ${path.relative(projectRoot, idlModule)} does not exist (is lib/generator/idl.ts in this checkout?), ${instead}.`);
  }
  const { emitIdl } = await import(pathToFileURL(idlModule).href);
  if (typeof emitIdl !== 'function') throw new Error(`${noGenerator}; ${path.relative(projectRoot, idlModule)} has no emitIdl export, ${instead}.`);
  const { Metadata } = await import(pathToFileURL(path.join(build, 'winmd', 'index.js')).href);
  const { winmdDirectory } = await import(pathToFileURL(path.join(build, 'generator', 'index.js')).href);
  const dir = winmdDirectory(winmdHint());
  const text = emitIdl(Metadata.load(dir), IDL_ROOTS);
  if (typeof text !== 'string' || !/^\s*import\s+"inspectable\.idl"\s*;/.test(text)) {
    throw new Error(`emitIdl returned ${typeof text === 'string' ? 'IDL that does not start with import "inspectable.idl";' : typeof text}`);
  }
  return { text, source: `emitIdl over ${dir}` };
}

/** The commands that turn src/winbg.idl into the DLL, in order. They are part of the inputs' hash. */
function buildCommands(paths) {
  const widl = ['widl', '-m64', `-I${WINE_WINDOWS_INCLUDE}`];
  const widlAll = (name, idl) => [...widl, '-h', '-p', '-u', '-H', `${name}.h`, '-P', `${name}_p.c`, '-U', `${name}_i.c`, idl];
  return [
    widlAll('winbg', 'winbg.idl'),
    // Wine has no proxy for IInspectable either; the one from its own inspectable.idl goes in too.
    widlAll('inspectable', path.join(WINE_WINDOWS_INCLUDE, 'inspectable.idl')),
    // The ProxyFileInfo list and the Dll* entry points (rpcproxy.h), for both IDL files.
    [...widl, '--dlldata-only', '-o', 'dlldata-generated.c', 'winbg', 'inspectable'],
    [
      MINGW_GCC, '-O2', '-shared', '-o', 'winbgps.dll',
      // PROXY_DELEGATION: interfaces derived from another (all of ours, from IInspectable)
      // forward the base's methods to its proxy; REGISTER_PROXY_DLL: DllRegisterServer and
      // DllUnregisterServer from rpcproxy.h; WINE_NO_UNICODE_MACROS: Wine's headers without the
      // A/W macro names that clash with widl's output.
      '-DPROXY_DELEGATION', '-DREGISTER_PROXY_DLL', '-DWINE_NO_UNICODE_MACROS',
      '-I.', `-I${WINE_WINDOWS_INCLUDE}`, `-I${WINE_INCLUDE}`,
      'winbg_p.c', 'winbg_i.c', 'inspectable_p.c', 'inspectable_i.c',
      path.join(sourceDir, 'dlldata-wrapper.c'), path.join(sourceDir, 'hstring-marshal.c'), path.join(sourceDir, 'winbgps.def'),
      // winecrt0 holds __wine_setjmpex and the like that widl's exception frames call.
      `-L${WINE_PE_LIBS}`, '-lwinecrt0', '-lrpcrt4', '-lcombase', '-lole32', '-luuid',
    ],
  ];
}

/** SHA-256 over the IDL, our sources, Wine's inspectable.idl and the commands. */
function inputsHash(idlText, commands) {
  const hash = crypto.createHash('sha256');
  const add = (label, data) => hash.update(`${label}\0${data.length}\0`).update(data);
  add('idl', idlText);
  for (const name of fs.readdirSync(sourceDir).sort()) add(name, fs.readFileSync(path.join(sourceDir, name)));
  add('inspectable.idl', fs.readFileSync(path.join(WINE_WINDOWS_INCLUDE, 'inspectable.idl')));
  add('commands', JSON.stringify(commands));
  return hash.digest('hex');
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Runs widl and gcc in `cwd`; throws with the tool's output on failure. */
function runTool(command, cwd) {
  const [program, ...args] = command;
  const result = spawnSync(program, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    throw new Error(`${program} failed (${result.error?.message ?? `exit ${result.status}`}):\n  ${command.join(' ')}\n${output}`);
  }
}

/**
 * Builds the DLL unless the recorded hash says it was built from the same inputs.
 * @returns {Promise<{ rebuilt: boolean, source: string }>}
 */
async function buildProxy(idlFile, log) {
  const paths = proxyPaths();
  const idl = await readIdl(idlFile);
  const commands = buildCommands(paths);
  const hash = inputsHash(idl.text, commands);
  if (fs.existsSync(paths.dll) && readText(paths.hash)?.trim() === hash) return { rebuilt: false, source: idl.source };

  log(`Building the proxy/stub DLL from ${idl.source} ...`);
  fs.mkdirSync(paths.dir, { recursive: true });
  // Built in a folder of its own and moved into place when complete: a build cut short never
  // leaves a DLL that looks current.
  const work = fs.mkdtempSync(path.join(paths.dir, '.build-'));
  try {
    fs.writeFileSync(path.join(work, 'winbg.idl'), idl.text);
    for (const command of commands) runTool(command, work);
    fs.renameSync(path.join(work, 'winbgps.dll'), paths.dll);
    fs.rmSync(paths.src, { recursive: true, force: true });
    fs.renameSync(work, paths.src);
  } catch (error) {
    fs.rmSync(work, { recursive: true, force: true });
    throw error;
  }
  fs.writeFileSync(paths.hash, `${hash}\n`);
  return { rebuilt: true, source: idl.source };
}

/** The "name"=value lines of one key in a Wine registry file (system.reg), or null. */
function registryKey(text, key) {
  // Keys are written as [Software\\Classes\\...] <timestamp> with backslashes doubled, values one
  // per line until a blank line; key names compare case-insensitively, as in the registry.
  const header = `[${key.replaceAll('\\', '\\\\')}]`.toLowerCase();
  for (const block of text.split(/\r?\n\r?\n/)) {
    const first = block.indexOf('[');
    if (first >= 0 && block.slice(first).toLowerCase().startsWith(header)) return block;
  }
  return null;
}

/**
 * Whether the prefix's registry, as last saved to system.reg, routes IBackgroundTask to our
 * factory and our factory to this DLL. Reads a file only, for `status`, which starts no Wine
 * process; a change that wineserver has not saved yet is not seen.
 */
function registeredPerSystemReg(dll) {
  const text = readText(path.join(winePaths().prefix, 'system.reg'));
  if (!text) return false;
  const iface = registryKey(text, `Software\\Classes\\Interface\\${IID_IBACKGROUNDTASK}\\ProxyStubClsid32`);
  const server = registryKey(text, `Software\\Classes\\CLSID\\${PROXY_CLSID}\\InprocServer32`);
  const defaultValue = (block) => /^@="(.*)"$/m.exec(block ?? '')?.[1]?.replaceAll('\\\\', '\\');
  return (
    defaultValue(iface)?.toUpperCase() === PROXY_CLSID &&
    defaultValue(server)?.toLowerCase() === toWindowsPath(dll).toLowerCase()
  );
}

/**
 * Whether a wineserver serves the prefix now. wineserver runs in a folder named
 * server-<st_dev>-<st_ino> (hex) of the prefix, under a temporary folder whose name varies, so
 * this looks for a wineserver process whose working directory has that name (Linux /proc).
 */
function wineserverRunning(prefix) {
  let stat;
  try {
    stat = fs.statSync(prefix);
  } catch {
    return false;
  }
  const serverDir = `server-${stat.dev.toString(16)}-${stat.ino.toString(16)}`;
  let pids;
  try {
    pids = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return true; // cannot tell: assume it does, which only costs a query
  }
  return pids.some((pid) => {
    try {
      if (!/^wineserver/.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8'))) return false;
      return path.basename(fs.readlinkSync(`/proc/${pid}/cwd`)) === serverDir;
    } catch {
      return false; // gone, or not ours to inspect
    }
  });
}

/**
 * Whether the DLL is registered, cheaply and correctly: with no wineserver running, system.reg is
 * the registry (wineserver saves it when it ends); with one running, it may hold changes not
 * saved yet, so ask it through `wine reg query`.
 */
function isRegistered(dll) {
  if (!wineserverRunning(winePaths().prefix)) return registeredPerSystemReg(dll);
  return registrationProblem(dll) === null;
}

/** The default value of a key as `wine reg query` reports it, or null. */
function queryDefault(key) {
  const result = spawnWineSync('wine', ['reg', 'query', key, '/ve'], { env: wineEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  if (result.status !== 0) return null;
  // "    (Default)    REG_SZ    {39FE...}"
  const line = result.stdout.split(/\r?\n/).find((l) => /\bREG_(EXPAND_)?SZ\b/.test(l));
  return line ? line.replace(/^.*?\bREG_(EXPAND_)?SZ\s+/, '').trim() : null;
}

/**
 * What is wrong with the prefix's registration of the DLL, or null when IBackgroundTask's
 * ProxyStubClsid32 is our factory and our factory is this DLL. Asks the wineserver through
 * `wine reg query`: about 0.1 s while one runs, seconds when it has to start one.
 */
function registrationProblem(dll) {
  const psClsid = queryDefault(`HKCR\\Interface\\${IID_IBACKGROUNDTASK}\\ProxyStubClsid32`);
  if (psClsid?.toUpperCase() !== PROXY_CLSID) {
    return `HKCR\\Interface\\${IID_IBACKGROUNDTASK}\\ProxyStubClsid32 is ${psClsid ?? 'missing'}, not ${PROXY_CLSID}`;
  }
  const server = queryDefault(`HKCR\\CLSID\\${PROXY_CLSID}\\InprocServer32`);
  if (server?.toLowerCase() !== toWindowsPath(dll).toLowerCase()) {
    return `HKCR\\CLSID\\${PROXY_CLSID}\\InprocServer32 is ${server ?? 'missing'}, not ${toWindowsPath(dll)}`;
  }
  return null;
}

/** regsvr32 /s, then checks the keys it should have written. */
function registerProxy(dll) {
  const result = spawnWineSync('wine', ['regsvr32', '/s', toWindowsPath(dll)], { env: wineEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`wine regsvr32 /s ${toWindowsPath(dll)} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`);
  }
  // Asked of the running wineserver, which holds the registry and saves it to system.reg every
  // 30 s and when it ends. Seen on prefixes made a minute before: regsvr32 exits 0 and `wine reg
  // query` keeps finding no key (for over 10 s of asking), while system.reg, once the wineserver
  // has ended and saved it, has them. Only then is waiting for it to end (which other processes of
  // the prefix may delay) worth it.
  const problem = registrationProblem(dll);
  if (problem === null) return;
  spawnWineSync('wineserver', ['-w'], { env: wineEnv(), stdio: 'ignore', timeout: 120_000 });
  if (!registeredPerSystemReg(dll)) throw new Error(`after wine regsvr32, ${problem}, and the saved registry (system.reg) does not have it either.`);
}

/**
 * What the proxy looks like now, without building or starting Wine: whether the DLL is built and
 * whether system.reg says it is registered (a registration of the last 30 s may not be saved yet).
 * @returns {{ built: boolean, registered: boolean, dll: string }}
 */
export function proxyStatus() {
  const paths = proxyPaths();
  const built = fs.existsSync(paths.dll);
  return { built, registered: built && registeredPerSystemReg(paths.dll), dll: paths.dll };
}

/**
 * Builds the DLL when its inputs changed and makes sure the prefix has it registered. Fast when
 * nothing changed: a hash of the inputs, and a read of system.reg or (while a wineserver runs) two
 * `wine reg query`. Never throws.
 * @param {{ idl?: string, log?: (line: string) => void }} [options] idl: an IDL file to use
 *   instead of the generator's output (default: the WINBG_PROXY_IDL environment variable).
 * @returns {Promise<{ ok: true, dll: string, rebuilt: boolean, registeredNow: boolean, source: string }
 *   | { ok: false, reason: string }>}
 */
export async function ensureProxyRegistered({ idl = process.env.WINBG_PROXY_IDL || undefined, log = () => {} } = {}) {
  try {
    const wine = wineStatus();
    if (!wine.ok) return { ok: false, reason: wine.reason };
    const tools = missingTools();
    if (tools) return { ok: false, reason: tools };
    const { rebuilt, source } = await buildProxy(idl, log);
    const { dll } = proxyPaths();
    let registeredNow = false;
    if (rebuilt || !isRegistered(dll)) {
      log(`Registering ${toWindowsPath(dll)} with wine regsvr32 ...`);
      registerProxy(dll);
      registeredNow = true;
    }
    return { ok: true, dll, rebuilt, registeredNow, source };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
