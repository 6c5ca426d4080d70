import { systemMessage } from '../ffi/windows.js';

/** An HRESULT as a signed 32-bit integer, the way COM returns it. */
export type HRESULT = number;

// Values from the Windows SDK's winerror.h. HRESULT_FROM_WIN32(x) = 0x80070000 | x.
export const S_OK: HRESULT = 0;
export const S_FALSE: HRESULT = 1;
export const E_NOTIMPL: HRESULT = hr(0x80004001);
export const E_NOINTERFACE: HRESULT = hr(0x80004002);
export const E_POINTER: HRESULT = hr(0x80004003);
export const E_ABORT: HRESULT = hr(0x80004004);
export const E_FAIL: HRESULT = hr(0x80004005);
export const E_UNEXPECTED: HRESULT = hr(0x8000ffff);
export const E_BOUNDS: HRESULT = hr(0x8000000b);
export const E_CHANGED_STATE: HRESULT = hr(0x8000000c);
export const E_ILLEGAL_STATE_CHANGE: HRESULT = hr(0x8000000d);
export const E_ILLEGAL_METHOD_CALL: HRESULT = hr(0x8000000e);
export const RO_E_CLOSED: HRESULT = hr(0x80000013);
export const E_ACCESSDENIED: HRESULT = hr(0x80070005);
export const E_HANDLE: HRESULT = hr(0x80070006);
export const E_OUTOFMEMORY: HRESULT = hr(0x8007000e);
export const E_INVALIDARG: HRESULT = hr(0x80070057);
export const ERROR_NOT_SUPPORTED: HRESULT = hr(0x80070032);
export const ERROR_NOT_FOUND: HRESULT = hr(0x80070490);
export const ERROR_CANCELLED: HRESULT = hr(0x800704c7);
export const CLASS_E_NOAGGREGATION: HRESULT = hr(0x80040110);
export const CLASS_E_CLASSNOTAVAILABLE: HRESULT = hr(0x80040111);
export const REGDB_E_CLASSNOTREG: HRESULT = hr(0x80040154);
export const CO_E_NOTINITIALIZED: HRESULT = hr(0x800401f0);
export const CO_E_OBJNOTCONNECTED: HRESULT = hr(0x800401fd);
export const CO_E_OBJISREG: HRESULT = hr(0x800401fb);
export const CO_E_SERVER_EXEC_FAILURE: HRESULT = hr(0x80080005);
export const RPC_E_SERVERFAULT: HRESULT = hr(0x80010105);
export const RPC_E_CHANGED_MODE: HRESULT = hr(0x80010106);
export const RPC_E_DISCONNECTED: HRESULT = hr(0x80010108);
export const RPC_E_WRONG_THREAD: HRESULT = hr(0x8001010e);
export const RPC_S_SERVER_UNAVAILABLE: HRESULT = hr(0x800706ba);
export const RPC_S_CALL_FAILED: HRESULT = hr(0x800706be);
export const RPC_S_CALL_FAILED_DNE: HRESULT = hr(0x800706bf);
export const RPC_E_SERVER_DIED: HRESULT = hr(0x80010007);
export const RPC_E_SERVER_DIED_DNE: HRESULT = hr(0x80010012);
export const CO_E_SERVER_STOPPING: HRESULT = hr(0x80004028);
/** HRESULT_FROM_WIN32(APPMODEL_ERROR_NO_PACKAGE, 15700): the process has no package identity. */
export const APPMODEL_ERROR_NO_PACKAGE: HRESULT = hr(0x80073d54);

/** Package deployment (winerror.h; learn.microsoft.com/windows/win32/appxpkg/troubleshooting). */
export const ERROR_INSTALL_OPEN_PACKAGE_FAILED: HRESULT = hr(0x80073cf0);
export const ERROR_INSTALL_PACKAGE_NOT_FOUND: HRESULT = hr(0x80073cf1);
export const ERROR_INSTALL_RESOLVE_DEPENDENCY_FAILED: HRESULT = hr(0x80073cf3);
export const ERROR_INSTALL_REGISTRATION_FAILURE: HRESULT = hr(0x80073cf6);
export const ERROR_INSTALL_FAILED: HRESULT = hr(0x80073cf9);
export const ERROR_PACKAGE_ALREADY_EXISTS: HRESULT = hr(0x80073cfb);
export const ERROR_INSTALL_POLICY_FAILURE: HRESULT = hr(0x80073cff);
export const ERROR_PACKAGES_IN_USE: HRESULT = hr(0x80073d02);
export const ERROR_INSTALL_PACKAGE_DOWNGRADE: HRESULT = hr(0x80073d06);
export const TRUST_E_NOSIGNATURE: HRESULT = hr(0x800b0100);
export const CERT_E_UNTRUSTEDROOT: HRESULT = hr(0x800b0109);

/** Names and system texts of the codes above, for messages off Windows. */
const KNOWN: ReadonlyMap<HRESULT, readonly [name: string, meaning: string]> = new Map([
  [S_OK, ['S_OK', 'The operation completed successfully.']],
  [S_FALSE, ['S_FALSE', 'The operation completed successfully but returned false.']],
  [E_NOTIMPL, ['E_NOTIMPL', 'Not implemented.']],
  [E_NOINTERFACE, ['E_NOINTERFACE', 'No such interface supported.']],
  [E_POINTER, ['E_POINTER', 'Invalid pointer.']],
  [E_ABORT, ['E_ABORT', 'Operation aborted.']],
  [E_FAIL, ['E_FAIL', 'Unspecified error.']],
  [E_UNEXPECTED, ['E_UNEXPECTED', 'Catastrophic failure.']],
  [E_BOUNDS, ['E_BOUNDS', 'The operation attempted to access data outside the valid range.']],
  [E_CHANGED_STATE, ['E_CHANGED_STATE', 'A concurrent or interleaved operation changed the state of the object, invalidating this operation.']],
  [E_ILLEGAL_STATE_CHANGE, ['E_ILLEGAL_STATE_CHANGE', 'An illegal state change was requested.']],
  [E_ILLEGAL_METHOD_CALL, ['E_ILLEGAL_METHOD_CALL', 'A method was called at an unexpected time.']],
  [RO_E_CLOSED, ['RO_E_CLOSED', 'The object has been closed.']],
  [E_ACCESSDENIED, ['E_ACCESSDENIED', 'Access is denied.']],
  [E_HANDLE, ['E_HANDLE', 'The handle is invalid.']],
  [E_OUTOFMEMORY, ['E_OUTOFMEMORY', 'Not enough memory resources are available to complete this operation.']],
  [E_INVALIDARG, ['E_INVALIDARG', 'The parameter is incorrect.']],
  [ERROR_NOT_SUPPORTED, ['ERROR_NOT_SUPPORTED', 'The request is not supported.']],
  [ERROR_NOT_FOUND, ['ERROR_NOT_FOUND', 'Element not found.']],
  [ERROR_CANCELLED, ['ERROR_CANCELLED', 'The operation was canceled by the user.']],
  [CLASS_E_NOAGGREGATION, ['CLASS_E_NOAGGREGATION', 'Class does not support aggregation (or class object is remote).']],
  [CLASS_E_CLASSNOTAVAILABLE, ['CLASS_E_CLASSNOTAVAILABLE', 'ClassFactory cannot supply requested class.']],
  [REGDB_E_CLASSNOTREG, ['REGDB_E_CLASSNOTREG', 'Class not registered.']],
  [CO_E_NOTINITIALIZED, ['CO_E_NOTINITIALIZED', 'CoInitialize has not been called.']],
  [CO_E_OBJNOTCONNECTED, ['CO_E_OBJNOTCONNECTED', 'Object is not connected to server.']],
  [CO_E_OBJISREG, ['CO_E_OBJISREG', 'Object is already registered.']],
  [CO_E_SERVER_EXEC_FAILURE, ['CO_E_SERVER_EXEC_FAILURE', 'Server execution failed.']],
  [RPC_E_SERVERFAULT, ['RPC_E_SERVERFAULT', 'The server threw an exception.']],
  [RPC_E_CHANGED_MODE, ['RPC_E_CHANGED_MODE', 'Cannot change thread mode after it is set.']],
  [RPC_E_DISCONNECTED, ['RPC_E_DISCONNECTED', 'The object invoked has disconnected from its clients.']],
  [RPC_E_WRONG_THREAD, ['RPC_E_WRONG_THREAD', 'The application called an interface that was marshalled for a different thread.']],
  [RPC_S_SERVER_UNAVAILABLE, ['RPC_S_SERVER_UNAVAILABLE', 'The RPC server is unavailable.']],
  [RPC_S_CALL_FAILED, ['RPC_S_CALL_FAILED', 'The remote procedure call failed.']],
  [RPC_S_CALL_FAILED_DNE, ['RPC_S_CALL_FAILED_DNE', 'The remote procedure call failed and did not execute.']],
  [APPMODEL_ERROR_NO_PACKAGE, ['APPMODEL_ERROR_NO_PACKAGE', 'The process has no package identity.']],
  [CO_E_SERVER_STOPPING, ['CO_E_SERVER_STOPPING', 'Object server is stopping when OLE service contacts it.']],
  [RPC_E_SERVER_DIED, ['RPC_E_SERVER_DIED', 'The remote server machine does not exist or is unavailable.']],
  [RPC_E_SERVER_DIED_DNE, ['RPC_E_SERVER_DIED_DNE', 'The remote server machine does not exist or is unavailable, and the call did not execute.']],
  [ERROR_INSTALL_OPEN_PACKAGE_FAILED, ['ERROR_INSTALL_OPEN_PACKAGE_FAILED', 'Package could not be opened.']],
  [ERROR_INSTALL_PACKAGE_NOT_FOUND, ['ERROR_INSTALL_PACKAGE_NOT_FOUND', 'Package could not be found.']],
  [ERROR_INSTALL_RESOLVE_DEPENDENCY_FAILED, ['ERROR_INSTALL_RESOLVE_DEPENDENCY_FAILED', 'Package failed update, dependency, or conflict validation.']],
  [ERROR_INSTALL_REGISTRATION_FAILURE, ['ERROR_INSTALL_REGISTRATION_FAILURE', 'Package could not be registered.']],
  [ERROR_INSTALL_FAILED, ['ERROR_INSTALL_FAILED', 'Package install failed.']],
  [ERROR_PACKAGE_ALREADY_EXISTS, ['ERROR_PACKAGE_ALREADY_EXISTS', 'The package is already installed, and reinstallation of the package was blocked.']],
  [ERROR_INSTALL_POLICY_FAILURE, ['ERROR_INSTALL_POLICY_FAILURE', 'To install this application you need either a Windows developer license or a sideloading-enabled system.']],
  [ERROR_PACKAGES_IN_USE, ['ERROR_PACKAGES_IN_USE', 'The package could not be installed because resources it modifies are in use.']],
  [ERROR_INSTALL_PACKAGE_DOWNGRADE, ['ERROR_INSTALL_PACKAGE_DOWNGRADE', 'The package could not be installed because a higher version of this package is already installed.']],
  [TRUST_E_NOSIGNATURE, ['TRUST_E_NOSIGNATURE', 'No signature was present in the subject.']],
  [CERT_E_UNTRUSTEDROOT, ['CERT_E_UNTRUSTEDROOT', 'A certificate chain terminated in a root certificate which is not trusted.']],
]);

/**
 * True for the HRESULTs with which COM reports that the other process of a call is gone or has
 * disconnected the object (the process ended, crashed or was killed; CoDisconnectObject).
 */
export function isDisconnection(value: HRESULT): boolean {
  return value === RPC_E_DISCONNECTED || value === RPC_S_SERVER_UNAVAILABLE || value === RPC_S_CALL_FAILED || value === RPC_S_CALL_FAILED_DNE
    || value === RPC_E_SERVER_DIED || value === RPC_E_SERVER_DIED_DNE || value === CO_E_OBJNOTCONNECTED;
}

/** HRESULT_FROM_WIN32 (winerror.h): a Win32 error code as an HRESULT (0 stays S_OK). */
export function hresultFromWin32(code: number): HRESULT {
  return code <= 0 ? code | 0 : hr(0x80070000 | (code & 0xffff));
}

/** Reinterprets an unsigned 32-bit code (as winerror.h writes it) as the signed HRESULT. */
export function hr(code: number): HRESULT {
  return code | 0;
}

// Like the other helpers, these accept the unsigned spelling too (0x80004005 is a failure).
export function succeeded(value: HRESULT): boolean {
  return hr(value) >= 0;
}

export function failed(value: HRESULT): boolean {
  return hr(value) < 0;
}

/** `0x80004002` for E_NOINTERFACE. */
export function hresultHex(value: HRESULT): string {
  return '0x' + (value >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** The symbolic name of a well-known HRESULT, or undefined. */
export function hresultName(value: HRESULT): string | undefined {
  return KNOWN.get(hr(value))?.[0];
}

/**
 * What an HRESULT means: the system's text where Windows has one (FormatMessage), else the
 * table of common codes, else a description of its facility and code.
 */
export function hresultMessage(value: HRESULT): string {
  const code = hr(value);
  const system = systemMessage(code);
  if (system) return system;
  const known = KNOWN.get(code);
  if (known) return known[1];
  const facility = (code >>> 16) & 0x1fff;
  return facility === 7
    ? `Win32 error ${code & 0xffff}.`
    : `Unknown ${code < 0 ? 'error' : 'success code'} (facility ${facility}, code ${code & 0xffff}).`;
}

/**
 * A failed HRESULT as a JS error. `hresult` is the signed value COM returns; the message carries
 * its hex form, name and meaning, then what the caller was doing.
 *
 * @example
 * throw new ComError(E_NOINTERFACE, 'IBackgroundTask is not implemented by this object');
 */
export class ComError extends Error {
  override readonly name = 'ComError';
  readonly hresult: HRESULT;
  /** What the thrower said beyond the code's meaning (what was being done, and why). */
  readonly detail: string | undefined;

  constructor(hresult: HRESULT, detail?: string, options?: { cause?: unknown }) {
    const code = hr(hresult);
    const name = hresultName(code);
    const head = `${hresultHex(code)}${name ? ` ${name}` : ''}: ${hresultMessage(code)}`;
    super(detail ? `${head} ${detail}` : head, options);
    this.hresult = code;
    this.detail = detail || undefined;
  }

  /** The HRESULT as `0x8004xxxx`. */
  get code(): string {
    return hresultHex(this.hresult);
  }

  /** Throws a ComError when `hresult` is a failure; returns it otherwise (S_FALSE included). */
  static check(hresult: HRESULT, detail?: string): HRESULT {
    const code = hr(hresult);
    if (code < 0) throw new ComError(code, detail);
    return code;
  }

  /**
   * The HRESULT that a JS error stands for at the COM boundary: a ComError's own code,
   * E_FAIL for anything else (comtypes and C#/WinRT do the same).
   */
  static hresultOf(error: unknown): HRESULT {
    return error instanceof ComError && error.hresult < 0 ? error.hresult : E_FAIL;
  }
}

/** An error's message for a person: an Error's (a ComError's included), or the thrown value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
