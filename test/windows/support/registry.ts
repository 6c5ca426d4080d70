// The registry, for the broker test: the LocalServer32 key a package manifest's com:ExeServer
// amounts to, and whether a proxy/stub is registered for an interface; advapi32 through koffi.
// Written to HKEY_CLASSES_ROOT itself: Wine 8's COM does not look up a per-user class
// (HKCU\Software\Classes) for LocalServer32 (REGDB_E_CLASSNOTREG), as Windows would.
import koffi from 'koffi';

// HKEY_CLASSES_ROOT is (HKEY)(ULONG_PTR)(LONG)0x80000000: sign-extended to pointer width (winreg.h).
const HKEY_CLASSES_ROOT = -0x80000000;
const RRF_RT_REG_SZ = 0x00000002;
const REG_SZ = 1;
const ERROR_FILE_NOT_FOUND = 2;

type Fn = ReturnType<ReturnType<typeof koffi.load>['func']>;
let api: { get: Fn; set: Fn; deleteTree: Fn } | undefined;
function advapi32(): NonNullable<typeof api> {
  if (api) return api;
  const lib = koffi.load('advapi32.dll');
  return (api = {
    get: lib.func('int32_t __stdcall RegGetValueW(intptr_t hkey, const char16_t *subKey, const char16_t *value, uint32_t flags, _Out_ uint32_t *type, void *data, _Inout_ uint32_t *size)'),
    set: lib.func('int32_t __stdcall RegSetKeyValueW(intptr_t hkey, const char16_t *subKey, const char16_t *value, uint32_t type, const uint16_t *data, uint32_t size)'),
    deleteTree: lib.func('int32_t __stdcall RegDeleteTreeW(intptr_t hkey, const char16_t *subKey)'),
  });
}

/**
 * What this runtime needs before a script's path to run it: Deno's `run` and its permissions
 * (koffi needs --allow-ffi), bare imports from our node_modules, no deno.lock written. Deno's own
 * child_process adds them when a script spawns process.execPath; COM, starting a LocalServer32
 * command line, does not.
 */
export function runtimeArgs(): string[] {
  return (globalThis as { Deno?: unknown }).Deno ? ['run', '-A', '--node-modules-dir=manual', '--no-lock'] : [];
}

/**
 * The LocalServer32 command line that runs `script` with this runtime (or `executable`, a copy of
 * it such as a launcher), then `args`, each quoted.
 */
export function serverCommandLine(script: string, args: readonly string[], executable = process.execPath): string {
  return [executable, ...runtimeArgs(), script, ...args].map((part) => (/^-/.test(part) ? part : `"${part}"`)).join(' ');
}

function check(code: number, what: string): void {
  if (code !== 0) throw new Error(`${what} failed with Win32 error ${code}`);
}

/** A string value of HKEY_CLASSES_ROOT, or null when the key or value does not exist. */
export function readClassesRoot(subKey: string, value: string | null = null): string | null {
  const data = new Uint16Array(1024);
  const size = [data.byteLength];
  const code = advapi32().get(HKEY_CLASSES_ROOT, subKey, value, RRF_RT_REG_SZ, [0], data, size) as number;
  if (code === ERROR_FILE_NOT_FOUND) return null;
  check(code, `RegGetValueW(HKCR\\${subKey})`);
  return String.fromCharCode(...data.subarray(0, size[0]! / 2 - 1));
}

/**
 * The longest LocalServer32 value Wine's COM starts: it reads the value into a buffer of MAX_PATH
 * characters with its NUL, and a longer one fails the activation with REGDB_E_CLASSNOTREG, as if
 * the class were not registered (measured: 259 characters start under Wine 8 and 10, 266 do not).
 * deno.exe's run flags and Wine's temporary folder (C:\users\<user>\AppData\Local\Temp) take
 * most of it, so the tests' folders have short names.
 */
export const MAX_LOCAL_SERVER = 259;

/** Registers `command` as the class's local server; returns the undo. */
export function registerLocalServer(clsid: string, command: string): () => void {
  // Measured under Wine; whether Windows has the same limit was not checked.
  if (process.env.WINBG_UNDER_WINE === '1' && command.length > MAX_LOCAL_SERVER) {
    throw new Error(`the LocalServer32 command line is ${command.length} characters, more than the ${MAX_LOCAL_SERVER} Wine's COM starts (REGDB_E_CLASSNOTREG): shorten the paths in it (${command})`);
  }
  const key = `CLSID\\{${clsid}}`;
  const text = Uint16Array.from([...command].map((c) => c.charCodeAt(0)).concat(0));
  check(advapi32().set(HKEY_CLASSES_ROOT, `${key}\\LocalServer32`, null, REG_SZ, text, text.byteLength) as number, `RegSetKeyValueW(HKCR\\${key}\\LocalServer32)`);
  return () => void advapi32().deleteTree(HKEY_CLASSES_ROOT, key);
}
