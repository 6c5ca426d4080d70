// Executable memory for winbg's few bytes of machine code (lib/ffi/unknown-code.ts), written once
// per process and never writable and executable at once: pages are mapped read-write, filled,
// then switched to read-execute (VirtualAlloc + VirtualProtect on Windows, mmap + mprotect
// elsewhere), and the instruction cache is made coherent where the platform asks for it
// (FlushInstructionCache on Windows; sys_icache_invalidate on macOS; on Linux, arm64's kernel
// cleans the caches itself when a page becomes executable). Nothing here is ever freed.
import { isWindows, koffi, type Pointer } from './koffi.js';

/** Why executable memory could not be had, when it could not; see {@link executableCopy}. */
export let executableFailure: string | null = null;

// Keeps the libraries loaded: koffi unloads one when nothing refers to it any more.
const libraries: unknown[] = [];

/**
 * A read-execute copy of `code`, or null (with {@link executableFailure} saying why) when this
 * platform or process refuses executable memory (for example a Windows process whose dynamic
 * code policy forbids it).
 */
export function executableCopy(code: Uint8Array): Pointer | null {
  try {
    return isWindows ? windowsCopy(code) : process.platform === 'darwin' ? darwinCopy(code) : posixCopy(code);
  } catch (error) {
    executableFailure = error instanceof Error ? error.message : String(error);
    return null;
  }
}

function windowsCopy(code: Uint8Array): Pointer {
  const kernel32 = koffi.load('kernel32.dll');
  libraries.push(kernel32);
  const VirtualAlloc = kernel32.func('void * __stdcall VirtualAlloc(void *address, size_t size, uint32_t type, uint32_t protect)');
  const VirtualProtect = kernel32.func('int32_t __stdcall VirtualProtect(void *address, size_t size, uint32_t protect, _Out_ uint32_t *old)');
  const VirtualFree = kernel32.func('int32_t __stdcall VirtualFree(void *address, size_t size, uint32_t type)');
  const FlushInstructionCache = kernel32.func('int32_t __stdcall FlushInstructionCache(void *process, void *address, size_t size)');
  const GetCurrentProcess = kernel32.func('void * __stdcall GetCurrentProcess()');
  const GetLastError = kernel32.func('uint32_t __stdcall GetLastError()');
  const MEM_COMMIT_RESERVE = 0x3000;
  const MEM_RELEASE = 0x8000;
  const PAGE_READWRITE = 0x04;
  const PAGE_EXECUTE_READ = 0x20;
  const memory = VirtualAlloc(null, code.length, MEM_COMMIT_RESERVE, PAGE_READWRITE) as Pointer | null;
  if (!memory) throw new Error(`VirtualAlloc failed (Win32 error ${GetLastError()})`);
  koffi.encode(memory, 0, 'uint8_t', code, code.length);
  if (!VirtualProtect(memory, code.length, PAGE_EXECUTE_READ, [0])) {
    const error = GetLastError() as number;
    VirtualFree(memory, 0, MEM_RELEASE);
    throw new Error(`VirtualProtect(PAGE_EXECUTE_READ) failed (Win32 error ${error}); the process may forbid dynamic code`);
  }
  FlushInstructionCache(GetCurrentProcess(), memory, code.length);
  return memory;
}

interface Posix {
  mmap: (...args: unknown[]) => Pointer | null;
  mprotect: (...args: unknown[]) => number;
  munmap: (...args: unknown[]) => number;
}

function posixLibrary(names: readonly string[]): Posix {
  let lib: ReturnType<typeof koffi.load> | undefined;
  const errors: string[] = [];
  for (const name of names) {
    try {
      lib = koffi.load(name);
      break;
    } catch (error) {
      errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (!lib) throw new Error(`cannot load the C library (${errors.join('; ')})`);
  libraries.push(lib);
  return {
    mmap: lib.func('void *mmap(void *address, size_t length, int prot, int flags, int fd, intptr_t offset)') as Posix['mmap'],
    mprotect: lib.func('int mprotect(void *address, size_t length, int prot)') as Posix['mprotect'],
    munmap: lib.func('int munmap(void *address, size_t length)') as Posix['munmap'],
  };
}

const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const MAP_PRIVATE = 2;
const MAP_FAILED = (1n << 64n) - 1n; // (void *)-1

/**
 * mmap a read-write page, fill it, mprotect it read-execute. MAP_ANONYMOUS is 0x20 on Linux and
 * 0x1000 (MAP_ANON) on macOS; MAP_PRIVATE and the PROT_ values are the same on both.
 */
function mappedCopy(code: Uint8Array, libraries: readonly string[], anonymous: number, refused: string): Pointer {
  const libc = posixLibrary(libraries);
  const memory = libc.mmap(null, code.length, PROT_READ | PROT_WRITE, MAP_PRIVATE | anonymous, -1, 0);
  if (!memory || memory === MAP_FAILED) throw new Error('mmap of a read-write page failed');
  koffi.encode(memory, 0, 'uint8_t', code, code.length);
  if (libc.mprotect(memory, code.length, PROT_READ | PROT_EXEC) !== 0) {
    libc.munmap(memory, code.length);
    throw new Error(`mprotect(PROT_READ | PROT_EXEC) failed; ${refused}`);
  }
  return memory;
}

function posixCopy(code: Uint8Array): Pointer {
  return mappedCopy(code, ['libc.so.6', 'libc.so', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1'], 0x20, 'the system may forbid executable memory');
}

// macOS: then the instruction cache; never run by winbg's tests (no Mac here).
function darwinCopy(code: Uint8Array): Pointer {
  const memory = mappedCopy(code, ['/usr/lib/libSystem.B.dylib'], 0x1000,
    'a hardened runtime without the allow-unsigned-executable-memory entitlement refuses it');
  const system = koffi.load('/usr/lib/libSystem.B.dylib');
  libraries.push(system);
  system.func('void sys_icache_invalidate(void *start, size_t length)')(memory, code.length);
  return memory;
}
