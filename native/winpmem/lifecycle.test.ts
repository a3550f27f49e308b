/**
 * The driver's lifecycle over a fake Service Control Manager that keeps state (services, running,
 * marked for deletion) and the real file system in a temp directory: the private copy, the marker,
 * stale cleanup of our own service only, "marked for deletion", a second instance, bad driver files.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Advapi32 } from './driver.js';
import { acquireDriver, defaultLifecycleFs } from './lifecycle.js';
import { driverFileFacts } from './preflight.js';
import { fakeDriver, fakeScm } from './testing/fake-scm.js';
import { WIN32 } from './win32-errors.js';

let dir: string;
let sys: string;
let root: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'memscope-driver-'));
  sys = join(dir, 'winpmem_x64.sys');
  fakeDriver(sys);
  root = join(dir, 'ProgramData', 'MemScope', 'driver');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const deps = (api: Advapi32, extra: { pid?: number; alive?: number[] } = {}) => ({
  api, fs: defaultLifecycleFs(root), pid: extra.pid ?? 4242, pidAlive: (p: number) => (extra.alive ?? []).includes(p), sleep: () => undefined,
});

describe('driver lifecycle', () => {
  it('loads a private copy as service "winpmem" and on release stops + deletes it and removes the copy', () => {
    const { api, services, log } = fakeScm();
    const d = acquireDriver(sys, deps(api));
    expect(d.owner).toBe(true);
    expect(d.serviceName).toBe('winpmem');
    expect(d.path!.startsWith(join(root, 'run-4242-'))).toBe(true);
    expect(statSync(join(d.path!, '..')).mode & 0o777).toBe(0o700); // POSIX stand-in for the admin-only ACL
    expect(driverFileFacts(d.path!).sha256).toBe(driverFileFacts(sys).sha256);
    expect(services.get('winpmem')).toEqual({ binaryPath: `\\??\\${d.path}`, running: true, marked: false });
    expect(existsSync(join(root, 'memscope-driver.json'))).toBe(true);
    expect(d.release()).toEqual([]);
    expect(services.size).toBe(0);
    expect(log.slice(-2)).toEqual(['stop winpmem', 'delete winpmem']);
    expect(readdirSync(root)).toEqual([]);
    expect(d.release()).toEqual([]); // idempotent
    expect(log.length).toBe(4);
  });

  it('refuses a driver path that is missing, a directory, or not a PE file, touching nothing', () => {
    const { api, log } = fakeScm();
    mkdirSync(join(dir, 'd.sys'));
    writeFileSync(join(dir, 'text.sys'), 'hello, not a driver');
    for (const [p, re] of [[join(dir, 'nope.sys'), /no such file/], [join(dir, 'd.sys'), /is a directory/], [join(dir, 'text.sys'), /not a PE file/]] as const) {
      expect(() => acquireDriver(p, deps(api))).toThrow(re);
    }
    expect(log).toEqual([]);
    expect(existsSync(root)).toBe(false);
  });

  it('at the next start, cleans up after a run that died (its service and copy), then loads', () => {
    const { api, services, log } = fakeScm();
    const first = acquireDriver(sys, deps(api, { pid: 1111 }));
    const stale = first.path!;
    // process 1111 dies without release(): service running, copy and marker left behind
    const d = acquireDriver(sys, deps(api, { pid: 2222 }));
    expect(d.notes.join('\n')).toMatch(/process 1111 .* ended without unloading the driver/);
    expect(d.notes.join('\n')).toMatch(/removed a stale "winpmem" service/);
    expect(existsSync(stale)).toBe(false);
    expect(log).toContain('delete winpmem');
    expect(services.get('winpmem')!.binaryPath).toBe(`\\??\\${d.path}`);
    d.release();
    expect(services.size).toBe(0);
  });

  it('waits out a stale service "marked for deletion", then loads', () => {
    const { api, services } = fakeScm();
    acquireDriver(sys, deps(api, { pid: 1111 }));
    // DeleteService with a handle still open elsewhere only marks the service; CreateService then
    // fails with ERROR_SERVICE_MARKED_FOR_DELETE until that handle closes (here: two attempts later)
    let creates = 0;
    api.DeleteService = () => { services.get('winpmem')!.marked = true; return 1; };
    const realCreate = api.CreateServiceW;
    api.CreateServiceW = (...a) => {
      if (++creates === 3) services.delete('winpmem');
      return realCreate(...a);
    };
    const d = acquireDriver(sys, deps(api, { pid: 2222 }));
    expect(d.owner).toBe(true);
    expect(creates).toBe(3);
    expect(services.get('winpmem')).toMatchObject({ running: true, marked: false });
  });

  it('never touches a "winpmem" service whose binary is not ours', () => {
    const { api, services, log } = fakeScm();
    services.set('winpmem', { binaryPath: '\\SystemRoot\\System32\\drivers\\pmem.sys', running: true, marked: false });
    expect(() => acquireDriver(sys, deps(api))).toThrow(/already exists for another driver .*pmem\.sys.* does not start, stop or delete it/);
    expect(log.filter((l) => /stop|delete|start/.test(l))).toEqual([]);
    expect(services.get('winpmem')).toEqual({ binaryPath: '\\SystemRoot\\System32\\drivers\\pmem.sys', running: true, marked: false });
    expect(readdirSync(root)).toEqual([]); // the copy made for the attempt is gone
  });

  it('a second MemScope uses the first one\'s driver and never unloads it', () => {
    const { api, services, log } = fakeScm();
    const first = acquireDriver(sys, deps(api, { pid: 1111 }));
    const n = log.length;
    const second = acquireDriver(sys, deps(api, { pid: 2222, alive: [1111] }));
    expect(second.owner).toBe(false);
    expect(second.notes[0]).toMatch(/loaded by MemScope process 1111/);
    second.release();
    expect(log.length).toBe(n);
    expect(services.get('winpmem')!.running).toBe(true);
    first.release();
    expect(services.size).toBe(0);
  });

  it('a doctored marker cannot make it delete a directory outside its own', () => {
    const { api } = fakeScm();
    const victim = join(dir, 'precious');
    mkdirSync(victim);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'memscope-driver.json'), JSON.stringify({ pid: 1, serviceName: 'winpmem', dir: victim, startedAt: 'x' }));
    acquireDriver(sys, deps(api)).release();
    expect(existsSync(victim)).toBe(true);
  });
});
