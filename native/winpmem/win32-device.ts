/**
 * The real WinPmem device: `\\.\pmem` through kernel32 (CreateFileW, DeviceIoControl,
 * SetFilePointerEx + ReadFile, CloseHandle), bound with koffi on first use, on Windows only.
 *
 * Access rights: the driver's IOCTLs are declared with FILE_READ_DATA | FILE_WRITE_DATA
 * (kernel/userspace_interface/ctl_codes.h), and the I/O manager refuses an IOCTL whose required
 * access the handle was not granted — so the handle is opened GENERIC_READ | GENERIC_WRITE, as
 * WinPmem's own imager does (go-winpmem/imager.go NewImager). Memory is still never written: this
 * module binds no WriteFile, and WRITE_ENABLE is never sent (device.ts). The device is created
 * with SDDL_DEVOBJ_SYS_ALL_ADM_ALL (kernel/winpmem.c), so only SYSTEM and Administrators open it.
 *
 * `Kernel32` is the binding surface as plain functions, so tests drive Win32PmemDevice with a fake
 * and check the marshalling (arguments, byte counts, error mapping) on any OS.
 */
import { MemScopeError } from '../../main/engine/errors.js';
import { MAX_READ } from '../../main/engine/sources/physical-source.js';
import { hex } from '../../main/engine/util/hex.js';
import type { PmemDevice } from './device.js';
import { PMEM_DEVICE_PATH } from './protocol.js';
import { win32Error } from './win32-errors.js';
import { loadDll } from './win32-ffi.js';

/** A HANDLE as koffi hands back an intptr_t. */
export type Handle = number | bigint;

export interface Kernel32 {
  CreateFileW(name: string, access: number, share: number, security: null, disposition: number, flags: number, template: Handle): Handle;
  DeviceIoControl(h: Handle, code: number, input: Uint8Array | null, inputLength: number, output: Uint8Array | null, outputLength: number, returned: number[], overlapped: null): number;
  SetFilePointerEx(h: Handle, distance: bigint, newPosition: null, method: number): number;
  ReadFile(h: Handle, buffer: Uint8Array, length: number, read: number[], overlapped: null): number;
  CloseHandle(h: Handle): number;
  GetLastError(): number;
  /** Thread pinning for reads in PTE mode (see pinReaderThread), and the reader's priority (raiseReaderThreadPriority). */
  GetCurrentThread?(): Handle;
  SetThreadAffinityMask?(thread: Handle, mask: bigint): bigint;
  SetThreadPriority?(thread: Handle, priority: number): number;
}

// winnt.h / fileapi.h constants
export const GENERIC_READ = 0x80000000;
export const GENERIC_WRITE = 0x40000000;
export const FILE_SHARE_READ = 0x1;
export const FILE_SHARE_WRITE = 0x2;
export const OPEN_EXISTING = 3;
export const FILE_ATTRIBUTE_NORMAL = 0x80;
export const FILE_BEGIN = 0;
export const INVALID_HANDLE_VALUE = -1;

/** CreateFileW arguments for the device (see the access-rights note above). */
export function deviceOpenArgs(): { access: number; share: number; disposition: number; flags: number } {
  return {
    access: (GENERIC_READ | GENERIC_WRITE) >>> 0,
    share: FILE_SHARE_READ | FILE_SHARE_WRITE,
    disposition: OPEN_EXISTING,
    flags: FILE_ATTRIBUTE_NORMAL,
  };
}

/** INVALID_HANDLE_VALUE is (HANDLE)-1; koffi may hand it back as -1, -1n or 2^64-1 depending on the declared type. */
export function isInvalidHandle(h: Handle): boolean {
  if (typeof h === 'bigint') return h === -1n || h === 0xffffffffffffffffn || h === 0n;
  return h === INVALID_HANDLE_VALUE || h === 0;
}

let kernel32: Kernel32 | undefined;

/** Bind the kernel32 functions (x64: stdcall is the platform ABI; BOOL is a 4-byte int). */
export function loadKernel32(): Kernel32 {
  if (kernel32) return kernel32;
  const lib = loadDll('kernel32.dll');
  kernel32 = {
    CreateFileW: lib.func('intptr_t __stdcall CreateFileW(const char16_t *name, uint32_t access, uint32_t share, void *security, uint32_t disposition, uint32_t flags, intptr_t tmpl)'),
    DeviceIoControl: lib.func('int __stdcall DeviceIoControl(intptr_t h, uint32_t code, void *input, uint32_t inputLength, void *output, uint32_t outputLength, _Out_ uint32_t *returned, void *overlapped)'),
    SetFilePointerEx: lib.func('int __stdcall SetFilePointerEx(intptr_t h, int64_t distance, void *newPosition, uint32_t method)'),
    ReadFile: lib.func('int __stdcall ReadFile(intptr_t h, void *buffer, uint32_t length, _Out_ uint32_t *read, void *overlapped)'),
    CloseHandle: lib.func('int __stdcall CloseHandle(intptr_t h)'),
    GetLastError: lib.func('uint32_t __stdcall GetLastError()'),
    GetCurrentThread: lib.func('intptr_t __stdcall GetCurrentThread()'),
    SetThreadAffinityMask: lib.func('uint64_t __stdcall SetThreadAffinityMask(intptr_t thread, uint64_t mask)'),
    SetThreadPriority: lib.func('int __stdcall SetThreadPriority(intptr_t thread, int priority)'),
  } as Kernel32;
  return kernel32;
}

/**
 * Pin the calling OS thread (the main thread, or a worker_thread: each is its own OS thread) to one
 * CPU before it reads the device. The signed 2.0.1 driver's PTE mode flushes the TLB only on the
 * current CPU (pte_mmap_windows.c:105-106, fixed in 4.0.1): a reader that migrates between CPUs can
 * get another page's bytes. Returns the previous affinity mask.
 */
export function pinReaderThread(cpu = 0, api: Kernel32 = loadKernel32()): bigint {
  if (!api.GetCurrentThread || !api.SetThreadAffinityMask) throw new MemScopeError('io', 'SetThreadAffinityMask is not bound');
  const previous = api.SetThreadAffinityMask(api.GetCurrentThread(), 1n << BigInt(cpu));
  if (BigInt(previous) === 0n) throw win32Error('reader thread', 'SetThreadAffinityMask', api.GetLastError());
  return BigInt(previous);
}

/** processthreadsapi.h: one step above the process's base priority. */
export const THREAD_PRIORITY_ABOVE_NORMAL = 1;

/**
 * Raise the calling thread (the fed pool's reader, the one thread every piece of a live scan waits
 * for) one step above the scan workers it wakes, so a woken worker does not take its CPU (the Linux
 * counterpart lowers the workers instead: main/engine/scan/thread-priority.ts). A refusal costs
 * speed only, so it is returned, not thrown.
 */
export function raiseReaderThreadPriority(api: Kernel32 = loadKernel32()): boolean {
  if (!api.GetCurrentThread || !api.SetThreadPriority) return false;
  return api.SetThreadPriority(api.GetCurrentThread(), THREAD_PRIORITY_ABOVE_NORMAL) !== 0;
}

export class Win32PmemDevice implements PmemDevice {
  readonly name: string;
  private readonly api: Kernel32;
  private handle: Handle | null;

  private constructor(name: string, api: Kernel32, handle: Handle) {
    this.name = name;
    this.api = api;
    this.handle = handle;
  }

  /**
   * Open the device (the driver must already be loaded: driver.ts). Errors are one line, e.g.
   * "\\.\pmem: access denied — run MemScope as administrator (CreateFileW, Windows error 5)".
   */
  static open(path: string = PMEM_DEVICE_PATH, api?: Kernel32): Win32PmemDevice {
    const k = api ?? loadKernel32();
    const a = deviceOpenArgs();
    const h = k.CreateFileW(path, a.access, a.share, null, a.disposition, a.flags, 0);
    if (isInvalidHandle(h)) throw win32Error(path, 'CreateFileW', k.GetLastError());
    return new Win32PmemDevice(path, k, h);
  }

  private live(): Handle {
    if (this.handle === null) throw new MemScopeError('io', `${this.name}: device used after close`);
    return this.handle;
  }

  ioctl(code: number, input: Uint8Array, outLength: number): Uint8Array {
    const h = this.live();
    if (!Number.isInteger(outLength) || outLength < 0 || outLength > 0xffff_ffff) throw new RangeError(`ioctl output length ${outLength}`);
    const out = new Uint8Array(outLength);
    const returned = [0];
    const ok = this.api.DeviceIoControl(h, code >>> 0, input.length ? input : null, input.length, outLength ? out : null, outLength, returned, null);
    if (!ok) throw win32Error(this.name, `DeviceIoControl ${hex(code >>> 0)}`, this.api.GetLastError());
    return out.subarray(0, Math.min(returned[0] ?? 0, outLength));
  }

  readAt(pa: number, length: number): Uint8Array {
    const h = this.live();
    if (!Number.isSafeInteger(pa) || pa < 0) throw new RangeError(`${this.name}: invalid physical address ${pa}`);
    if (!Number.isSafeInteger(length) || length <= 0 || length > MAX_READ) throw new RangeError(`${this.name}: invalid read length ${length}`);
    if (!this.api.SetFilePointerEx(h, BigInt(pa), null, FILE_BEGIN)) throw win32Error(this.name, `SetFilePointerEx ${hex(pa)}`, this.api.GetLastError());
    const buf = new Uint8Array(length);
    const read = [0];
    if (!this.api.ReadFile(h, buf, length, read, null)) throw win32Error(this.name, `ReadFile ${hex(pa)}+${hex(length)}`, this.api.GetLastError());
    return buf.subarray(0, Math.min(read[0] ?? 0, length));
  }

  close(): void {
    if (this.handle === null) return;
    const h = this.handle;
    this.handle = null;
    this.api.CloseHandle(h);
  }
}
