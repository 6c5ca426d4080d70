// Package identity: whether this process runs as part of a package (MSIX or sparse), which
// background tasks registered by CLSID and ApplicationData need. GetCurrentPackageFullName and
// GetCurrentPackagePath (appmodel.h) answer APPMODEL_ERROR_NO_PACKAGE (15700) without one.
import { isWindows } from '../ffi/koffi.js';
import { windows } from '../ffi/windows.js';
import { APPMODEL_ERROR_NO_PACKAGE, hresultFromWin32 } from '../com/hresult.js';

const ERROR_INSUFFICIENT_BUFFER = 122;

/**
 * The process's package identity (MSIX, or a sparse package): its full name and install folder,
 * or null when the process has none, and always null off Windows.
 */
export function packageIdentity(): { fullName: string; path: string } | null {
  if (!isWindows) return null;
  const read = (fn: (length: [number], buffer: Uint16Array | null) => number): string | null => {
    const length: [number] = [0];
    let code = fn(length, null);
    if (hresultFromWin32(code) === APPMODEL_ERROR_NO_PACKAGE) return null;
    if (code !== ERROR_INSUFFICIENT_BUFFER && code !== 0) throw new Error(`package query failed with Win32 error ${code}`);
    const buffer = new Uint16Array(length[0]);
    code = fn(length, buffer);
    if (code !== 0) throw new Error(`package query failed with Win32 error ${code}`);
    return String.fromCharCode(...buffer.subarray(0, Math.max(0, length[0] - 1)));
  };
  const fullName = read((length, buffer) => windows().GetCurrentPackageFullName(length, buffer) as number);
  if (fullName === null) return null;
  return { fullName, path: read((length, buffer) => windows().GetCurrentPackagePath(length, buffer) as number) ?? '' };
}
