// Whether COM can marshal an interface across processes: the ProxyStubClsid32 of its IID in
// HKEY_CLASSES_ROOT\Interface ("Interface key", learn.microsoft.com/windows/win32/com/interface-key).
// Windows registers its own; under Wine the Windows.ApplicationModel.Background interfaces have
// one only after `node scripts/wine.mjs proxy` (scripts/wine-proxy.mjs).
import koffi, { type LibraryHandle } from 'koffi';
import type { Guid } from '../../../lib/com/index.js';

// HKEY_CLASSES_ROOT is (HKEY)(ULONG_PTR)(LONG)0x80000000: sign-extended to pointer width (winreg.h).
const HKEY_CLASSES_ROOT = -0x80000000;
const RRF_RT_REG_SZ = 0x2;

let regGetValue: ReturnType<LibraryHandle['func']> | undefined;

/** The CLSID registered as the interface's proxy/stub, as written in the registry, or null. */
export function proxyStubClsid(iid: Guid): string | null {
  regGetValue ??= koffi
    .load('advapi32.dll')
    .func('long __stdcall RegGetValueW(intptr_t hkey, str16 subKey, str16 value, uint32_t flags, void *type, _Out_ uint16_t *data, _Inout_ uint32_t *size)');
  const data = new Uint16Array(64);
  const size = [data.byteLength];
  const status = regGetValue(HKEY_CLASSES_ROOT, `Interface\\{${iid}}\\ProxyStubClsid32`, null, RRF_RT_REG_SZ, null, data, size) as number;
  if (status !== 0) return null;
  // size counts bytes, the terminating NUL included.
  return String.fromCharCode(...data.subarray(0, Math.max(0, size[0]! / 2 - 1)));
}
