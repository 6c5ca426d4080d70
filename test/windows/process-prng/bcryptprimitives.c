// bcryptprimitives.dll for Wine 8, which has none: test tooling, never shipped.
//
// Rust's standard library (in bun.exe and deno.exe) imports ProcessPrng from bcryptprimitives.dll,
// Windows 10's user-mode random number generator, and a process whose import is missing exits at
// once with code 53, printing nothing. This DLL, placed next to the .exe, exports that one
// function. Windows documents it as `BOOL WINAPI ProcessPrng(PBYTE pbData, SIZE_T cbData)`, which
// always succeeds; here it is filled from RtlGenRandom (advapi32's SystemFunction036), which
// Wine implements. Built by scripts/wine-runtimes.mjs with mingw-w64.
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    // RtlGenRandom takes a ULONG length: larger requests go in pieces.
    ULONG piece = length > 0x40000000 ? 0x40000000 : (ULONG)length;
    if (!SystemFunction036(data, piece)) return FALSE;
    data += piece;
    length -= piece;
  }
  return TRUE;
}
