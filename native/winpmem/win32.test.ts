/**
 * The Win32 side without Windows: Win32PmemDevice and loadDriver over fake kernel32/advapi32
 * bindings (what is passed, how results and failures come back), the error mapping, and that the
 * modules import cleanly off Windows. The real bindings are exercised by scripts/wine-proof.sh.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemScopeError } from '../../main/engine/errors.js';
import { WinPmemSource } from './device.js';
import {
  type Advapi32, checkDriverPath, DELETE, driverImageFile, loadDriver, SERVICE_DEMAND_START, SERVICE_KERNEL_DRIVER, SERVICE_QUERY_CONFIG,
  SERVICE_START, SERVICE_STOP,
} from './driver.js';
import { openLiveWinPmem } from './index.js';
import { encodeInfo, INFO_BUFFER_SIZE, PMEM_IOCTLS } from './protocol.js';
import {
  deviceOpenArgs, FILE_SHARE_READ, FILE_SHARE_WRITE, GENERIC_READ, GENERIC_WRITE, type Handle, isInvalidHandle, type Kernel32, OPEN_EXISTING, Win32PmemDevice,
} from './win32-device.js';
import { WIN32, win32Error, win32Reason } from './win32-errors.js';
import { loadKoffi } from './win32-ffi.js';

/** A fake kernel32 over an in-memory "physical memory" with one device handle (7). */
function fakeKernel32(memory: Uint8Array, opts: { createError?: number; readError?: { at: number; code: number }; ioctlReply?: Uint8Array } = {}) {
  const log: string[] = [];
  let lastError = 0;
  let pos = 0;
  const fail = (code: number) => { lastError = code; return 0; };
  const api: Kernel32 = {
    CreateFileW(name, access, share, _sa, disposition, flags, template) {
      log.push(`CreateFileW ${name} ${access.toString(16)} ${share} ${disposition} ${flags.toString(16)} ${String(template)}`);
      if (opts.createError) { lastError = opts.createError; return -1; }
      return 7;
    },
    DeviceIoControl(h, code, input, inLen, output, outLen, returned) {
      log.push(`DeviceIoControl ${String(h)} ${code.toString(16)} ${input ? input.length : 'null'}/${inLen} ${output ? output.length : 'null'}/${outLen}`);
      if (code === PMEM_IOCTLS.getInfo) {
        const reply = opts.ioctlReply ?? new Uint8Array(0);
        output!.set(reply.subarray(0, outLen));
        returned[0] = Math.min(reply.length, outLen);
        return 1;
      }
      if (code === PMEM_IOCTLS.setMode) { returned[0] = 0; return 1; }
      return fail(WIN32.ERROR_INVALID_PARAMETER);
    },
    SetFilePointerEx(h, distance, _np, method) {
      log.push(`SetFilePointerEx ${String(h)} ${distance.toString(16)} ${method}`);
      pos = Number(distance);
      return 1;
    },
    ReadFile(h, buffer, length, read) {
      log.push(`ReadFile ${String(h)} ${buffer.length} ${length}`);
      if (opts.readError && pos <= opts.readError.at && opts.readError.at < pos + length) return fail(opts.readError.code);
      const got = memory.subarray(pos, Math.min(memory.length, pos + length));
      buffer.set(got);
      read[0] = got.length;
      pos += got.length;
      return 1;
    },
    CloseHandle(h) { log.push(`CloseHandle ${String(h)}`); return 1; },
    GetLastError: () => lastError,
  };
  return { api, log };
}

describe('Win32PmemDevice over a fake kernel32', () => {
  it('opens \\\\.\\pmem read+write-access (the IOCTLs require FILE_READ_DATA|FILE_WRITE_DATA), shared, existing', () => {
    expect(deviceOpenArgs()).toEqual({ access: 0xc0000000, share: 3, disposition: 3, flags: 0x80 });
    expect((GENERIC_READ | GENERIC_WRITE) >>> 0).toBe(0xc0000000);
    expect(FILE_SHARE_READ | FILE_SHARE_WRITE).toBe(3);
    expect(OPEN_EXISTING).toBe(3);
    const { api, log } = fakeKernel32(new Uint8Array(16));
    Win32PmemDevice.open(undefined, api).close();
    expect(log).toEqual(['CreateFileW \\\\.\\pmem c0000000 3 3 80 0', 'CloseHandle 7']);
  });

  it('maps CreateFileW failures to one clear line', () => {
    const cases: [number, string][] = [
      [WIN32.ERROR_FILE_NOT_FOUND, '\\\\.\\pmem: driver not loaded (no such device; load the WinPmem driver first) (CreateFileW, Windows error 2)'],
      [WIN32.ERROR_ACCESS_DENIED, '\\\\.\\pmem: access denied — run MemScope as administrator (CreateFileW, Windows error 5)'],
      [WIN32.ERROR_SHARING_VIOLATION, '\\\\.\\pmem: in use by another process (CreateFileW, Windows error 32)'],
      [4321, '\\\\.\\pmem: Windows error 4321 (CreateFileW, Windows error 4321)'],
    ];
    for (const [code, text] of cases) {
      const { api } = fakeKernel32(new Uint8Array(16), { createError: code });
      let err: unknown;
      try { Win32PmemDevice.open(undefined, api); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(MemScopeError);
      expect((err as MemScopeError).kind).toBe('io');
      expect((err as Error).message).toBe(text);
      expect((err as { win32Error: number }).win32Error).toBe(code);
    }
  });

  it('reads at a physical address with SetFilePointerEx(FILE_BEGIN) + ReadFile, returning short reads as short', () => {
    const mem = Uint8Array.from({ length: 0x3000 }, (_, i) => (i * 13) & 0xff);
    const { api, log } = fakeKernel32(mem);
    const d = Win32PmemDevice.open(undefined, api);
    expect([...d.readAt(0x1ffe, 4)]).toEqual([...mem.subarray(0x1ffe, 0x2002)]);
    expect(d.readAt(0x2ff0, 0x100).length).toBe(0x10);
    expect(log.slice(1, 3)).toEqual(['SetFilePointerEx 7 1ffe 0', 'ReadFile 7 4 4']);
    expect(() => d.readAt(-1, 4)).toThrow(/invalid physical address/);
    expect(() => d.readAt(0, 0)).toThrow(/invalid read length 0/);
    d.close();
    expect(() => d.readAt(0, 4)).toThrow(/used after close/);
  });

  it('passes IOCTL buffers and trims the reply to the bytes returned; failures name the code', () => {
    const reply = encodeInfo({
      cr3: 0x1ad000n, ntBuildNumber: 0xf0004a61n, kernBase: 0xfffff80312400000n, kdbg: 0n, kpcr: [], pfnDataBase: 0n,
      psLoadedModuleList: 0n, psActiveProcessHead: 0n, ntBuildNumberAddr: 0n, runs: [{ start: 0x1000, length: 0x2000 }],
    }, 20);
    const { api, log } = fakeKernel32(new Uint8Array(0x4000), { ioctlReply: reply });
    const d = Win32PmemDevice.open(undefined, api);
    const got = d.ioctl(PMEM_IOCTLS.getInfo, new Uint8Array(0), INFO_BUFFER_SIZE);
    expect(got.length).toBe(reply.length);
    expect(log[1]).toBe(`DeviceIoControl 7 22c40f null/0 ${INFO_BUFFER_SIZE}/${INFO_BUFFER_SIZE}`);
    expect(() => d.ioctl(0x22c4ff, new Uint8Array(4), 0)).toThrow(
      '\\\\.\\pmem: the driver rejected the request (invalid parameter: a different WinPmem driver version?) (DeviceIoControl 0x22c4ff, Windows error 87)',
    );
    // and WinPmemSource runs over it: mode set with a 4-byte input, runs from the reply
    const src = WinPmemSource.open(Win32PmemDevice.open(undefined, api));
    expect(src.runs()).toEqual([{ start: 0x1000, length: 0x2000 }]);
    expect(src.hints.buildNumber).toBe(19041);
    expect(log).toContain('DeviceIoControl 7 22c407 4/4 null/0');
    src.close();
  });

  it('a device read error through WinPmemSource marks only the failing page absent, with the Windows reason', () => {
    const mem = Uint8Array.from({ length: 0x8000 }, (_, i) => (i % 251) + 1);
    const reply = encodeInfo({
      cr3: 0n, ntBuildNumber: 0n, kernBase: 0n, kdbg: 0n, kpcr: [], pfnDataBase: 0n,
      psLoadedModuleList: 0n, psActiveProcessHead: 0n, ntBuildNumberAddr: 0n, runs: [{ start: 0, length: 0x8000 }],
    }, 20);
    const { api } = fakeKernel32(mem, { ioctlReply: reply, readError: { at: 0x5123, code: WIN32.ERROR_IO_DEVICE } });
    const src = WinPmemSource.open(Win32PmemDevice.open(undefined, api));
    const r = src.read(0, 0x8000);
    expect(r.absent).toEqual([{
      start: 0x5000, length: 0x1000,
      reason: 'device read failed at 0x5000: \\\\.\\pmem: device I/O error (the driver could not map this physical memory) (ReadFile 0x5000+0x1000, Windows error 1117)',
    }]);
    expect([...r.data.subarray(0, 0x5000)]).toEqual([...mem.subarray(0, 0x5000)]);
    expect([...r.data.subarray(0x6000)]).toEqual([...mem.subarray(0x6000)]);
    expect(r.data.subarray(0x5000, 0x6000).every((b) => b === 0)).toBe(true);
    src.close();
  });

  it('recognises INVALID_HANDLE_VALUE however koffi returns it', () => {
    expect(isInvalidHandle(-1)).toBe(true);
    expect(isInvalidHandle(-1n)).toBe(true);
    expect(isInvalidHandle(0xffffffffffffffffn)).toBe(true);
    expect(isInvalidHandle(0)).toBe(true);
    expect(isInvalidHandle(0x1c4)).toBe(false);
  });
});

/**
 * A fake advapi32 recording calls; `fail` maps a call name to the Win32 error it returns, and
 * `binaryPath` is what QueryServiceConfigW reports for an existing service.
 */
function fakeAdvapi32(fail: Record<string, number> = {}, binaryPath = '\\??\\C:\\tools\\winpmem_x64.sys') {
  const log: string[] = [];
  let lastError = 0;
  const res = (name: string, ok: Handle | number): Handle | number => {
    const code = fail[name];
    if (code !== undefined) { lastError = code; return 0; }
    return ok;
  };
  const api: Advapi32 = {
    OpenSCManagerW: (_m, _d, access) => { log.push(`OpenSCManagerW ${access}`); return res('OpenSCManagerW', 100); },
    CreateServiceW: (scm, name, _dn, access, type, start, _ec, path) => { log.push(`CreateServiceW ${String(scm)} ${name} ${access.toString(16)} ${type} ${start} ${path}`); return res('CreateServiceW', 200); },
    OpenServiceW: (scm, name) => { log.push(`OpenServiceW ${String(scm)} ${name}`); return res('OpenServiceW', 201); },
    StartServiceW: (svc) => { log.push(`StartServiceW ${String(svc)}`); return res('StartServiceW', 1) as number; },
    ControlService: (svc, control, status) => { log.push(`ControlService ${String(svc)} ${control} ${status.length}`); return res('ControlService', 1) as number; },
    DeleteService: (svc) => { log.push(`DeleteService ${String(svc)}`); return res('DeleteService', 1) as number; },
    CloseServiceHandle: (h) => { log.push(`CloseServiceHandle ${String(h)}`); return 1; },
    QueryServiceBinaryPath: (svc) => {
      log.push(`QueryServiceConfigW ${String(svc)}`);
      const code = fail['QueryServiceConfigW'];
      return code === undefined ? { binaryPath } : { error: code };
    },
    GetLastError: () => lastError,
  };
  return { api, log };
}

describe('loadDriver over a fake Service Control Manager', () => {
  const sys = 'C:\\tools\\winpmem_x64.sys';

  it('creates a demand-start kernel-driver service, starts it, and on unload stops and deletes it', () => {
    const { api, log } = fakeAdvapi32();
    const d = loadDriver(sys, { api, skipPathCheck: true });
    expect(d).toMatchObject({ serviceName: 'winpmem', created: true, wasRunning: false });
    expect(SERVICE_KERNEL_DRIVER).toBe(1);
    expect(SERVICE_DEMAND_START).toBe(3);
    expect(log).toEqual([
      'OpenSCManagerW 3',
      `CreateServiceW 100 winpmem ${(SERVICE_QUERY_CONFIG | SERVICE_START | SERVICE_STOP | 4 | DELETE).toString(16)} 1 3 ${sys}`,
      'StartServiceW 200',
    ]);
    expect(d.unload()).toEqual([]);
    expect(log.slice(3)).toEqual(['ControlService 200 1 28', 'DeleteService 200', 'CloseServiceHandle 200', 'CloseServiceHandle 100']);
    expect(d.unload()).toEqual([]); // idempotent
    expect(log.length).toBe(7);
  });

  it('reuses an existing service whose binary is our .sys file, and leaves an already-running driver running', () => {
    const { api, log } = fakeAdvapi32({ CreateServiceW: WIN32.ERROR_SERVICE_EXISTS, StartServiceW: WIN32.ERROR_SERVICE_ALREADY_RUNNING });
    const d = loadDriver(sys, { api, skipPathCheck: true });
    expect(d).toMatchObject({ created: false, wasRunning: true });
    expect(log.slice(2, 4)).toEqual(['OpenServiceW 100 winpmem', 'QueryServiceConfigW 201']);
    d.unload();
    expect(log.filter((l) => /ControlService|DeleteService/.test(l))).toEqual([]);
  });

  it('stops (but does not delete) an existing service of ours that it started', () => {
    // the SCM stores a DOS driver path as \??\C:\…; the case may differ from what we were given
    const { api, log } = fakeAdvapi32({ CreateServiceW: WIN32.ERROR_SERVICE_EXISTS }, '\\??\\C:\\TOOLS\\WinPmem_x64.sys');
    const d = loadDriver(sys, { api, skipPathCheck: true });
    expect(d).toMatchObject({ created: false, wasRunning: false });
    expect(d.unload()).toEqual([]);
    expect(log.filter((l) => /StartServiceW|ControlService|DeleteService/.test(l))).toEqual(['StartServiceW 201', 'ControlService 201 1 28']);
  });

  it('never starts, stops or deletes a service registered for another driver (Microsoft\'s pmem.sys)', () => {
    const msPmem = '\\SystemRoot\\System32\\drivers\\pmem.sys';
    for (const running of [false, true]) {
      const { api, log } = fakeAdvapi32(
        { CreateServiceW: WIN32.ERROR_SERVICE_EXISTS, ...(running ? { StartServiceW: WIN32.ERROR_SERVICE_ALREADY_RUNNING } : {}) }, msPmem);
      let err: unknown;
      try { loadDriver(sys, { api, skipPathCheck: true, serviceName: 'pmem', systemRoot: 'C:\\Windows' }); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(MemScopeError);
      expect((err as Error).message).toBe(
        `WinPmem driver service "pmem": already exists for another driver (${msPmem}), not ${sys}; MemScope does not start, stop or delete it — remove it if it is a stale WinPmem install, or load the driver under another service name`,
      );
      expect(log).toEqual(['OpenSCManagerW 3', expect.stringMatching(/^CreateServiceW 100 pmem /), 'OpenServiceW 100 pmem', 'QueryServiceConfigW 201',
        'CloseServiceHandle 201', 'CloseServiceHandle 100']);
    }
    // the same file under the name \SystemRoot\ stands for is ours
    const ours = fakeAdvapi32({ CreateServiceW: WIN32.ERROR_SERVICE_EXISTS }, '\\SystemRoot\\System32\\drivers\\winpmem_x64.sys');
    expect(loadDriver('C:\\Windows\\System32\\drivers\\winpmem_x64.sys', { api: ours.api, skipPathCheck: true, systemRoot: 'C:\\Windows' }).created).toBe(false);
  });

  it('refuses an existing service whose binary it cannot read', () => {
    const { api, log } = fakeAdvapi32({ CreateServiceW: WIN32.ERROR_SERVICE_EXISTS, QueryServiceConfigW: WIN32.ERROR_ACCESS_DENIED });
    expect(() => loadDriver(sys, { api, skipPathCheck: true })).toThrow(
      'WinPmem driver service "winpmem": already exists and its binary cannot be read (access denied — run MemScope as administrator; QueryServiceConfigW, Windows error 5); MemScope does not start, stop or delete a service it cannot tell is its own',
    );
    expect(log.filter((l) => /StartServiceW|ControlService|DeleteService/.test(l))).toEqual([]);
  });

  it('maps the ImagePath forms the SCM stores to one comparable file name', () => {
    const want = 'c:\\tools\\winpmem_x64.sys';
    for (const form of ['\\??\\C:\\Tools\\WinPmem_x64.sys', '\\\\?\\C:\\tools\\winpmem_x64.sys', '"C:\\tools\\winpmem_x64.sys"', 'C:/tools/winpmem_x64.sys', 'C:\\tools\\x\\..\\winpmem_x64.sys']) {
      expect(driverImageFile(form, 'C:\\Windows'), form).toBe(want);
    }
    expect(driverImageFile('\\SystemRoot\\System32\\drivers\\pmem.sys', 'D:\\WINNT')).toBe('d:\\winnt\\system32\\drivers\\pmem.sys');
    expect(driverImageFile('System32\\drivers\\pmem.sys', 'C:\\Windows')).toBe('c:\\windows\\system32\\drivers\\pmem.sys');
  });

  it('fails with one clear line and leaves nothing behind', () => {
    const a = fakeAdvapi32({ OpenSCManagerW: WIN32.ERROR_ACCESS_DENIED });
    expect(() => loadDriver(sys, { api: a.api, skipPathCheck: true })).toThrow(
      'Service Control Manager: access denied — run MemScope as administrator (OpenSCManagerW, Windows error 5)',
    );
    const b = fakeAdvapi32({ StartServiceW: WIN32.ERROR_INVALID_IMAGE_HASH });
    expect(() => loadDriver(sys, { api: b.api, skipPathCheck: true })).toThrow(
      `WinPmem driver service "winpmem": Windows cannot verify the driver's signature (use the signed winpmem_x64.sys from a WinPmem release) (StartServiceW ${sys}, Windows error 577)`,
    );
    expect(b.log.slice(-3)).toEqual(['DeleteService 200', 'CloseServiceHandle 200', 'CloseServiceHandle 100']);
    const c = fakeAdvapi32({ StartServiceW: WIN32.ERROR_DRIVER_BLOCKED });
    expect(() => loadDriver(sys, { api: c.api, skipPathCheck: true })).toThrow(/blocked by Windows \(vulnerable-driver blocklist/);
  });

  it('unload reports stop/delete failures as warnings', () => {
    const { api } = fakeAdvapi32({ ControlService: WIN32.ERROR_SERVICE_NOT_ACTIVE });
    const d = loadDriver(sys, { api, skipPathCheck: true });
    expect(d.unload()).toEqual(['WinPmem driver service "winpmem": the driver service is not running (ControlService STOP, Windows error 1062)']);
  });

  it('checks the driver path and says where to get the driver', () => {
    const dir = mkdtempSync(join(tmpdir(), 'memscope-sys-'));
    try {
      expect(() => checkDriverPath('')).toThrow(/no WinPmem driver given: get the signed winpmem_x64\.sys from a WinPmem release/);
      expect(() => checkDriverPath(join(dir, 'winpmem_x64.sys'))).toThrow(/no such file: get the signed/);
      expect(() => checkDriverPath(join(dir, 'notes.txt'))).toThrow(/not a driver \(\.sys\) file/);
      const f = join(dir, 'winpmem_x64.sys');
      writeFileSync(f, 'MZ');
      expect(() => checkDriverPath(f)).not.toThrow();
      expect(() => loadDriver(join(dir, 'missing.sys'), { api: fakeAdvapi32().api })).toThrow(/no such file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('error mapping and platform guard', () => {
  it('maps the Win32 codes the device and SCM return', () => {
    expect(win32Reason(2)).toMatch(/^driver not loaded/);
    expect(win32Reason(3)).toMatch(/^driver not loaded/);
    expect(win32Reason(5)).toBe('access denied — run MemScope as administrator');
    expect(win32Reason(1117)).toMatch(/could not map/);
    expect(win32Reason(1072)).toMatch(/marked for deletion/);
    expect(win32Error('x', 'Call', 9999).message).toBe('x: Windows error 9999 (Call, Windows error 9999)');
  });

  it('koffi is only loaded on Windows, with a clear error elsewhere (importing the modules does not load it)', () => {
    expect(() => loadKoffi('linux')).toThrow('live memory through WinPmem needs Windows (this is linux); analyse a saved image instead');
    if (process.platform !== 'win32') {
      expect(() => Win32PmemDevice.open()).toThrow(/needs Windows/);
      expect(() => openLiveWinPmem()).toThrow(/needs Windows/);
    }
  });
});
