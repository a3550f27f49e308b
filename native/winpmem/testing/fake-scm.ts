/**
 * Test helpers for the driver's lifecycle: a stateful fake Service Control Manager (services,
 * running, marked for deletion, injected Win32 failures, a log of every call that changes state) and
 * a minimal driver file (a PE32+ x64 image with an Authenticode directory).
 */
import { writeFileSync } from 'node:fs';
import type { Advapi32 } from '../driver.js';
import type { Handle } from '../win32-device.js';
import { WIN32 } from '../win32-errors.js';

interface Service { binaryPath: string; running: boolean; marked: boolean }

/** A stateful fake SCM: `faults` makes a call fail with a Win32 error a given number of times. */
export function fakeScm(faults: Record<string, { code: number; times: number }> = {}) {
  const services = new Map<string, Service>();
  const handles = new Map<number, string>(); // service handle → name
  const log: string[] = [];
  let next = 500;
  let lastError = 0;
  const fault = (call: string): boolean => {
    const f = faults[call];
    if (f && f.times > 0) { f.times--; lastError = f.code; return true; }
    return false;
  };
  const svcOf = (h: Handle) => services.get(handles.get(Number(h)) ?? '');
  const api: Advapi32 = {
    OpenSCManagerW: () => 100,
    CreateServiceW: (_scm, name, _d, _a, _t, _s, _e, path) => {
      log.push(`create ${name} ${path}`);
      if (fault('CreateServiceW')) return 0;
      if (services.has(name)) { lastError = services.get(name)!.marked ? WIN32.ERROR_SERVICE_MARKED_FOR_DELETE : WIN32.ERROR_SERVICE_EXISTS; return 0; }
      services.set(name, { binaryPath: `\\??\\${path}`, running: false, marked: false });
      handles.set(next, name);
      return next++;
    },
    OpenServiceW: (_scm, name) => {
      if (!services.has(name)) { lastError = WIN32.ERROR_SERVICE_DOES_NOT_EXIST; return 0; }
      handles.set(next, name);
      return next++;
    },
    StartServiceW: (h) => {
      const s = svcOf(h)!;
      log.push(`start ${handles.get(Number(h))}`);
      if (s.running) { lastError = WIN32.ERROR_SERVICE_ALREADY_RUNNING; return 0; }
      s.running = true;
      return 1;
    },
    ControlService: (h) => {
      const s = svcOf(h);
      log.push(`stop ${handles.get(Number(h))}`);
      if (!s?.running) { lastError = WIN32.ERROR_SERVICE_NOT_ACTIVE; return 0; }
      s.running = false;
      return 1;
    },
    DeleteService: (h) => {
      const name = handles.get(Number(h))!;
      log.push(`delete ${name}`);
      if (fault('DeleteService')) return 0;
      services.delete(name);
      return 1;
    },
    CloseServiceHandle: (h) => { handles.delete(Number(h)); return 1; },
    QueryServiceBinaryPath: (h) => ({ binaryPath: svcOf(h)!.binaryPath }),
    GetLastError: () => lastError,
  };
  return { api, services, log };
}

/** A minimal PE32+ x64 image with an Authenticode directory and a FileVersion string. */
export function fakeDriver(path: string, signed = true): void {
  const b = Buffer.alloc(0x600);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(0x8664, 0x84);
  const opt = 0x80 + 24;
  b.writeUInt16LE(0x20b, opt);
  if (signed) {
    b.writeUInt32LE(0x500, opt + 112 + 4 * 8);
    b.writeUInt32LE(0x40, opt + 112 + 4 * 8 + 4);
  }
  Buffer.from('FileVersion\0', 'utf16le').copy(b, 0x300);
  Buffer.from('2.0.1\0', 'utf16le').copy(b, 0x318);
  writeFileSync(path, b);
}
