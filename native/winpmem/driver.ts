/**
 * Load and unload the WinPmem kernel driver through the Service Control Manager, as WinPmem's own
 * tools do (kernel/executable/winpmem.cpp install_driver/uninstall_driver; go-winpmem install.go):
 * OpenSCManagerW → CreateServiceW(SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, the .sys path) →
 * StartServiceW; on unload ControlService(SERVICE_CONTROL_STOP) + DeleteService. A service that
 * already exists is reused only when QueryServiceConfigW says its binary is the very .sys file we were
 * given; any other binary is refused before it is started, stopped or deleted (Windows 10+ registers
 * Microsoft's persistent-memory driver as `pmem`: WinPmem issue #53). A service that already runs is
 * used and left running (we did not start it).
 *
 * MemScope does not ship the driver. Get the signed `winpmem_x64.sys` from a WinPmem release
 * (https://github.com/Velocidex/WinPmem/releases: the winpmem_mini_x64 executable embeds it, and
 * `winpmem_mini_x64.exe -d <dir>` or the go-winpmem `extract` command writes it out; Velociraptor
 * ships the same driver). Windows refuses unsigned drivers (ERROR_INVALID_IMAGE_HASH) and, with
 * memory integrity on, drivers on its blocklist (ERROR_DRIVER_BLOCKED).
 */
import { existsSync, statSync } from 'node:fs';
import { win32 } from 'node:path';
import { MemScopeError, usageError } from '../../main/engine/errors.js';
import { PMEM_SERVICE_NAME } from './protocol.js';
import { type Handle, isInvalidHandle, loadKernel32 } from './win32-device.js';
import { WIN32, win32Error, win32Reason } from './win32-errors.js';
import { loadDll, loadKoffi } from './win32-ffi.js';

export interface Advapi32 {
  OpenSCManagerW(machine: null, database: null, access: number): Handle;
  CreateServiceW(
    scm: Handle, name: string, displayName: string, access: number, serviceType: number, startType: number, errorControl: number,
    binaryPath: string, group: null, tagId: null, dependencies: null, account: null, password: null,
  ): Handle;
  OpenServiceW(scm: Handle, name: string, access: number): Handle;
  StartServiceW(service: Handle, argc: number, argv: null): number;
  /** `status` receives a SERVICE_STATUS (7 DWORDs). */
  ControlService(service: Handle, control: number, status: Uint8Array): number;
  DeleteService(service: Handle): number;
  /**
   * QueryServiceConfigW (sized, then filled) decoded to the service's lpBinaryPathName, or the Win32
   * error that stopped it. The handle needs SERVICE_QUERY_CONFIG.
   */
  QueryServiceBinaryPath(service: Handle): { readonly binaryPath: string } | { readonly error: number };
  CloseServiceHandle(h: Handle): number;
  GetLastError(): number;
}

// winsvc.h / winnt.h
export const SC_MANAGER_CONNECT = 0x0001;
export const SC_MANAGER_CREATE_SERVICE = 0x0002;
export const SERVICE_QUERY_CONFIG = 0x0001;
export const SERVICE_QUERY_STATUS = 0x0004;
export const SERVICE_START = 0x0010;
export const SERVICE_STOP = 0x0020;
export const DELETE = 0x00010000;
export const SERVICE_KERNEL_DRIVER = 0x1;
export const SERVICE_DEMAND_START = 0x3;
export const SERVICE_ERROR_NORMAL = 0x1;
export const SERVICE_CONTROL_STOP = 0x1;
export const SERVICE_STATUS_SIZE = 28;
const SERVICE_ACCESS = SERVICE_QUERY_CONFIG | SERVICE_START | SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE;
/** QueryServiceConfigW's documented maximum reply (8 KiB); a larger "needed" size is not believed. */
const MAX_SERVICE_CONFIG = 8 * 1024;

const WHERE = 'get the signed winpmem_x64.sys from a WinPmem release (github.com/Velocidex/WinPmem/releases)';

/** The .sys path must be an existing file: say where to get it otherwise. */
export function checkDriverPath(path: string): void {
  if (!path) throw usageError(`no WinPmem driver given: ${WHERE}`);
  if (!/\.sys$/i.test(path)) throw usageError(`${path}: not a driver (.sys) file: ${WHERE}`);
  if (!existsSync(path)) throw usageError(`${path}: no such file: ${WHERE}`);
  if (!statSync(path).isFile()) throw usageError(`${path}: not a file: ${WHERE}`);
}

/**
 * The file an SCM ImagePath names, as a comparable DOS path (lower case). Kernel-driver ImagePaths
 * come as `\??\C:\…` (what the SCM stores for a DOS path), `\\?\C:\…`, `\SystemRoot\…`,
 * `System32\…` (relative to %SystemRoot%) or a plain, possibly quoted, `C:\…`.
 */
export function driverImageFile(imagePath: string, systemRoot: string): string {
  let p = imagePath.trim().replace(/^"(.*)"$/, '$1').replace(/\//g, '\\');
  p = p.replace(/^\\(\?\?|\\\?)\\/, '');
  if (/^\\systemroot\\/i.test(p)) p = win32.join(systemRoot, p.slice('\\SystemRoot\\'.length));
  else if (!win32.isAbsolute(p)) p = win32.join(systemRoot, p);
  return win32.normalize(p).toLowerCase();
}

let advapi32: Advapi32 | undefined;

export function loadAdvapi32(): Advapi32 {
  if (advapi32) return advapi32;
  const lib = loadDll('advapi32.dll');
  const k = loadKernel32();
  const koffi = loadKoffi();
  // winsvc.h QUERY_SERVICE_CONFIGW; the strings it points to follow it in the same buffer.
  const config = koffi.struct('QUERY_SERVICE_CONFIGW', {
    dwServiceType: 'uint32_t', dwStartType: 'uint32_t', dwErrorControl: 'uint32_t',
    lpBinaryPathName: 'const char16_t *', lpLoadOrderGroup: 'const char16_t *', dwTagId: 'uint32_t',
    lpDependencies: 'const char16_t *', lpServiceStartName: 'const char16_t *', lpDisplayName: 'const char16_t *',
  });
  const queryConfig = lib.func('int __stdcall QueryServiceConfigW(intptr_t service, void *config, uint32_t size, _Out_ uint32_t *needed)');
  advapi32 = {
    OpenSCManagerW: lib.func('intptr_t __stdcall OpenSCManagerW(const char16_t *machine, const char16_t *database, uint32_t access)'),
    CreateServiceW: lib.func('intptr_t __stdcall CreateServiceW(intptr_t scm, const char16_t *name, const char16_t *displayName, uint32_t access, uint32_t serviceType, uint32_t startType, uint32_t errorControl, const char16_t *binaryPath, const char16_t *group, void *tagId, const char16_t *dependencies, const char16_t *account, const char16_t *password)'),
    OpenServiceW: lib.func('intptr_t __stdcall OpenServiceW(intptr_t scm, const char16_t *name, uint32_t access)'),
    StartServiceW: lib.func('int __stdcall StartServiceW(intptr_t service, uint32_t argc, void *argv)'),
    ControlService: lib.func('int __stdcall ControlService(intptr_t service, uint32_t control, void *status)'),
    DeleteService: lib.func('int __stdcall DeleteService(intptr_t service)'),
    CloseServiceHandle: lib.func('int __stdcall CloseServiceHandle(intptr_t h)'),
    QueryServiceBinaryPath(service) {
      const needed = [0];
      if (queryConfig(service, null, 0, needed)) return { error: WIN32.ERROR_INVALID_PARAMETER };
      const sizing = k.GetLastError();
      if (sizing !== WIN32.ERROR_INSUFFICIENT_BUFFER) return { error: sizing };
      const size = needed[0] as number;
      if (!(size > 0 && size <= MAX_SERVICE_CONFIG)) return { error: WIN32.ERROR_INSUFFICIENT_BUFFER };
      const buffer: unknown = koffi.alloc('uint8_t', size);
      try {
        if (!queryConfig(service, buffer, size, needed)) return { error: k.GetLastError() };
        const decoded = koffi.decode(buffer, config) as { lpBinaryPathName: string | null };
        return { binaryPath: decoded.lpBinaryPathName ?? '' };
      } finally {
        koffi.free(buffer);
      }
    },
    GetLastError: () => k.GetLastError(),
  } as Advapi32;
  return advapi32;
}

export interface LoadedDriver {
  readonly serviceName: string;
  /** The driver was already running before us (we will leave it running). */
  readonly wasRunning: boolean;
  /** We created the service (and will delete it). */
  readonly created: boolean;
  /** Stop (if we started it) and delete (if we created it); returns warnings, never throws. */
  unload(): string[];
}

export interface LoadDriverOptions {
  readonly serviceName?: string;
  readonly api?: Advapi32;
  /** Skip the file check (the fake-API tests). */
  readonly skipPathCheck?: boolean;
  /** %SystemRoot%, for ImagePaths under \SystemRoot\ (default: the environment's, else C:\Windows). */
  readonly systemRoot?: string;
}

const isNull = (h: Handle): boolean => isInvalidHandle(h);

/**
 * An existing service is used (started, later stopped) only when its binary is our .sys file: one
 * registered for another driver under this name is not ours to touch.
 */
function checkServiceIsOurs(api: Advapi32, svc: Handle, what: string, sysPath: string, systemRoot: string): void {
  const q = api.QueryServiceBinaryPath(svc);
  if ('error' in q) {
    throw new MemScopeError('io', `${what}: already exists and its binary cannot be read (${win32Reason(q.error)}; QueryServiceConfigW, Windows error ${q.error}); MemScope does not start, stop or delete a service it cannot tell is its own`);
  }
  const theirs = driverImageFile(q.binaryPath, systemRoot);
  if (theirs !== driverImageFile(win32.resolve(sysPath), systemRoot)) {
    throw new MemScopeError('io', `${what}: already exists for another driver (${q.binaryPath}), not ${sysPath}; MemScope does not start, stop or delete it — remove it if it is a stale WinPmem install, or load the driver under another service name`);
  }
}

/** Register and start the driver at `sysPath` (an absolute path to winpmem_x64.sys). */
export function loadDriver(sysPath: string, opts: LoadDriverOptions = {}): LoadedDriver {
  if (!opts.skipPathCheck) checkDriverPath(sysPath);
  const name = opts.serviceName ?? PMEM_SERVICE_NAME;
  const api = opts.api ?? loadAdvapi32();
  const what = `WinPmem driver service "${name}"`;
  const scm = api.OpenSCManagerW(null, null, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
  if (isNull(scm)) throw win32Error('Service Control Manager', 'OpenSCManagerW', api.GetLastError());
  let svc: Handle = 0;
  let created = false;
  try {
    svc = api.CreateServiceW(scm, name, name, SERVICE_ACCESS, SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, sysPath, null, null, null, null, null);
    if (isNull(svc)) {
      const err = api.GetLastError();
      if (err !== WIN32.ERROR_SERVICE_EXISTS) throw win32Error(what, 'CreateServiceW', err);
      svc = api.OpenServiceW(scm, name, SERVICE_ACCESS);
      if (isNull(svc)) throw win32Error(what, 'OpenServiceW', api.GetLastError());
      checkServiceIsOurs(api, svc, what, sysPath, opts.systemRoot ?? process.env['SystemRoot'] ?? 'C:\\Windows');
    } else created = true;
    let wasRunning = false;
    if (!api.StartServiceW(svc, 0, null)) {
      const err = api.GetLastError();
      if (err !== WIN32.ERROR_SERVICE_ALREADY_RUNNING) throw win32Error(what, `StartServiceW ${sysPath}`, err);
      wasRunning = true;
    }
    const service = svc;
    let done = false;
    return {
      serviceName: name,
      wasRunning,
      created,
      unload(): string[] {
        if (done) return [];
        done = true;
        const warnings: string[] = [];
        if (!wasRunning && !api.ControlService(service, SERVICE_CONTROL_STOP, new Uint8Array(SERVICE_STATUS_SIZE))) {
          warnings.push(win32Error(what, 'ControlService STOP', api.GetLastError()).message);
        }
        if (created && !api.DeleteService(service)) warnings.push(win32Error(what, 'DeleteService', api.GetLastError()).message);
        api.CloseServiceHandle(service);
        api.CloseServiceHandle(scm);
        return warnings;
      },
    };
  } catch (e) {
    // Leave nothing behind: a service we created but could not start is deleted.
    if (!isNull(svc)) {
      if (created) api.DeleteService(svc);
      api.CloseServiceHandle(svc);
    }
    api.CloseServiceHandle(scm);
    if (e instanceof MemScopeError) throw e;
    throw new MemScopeError('io', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
