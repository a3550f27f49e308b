/**
 * Win32 error codes (winerror.h) MemScope meets when talking to the WinPmem device and the Service
 * Control Manager, mapped to one clear line that says what to do. Platform-independent: tested on
 * any OS.
 */
import { MemScopeError } from '../../main/engine/errors.js';

export const WIN32 = {
  ERROR_FILE_NOT_FOUND: 2,
  ERROR_PATH_NOT_FOUND: 3,
  ERROR_ACCESS_DENIED: 5,
  ERROR_INVALID_HANDLE: 6,
  ERROR_BAD_LENGTH: 24,
  ERROR_GEN_FAILURE: 31,
  ERROR_SHARING_VIOLATION: 32,
  ERROR_NOT_SUPPORTED: 50,
  ERROR_INVALID_PARAMETER: 87,
  ERROR_INSUFFICIENT_BUFFER: 122,
  ERROR_INVALID_FUNCTION: 1,
  ERROR_MORE_DATA: 234,
  ERROR_INVALID_IMAGE_HASH: 577,
  ERROR_NOACCESS: 998,
  ERROR_SERVICE_DATABASE_LOCKED: 1055,
  ERROR_SERVICE_ALREADY_RUNNING: 1056,
  ERROR_SERVICE_DISABLED: 1058,
  ERROR_SERVICE_DOES_NOT_EXIST: 1060,
  ERROR_SERVICE_NOT_ACTIVE: 1062,
  ERROR_SERVICE_MARKED_FOR_DELETE: 1072,
  ERROR_SERVICE_EXISTS: 1073,
  ERROR_IO_DEVICE: 1117,
  ERROR_DRIVER_BLOCKED: 1275,
} as const;

const W = WIN32;

/** The reason text for `code`, phrased for the device / driver context. */
export function win32Reason(code: number): string {
  switch (code) {
    case W.ERROR_FILE_NOT_FOUND:
    case W.ERROR_PATH_NOT_FOUND:
      return 'driver not loaded (no such device; load the WinPmem driver first)';
    case W.ERROR_ACCESS_DENIED:
      return 'access denied — run MemScope as administrator';
    case W.ERROR_SHARING_VIOLATION:
      return 'in use by another process';
    case W.ERROR_INVALID_HANDLE:
      return 'invalid handle (the device was closed)';
    case W.ERROR_INVALID_FUNCTION:
    case W.ERROR_INVALID_PARAMETER:
      return 'the driver rejected the request (invalid parameter: a different WinPmem driver version?)';
    case W.ERROR_BAD_LENGTH:
    case W.ERROR_INSUFFICIENT_BUFFER:
    case W.ERROR_MORE_DATA:
      return 'the driver says the buffer is too small (more memory runs than the reply holds?)';
    case W.ERROR_IO_DEVICE:
      return 'device I/O error (the driver could not map this physical memory)';
    case W.ERROR_GEN_FAILURE:
      return 'the device is not functioning';
    case W.ERROR_NOT_SUPPORTED:
      return 'not supported by this driver';
    case W.ERROR_NOACCESS:
      return 'invalid memory access in the driver';
    case W.ERROR_INVALID_IMAGE_HASH:
      return 'Windows cannot verify the driver\'s signature (use the signed winpmem_x64.sys from a WinPmem release)';
    case W.ERROR_DRIVER_BLOCKED:
      return 'the driver is blocked by Windows (vulnerable-driver blocklist / memory integrity)';
    case W.ERROR_SERVICE_DISABLED:
      return 'the driver service is disabled';
    case W.ERROR_SERVICE_DOES_NOT_EXIST:
      return 'no such driver service';
    case W.ERROR_SERVICE_MARKED_FOR_DELETE:
      return 'the driver service is marked for deletion; reboot or wait until its handles are closed';
    case W.ERROR_SERVICE_EXISTS:
      return 'a driver service of that name already exists';
    case W.ERROR_SERVICE_ALREADY_RUNNING:
      return 'the driver is already running';
    case W.ERROR_SERVICE_DATABASE_LOCKED:
      return 'the service database is locked (another installer running?)';
    case W.ERROR_SERVICE_NOT_ACTIVE:
      return 'the driver service is not running';
    default:
      return `Windows error ${code}`;
  }
}

/** An OS refusal ('io'), carrying the Win32 error code for callers that branch on it. */
export class Win32Error extends MemScopeError {
  constructor(message: string, readonly win32Error: number) {
    super('io', message);
    this.name = 'Win32Error';
  }
}

/** One-line MemScopeError for a failed Win32 call on `what` (a device path, a service name). */
export function win32Error(what: string, call: string, code: number): Win32Error {
  return new Win32Error(`${what}: ${win32Reason(code)} (${call}, Windows error ${code})`, code);
}
