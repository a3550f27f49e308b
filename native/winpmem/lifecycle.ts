/**
 * The WinPmem driver owned by one MemScope run, from load to unload:
 *
 * 1. The .sys the user named is checked (exists, a file, a PE) and copied into a fresh directory
 *    only SYSTEM and Administrators can write (icacls, inheritance removed), and the copy's SHA-256
 *    is compared with the original's after the ACL is in place: the kernel loads a file nobody else
 *    could have swapped in between (no user-writable path race).
 * 2. A marker file records which process loaded which copy. If the last run died without unloading
 *    (its process is gone), its service and copy are cleaned first. If another MemScope that is
 *    still running loaded the driver, this run uses it and never unloads it.
 * 3. An existing `winpmem` service whose binary lies in our driver directory is a stale one of ours:
 *    stopped and deleted ("marked for deletion" — a handle still open somewhere — is waited for
 *    briefly, then named in one line). One whose binary is elsewhere is never touched.
 * 4. loadDriver (driver.ts) creates and starts the service; release() stops and deletes it,
 *    removes the copy and the marker. Idempotent; callers hook it to every way the process ends.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MemScopeError, usageError } from '../../main/engine/errors.js';
import { type Advapi32, driverImageFile, loadAdvapi32, loadDriver, SERVICE_CONTROL_STOP, SERVICE_STATUS_SIZE, DELETE, SERVICE_QUERY_CONFIG, SERVICE_STOP, SERVICE_QUERY_STATUS, SC_MANAGER_CONNECT } from './driver.js';
import { driverFileFacts } from './preflight.js';
import { PMEM_SERVICE_NAME } from './protocol.js';
import { isInvalidHandle } from './win32-device.js';
import { WIN32, win32Reason } from './win32-errors.js';

export interface DriverMarker {
  readonly pid: number;
  readonly serviceName: string;
  /** The private directory holding the copy we loaded. */
  readonly dir: string;
  readonly startedAt: string;
}

/** File-system side of the lifecycle (real by default; tests may wrap it). */
export interface LifecycleFs {
  /** Where private copies and the marker live (e.g. C:\ProgramData\MemScope\driver). */
  readonly root: string;
  /** Create `dir` (new) readable and writable by SYSTEM and Administrators only. */
  makePrivateDir(dir: string): void;
  copyFile(src: string, dst: string): void;
  sha256(path: string): string;
  removeDir(dir: string): void;
  readMarker(): DriverMarker | null;
  writeMarker(m: DriverMarker): void;
  removeMarker(): void;
}

export interface LifecycleDeps {
  readonly api: Advapi32;
  readonly fs: LifecycleFs;
  readonly pid: number;
  readonly pidAlive: (pid: number) => boolean;
  readonly serviceName?: string;
  readonly systemRoot?: string;
  /** Sleep between "marked for deletion" retries (ms); tests pass a no-op. */
  readonly sleep?: (ms: number) => void;
}

export interface OwnedDriver {
  readonly serviceName: string;
  /** The copy the kernel loaded (null when another MemScope's driver is used). */
  readonly path: string | null;
  /** false: another running MemScope loaded it; this run never unloads it. */
  readonly owner: boolean;
  /** What was cleaned or decided at start, one line each. */
  readonly notes: readonly string[];
  /** Stop + delete the service, remove the copy and the marker (owner only); warnings, never throws. */
  release(): string[];
}

const MARKER = 'memscope-driver.json';

export function defaultLifecycleFs(root: string = join(process.env['ProgramData'] ?? 'C:\\ProgramData', 'MemScope', 'driver')): LifecycleFs {
  const marker = join(root, MARKER);
  return {
    root,
    makePrivateDir(dir) {
      fs.mkdirSync(root, { recursive: true, mode: 0o700 });
      adminOnly(root);
      fs.mkdirSync(dir, { mode: 0o700 }); // fails if it exists: never reuse a directory someone else made
      adminOnly(dir);
    },
    copyFile: (src, dst) => fs.copyFileSync(src, dst, fs.constants.COPYFILE_EXCL),
    sha256: (p) => createHash('sha256').update(fs.readFileSync(p)).digest('hex'),
    removeDir: (dir) => fs.rmSync(dir, { recursive: true, force: true }),
    readMarker() {
      try {
        const m = JSON.parse(fs.readFileSync(marker, 'utf8')) as Partial<DriverMarker>;
        return typeof m.pid === 'number' && typeof m.dir === 'string' && typeof m.serviceName === 'string' ? (m as DriverMarker) : null;
      } catch {
        return null;
      }
    },
    writeMarker: (m) => {
      fs.mkdirSync(root, { recursive: true, mode: 0o700 });
      fs.writeFileSync(marker, JSON.stringify(m) + '\n', { mode: 0o600 });
    },
    removeMarker: () => fs.rmSync(marker, { force: true }),
  };
}

/** SYSTEM (S-1-5-18) and Administrators (S-1-5-32-544) only; inherited ACEs (ProgramData: Users may create) removed. */
function adminOnly(dir: string): void {
  if (process.platform !== 'win32') return; // POSIX: the 0o700 mode did it
  execFileSync('icacls', [dir, '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F'], { stdio: 'ignore', windowsHide: true });
}

/** Is process `pid` running? (signal 0: EPERM means it exists but is not ours to signal.) */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** Stop and delete service `name` when its binary lies under our driver root; leave any other alone. */
function cleanStaleService(deps: LifecycleDeps, name: string): string[] {
  const { api } = deps;
  const notes: string[] = [];
  const scm = api.OpenSCManagerW(null, null, SC_MANAGER_CONNECT);
  if (isInvalidHandle(scm)) return notes; // loadDriver reports the SCM failure with its reason
  try {
    const svc = api.OpenServiceW(scm, name, SERVICE_QUERY_CONFIG | SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
    if (isInvalidHandle(svc)) return notes; // none: nothing stale
    try {
      const q = api.QueryServiceBinaryPath(svc);
      if ('error' in q) return notes; // loadDriver refuses it by name
      const root = driverImageFile(deps.fs.root, deps.systemRoot ?? 'C:\\Windows');
      const file = driverImageFile(q.binaryPath, deps.systemRoot ?? 'C:\\Windows');
      if (!file.startsWith(root + '\\')) return notes; // not ours: never touched (loadDriver says so)
      api.ControlService(svc, SERVICE_CONTROL_STOP, new Uint8Array(SERVICE_STATUS_SIZE)); // may be stopped already
      if (!api.DeleteService(svc)) {
        const err = api.GetLastError();
        if (err !== WIN32.ERROR_SERVICE_MARKED_FOR_DELETE) {
          throw new MemScopeError('io', `WinPmem driver service "${name}": a stale service of MemScope (${q.binaryPath}) cannot be deleted: ${win32Reason(err)} (DeleteService, Windows error ${err})`);
        }
      }
      notes.push(`removed a stale "${name}" service left by an earlier MemScope run (${q.binaryPath})`);
    } finally {
      api.CloseServiceHandle(svc);
    }
  } finally {
    api.CloseServiceHandle(scm);
  }
  return notes;
}

/** Load the driver at `sysPath` for this run (see the module comment). */
export function acquireDriver(sysPath: string, given?: Partial<LifecycleDeps>): OwnedDriver {
  const deps: LifecycleDeps = {
    api: given?.api ?? loadAdvapi32(),
    fs: given?.fs ?? defaultLifecycleFs(),
    pid: given?.pid ?? process.pid,
    pidAlive: given?.pidAlive ?? pidAlive,
    ...(given?.systemRoot ? { systemRoot: given.systemRoot } : {}),
    ...(given?.serviceName ? { serviceName: given.serviceName } : {}),
    sleep: given?.sleep ?? sleepSync,
  };
  const name = deps.serviceName ?? PMEM_SERVICE_NAME;
  let facts;
  try {
    facts = driverFileFacts(sysPath);
  } catch (e) {
    throw usageError(`WinPmem driver: ${e instanceof Error ? e.message : String(e)}: get the signed winpmem_x64.sys from a WinPmem release (github.com/Velocidex/WinPmem/releases)`);
  }
  const notes: string[] = [];
  const marker = deps.fs.readMarker();
  if (marker && marker.pid !== deps.pid) {
    if (deps.pidAlive(marker.pid)) {
      // Another MemScope loaded it and is still using it: share, never unload.
      return { serviceName: marker.serviceName, path: null, owner: false, notes: [`using the WinPmem driver loaded by MemScope process ${marker.pid} (left loaded for it)`], release: () => [] };
    }
    notes.push(`the MemScope run of process ${marker.pid} (${marker.startedAt}) ended without unloading the driver: cleaning up`);
    // only a directory of ours: a doctored marker must not make an administrator delete anything else
    if (/^run-\d+-[0-9a-f]{12}$/.test(basename(marker.dir)) && dirname(marker.dir) === deps.fs.root) deps.fs.removeDir(marker.dir);
    deps.fs.removeMarker();
  }
  notes.push(...cleanStaleService(deps, name));
  const dir = join(deps.fs.root, `run-${deps.pid}-${randomBytes(6).toString('hex')}`);
  const copy = join(dir, 'winpmem_x64.sys');
  deps.fs.makePrivateDir(dir);
  try {
    deps.fs.copyFile(sysPath, copy);
    const got = deps.fs.sha256(copy);
    if (got !== facts.sha256) throw new MemScopeError('io', `WinPmem driver: the private copy ${copy} (SHA-256 ${got}) differs from ${sysPath} (${facts.sha256}): not loading it`);
    deps.fs.writeMarker({ pid: deps.pid, serviceName: name, dir, startedAt: new Date().toISOString() });
    let loaded;
    for (let attempt = 0; ; attempt++) {
      try {
        loaded = loadDriver(copy, { api: deps.api, skipPathCheck: true, serviceName: name, ...(deps.systemRoot ? { systemRoot: deps.systemRoot } : {}) });
        break;
      } catch (e) {
        const code = (e as { win32Error?: number }).win32Error;
        if (code === WIN32.ERROR_SERVICE_MARKED_FOR_DELETE && attempt < 10) {
          deps.sleep?.(300); // the deleted service goes once its last handle closes
          continue;
        }
        throw e;
      }
    }
    let done = false;
    return {
      serviceName: name,
      path: copy,
      owner: true,
      notes,
      release(): string[] {
        if (done) return [];
        done = true;
        const warnings = loaded.unload();
        try {
          deps.fs.removeDir(dir);
        } catch (e) {
          warnings.push(`could not remove the driver copy ${dir}: ${e instanceof Error ? e.message : String(e)}`);
        }
        deps.fs.removeMarker();
        return warnings;
      },
    };
  } catch (e) {
    deps.fs.removeDir(dir);
    deps.fs.removeMarker();
    throw e;
  }
}
