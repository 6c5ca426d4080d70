// Whether COM can marshal an interface across processes: the ProxyStubClsid32 of its IID in
// HKEY_CLASSES_ROOT\Interface ("Interface key", learn.microsoft.com/windows/win32/com/interface-key).
// Windows registers its own; under Wine the Windows.ApplicationModel.Background interfaces have
// one only after `node scripts/wine.mjs proxy` (scripts/wine-proxy.mjs).
import type { Guid } from '../../../lib/com/index.js';
import { readClassesRoot } from './registry.js';

/** The CLSID registered as the interface's proxy/stub, as written in the registry, or null. */
export function proxyStubClsid(iid: Guid): string | null {
  return readClassesRoot(`Interface\\{${iid}}\\ProxyStubClsid32`);
}
