/**
 * Windows-side proof for native/winpmem (run by scripts/wine-proof.sh under Wine with a Windows
 * node.exe and koffi's win32-x64 build): the koffi bindings load and marshal on Windows.
 * 1. Win32PmemDevice.open('\\.\pmem') with no driver → the mapped "driver not loaded" error;
 * 2. the same class over an ordinary file: SetFilePointerEx + ReadFile return the file's bytes at
 *    an offset (the path a physical read takes), DeviceIoControl fails with a mapped error;
 * 3. loadDriver with a path that is not a driver → a clear usage error before any SCM call;
 * 4. QueryServiceConfigW through koffi reads back the binary path of a service we register, and
 *    loadDriver refuses that service (another driver's binary) without starting or deleting it.
 * 5. the pre-flight calls (native/winpmem/preflight.ts): IsUserAnAdmin, RtlGetVersion, RegGetValueW
 *    on the DeviceGuard keys, and the pre-flight lines built from them.
 * Prints one `RESULT <name> <ok|FAIL> <detail>` line per check.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  DELETE, loadAdvapi32, loadDriver, SC_MANAGER_CONNECT, SC_MANAGER_CREATE_SERVICE, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL,
  SERVICE_KERNEL_DRIVER, SERVICE_QUERY_CONFIG,
} from '../native/winpmem/driver.js';
import { openLiveWinPmem } from '../native/winpmem/index.js';
import { loadPreflightApi, preflightChecks } from '../native/winpmem/preflight.js';
import { PMEM_IOCTLS } from '../native/winpmem/protocol.js';
import { pinReaderThread, raiseReaderThreadPriority, Win32PmemDevice } from '../native/winpmem/win32-device.js';

const results: boolean[] = [];
const report = (name: string, ok: boolean, detail: string) => {
  results.push(ok);
  console.log(`RESULT ${name} ${ok ? 'ok' : 'FAIL'} ${detail}`);
};
const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

console.log(`platform ${process.platform} ${process.arch} node ${process.version}`);

try {
  const d = Win32PmemDevice.open();
  d.close();
  report('pmem-open', false, 'opened \\\\.\\pmem without a driver?');
} catch (e) {
  report('pmem-open', /driver not loaded .*CreateFileW, Windows error 2\)/.test(msg(e)), msg(e));
}

try {
  openLiveWinPmem().close();
  report('open-live', false, 'opened live memory without a driver?');
} catch (e) {
  report('open-live', /^\\\\\.\\pmem: driver not loaded/.test(msg(e)), msg(e));
}

const file = process.env['TEMP'] ? `${process.env['TEMP']}\\memscope-wine-proof.bin` : 'C:\\memscope-wine-proof.bin';
const bytes = new Uint8Array(0x3000);
for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
writeFileSync(file, bytes);
try {
  const d = Win32PmemDevice.open(file);
  try {
    const got = d.readAt(0x1ffd, 0x20);
    const want = readFileSync(file).subarray(0x1ffd, 0x1ffd + 0x20);
    report('readfile', Buffer.compare(Buffer.from(got), want) === 0, `read ${got.length} bytes at 0x1ffd: ${Buffer.from(got).toString('hex')}`);
    const tail = d.readAt(0x2ff0, 0x100);
    report('short-read', tail.length === 0x10, `read at 0x2ff0 asked 0x100, got ${tail.length} (file ends)`);
    try {
      d.ioctl(PMEM_IOCTLS.getInfo, new Uint8Array(0), 4216);
      report('ioctl', false, 'GET_INFO on a plain file succeeded?');
    } catch (e) {
      report('ioctl', /DeviceIoControl 0x22c40f, Windows error \d+\)/.test(msg(e)), msg(e));
    }
  } finally {
    d.close();
  }
} catch (e) {
  report('readfile', false, msg(e));
}

try {
  loadDriver('C:\\windows\\win.ini');
  report('driver-path', false, 'accepted a non-driver path');
} catch (e) {
  report('driver-path', /not a driver \(\.sys\) file: get the signed winpmem_x64\.sys/.test(msg(e)), msg(e));
}

try {
  loadDriver('C:\\no\\such\\winpmem_x64.sys', { skipPathCheck: true });
  report('scm', false, 'loaded a driver that does not exist?');
} catch (e) {
  // Wine's SCM: either refuses (not admin) or fails to start the missing .sys; either way one mapped line.
  report('scm', /^(Service Control Manager|WinPmem driver service "winpmem"): .*Windows error \d+\)$/.test(msg(e)), msg(e));
}

// 4. a service of that name registered for another driver: read back, then refused untouched
{
  const api = loadAdvapi32();
  const name = 'memscope-proof-foreign';
  const foreign = 'C:\\windows\\system32\\drivers\\foreign.sys';
  const scm = api.OpenSCManagerW(null, null, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
  const svc = api.CreateServiceW(scm, name, name, SERVICE_QUERY_CONFIG | DELETE, SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, foreign, null, null, null, null, null);
  if (!svc) {
    report('query-config', false, `CreateServiceW failed, Windows error ${api.GetLastError()}`);
  } else {
    try {
      const q = api.QueryServiceBinaryPath(svc);
      report('query-config', 'binaryPath' in q && q.binaryPath.toLowerCase().endsWith(foreign.slice(2).toLowerCase()), JSON.stringify(q));
      try {
        loadDriver('C:\\tools\\winpmem_x64.sys', { skipPathCheck: true, serviceName: name });
        report('foreign-service', false, 'used a service registered for another driver');
      } catch (e) {
        const again = api.QueryServiceBinaryPath(svc); // still there: not deleted
        report('foreign-service', /already exists for another driver \(.*foreign\.sys\), not C:\\tools\\winpmem_x64\.sys/.test(msg(e)) && 'binaryPath' in again, msg(e));
      }
    } finally {
      api.DeleteService(svc);
      api.CloseServiceHandle(svc);
    }
  }
  api.CloseServiceHandle(scm);
}

// 4b. the reader thread is pinned to one CPU (2.0.1 PTE mode needs it) and raised above the scan workers
try {
  const previous = pinReaderThread(0);
  report('pin-thread', previous !== 0n, `SetThreadAffinityMask(GetCurrentThread(), 1) → previous mask 0x${previous.toString(16)}`);
} catch (e) {
  report('pin-thread', false, msg(e));
}
try {
  report('reader-priority', raiseReaderThreadPriority(), 'SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_ABOVE_NORMAL)');
} catch (e) {
  report('reader-priority', false, msg(e));
}

// 5. pre-flight: the koffi declarations run and answer plausibly (Wine reports its own "Windows 10")
try {
  const pf = loadPreflightApi();
  const elevated = pf.isElevated();
  report('preflight-elevated', typeof elevated === 'boolean', `IsUserAnAdmin → ${elevated}`);
  const v = pf.windowsVersion();
  report('preflight-version', v.major >= 6 && v.build > 0, `RtlGetVersion → ${v.major}.${v.minor}.${v.build}`);
  const vbs = pf.hklmDword('SYSTEM\\CurrentControlSet\\Control\\DeviceGuard', 'EnableVirtualizationBasedSecurity');
  const missing = pf.hklmDword('SYSTEM\\MemScopeProof\\NoSuchKey', 'Nope');
  report('preflight-registry', (vbs === null || typeof vbs === 'number') && missing === null, `DeviceGuard VBS → ${vbs}, absent key → ${missing}`);
  const lines = preflightChecks({ platform: process.platform, api: pf, driverPath: null });
  report('preflight-lines', lines.some((l) => l.id === 'windows' && /Windows \d+\.\d+ build \d+/.test(l.detail)) && lines.some((l) => l.id === 'driver' && l.status === 'fail'), lines.map((l) => `${l.id}:${l.status}`).join(' '));
} catch (e) {
  report('preflight', false, msg(e));
}

console.log(`SUMMARY ${results.filter(Boolean).length}/${results.length} ok`);
process.exitCode = results.every(Boolean) ? 0 : 1;
