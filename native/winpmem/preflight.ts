/**
 * Pre-flight facts for live memory, each one line the responder can act on before loading a kernel
 * driver: running elevated, the driver file (path, size, SHA-256, PE x64, Authenticode signature
 * present, its FileVersion — WinPmem 2.0.1 is the signed one), the Windows build, and
 * virtualization-based security / memory integrity (HVCI). HVCI matters twice: Windows may refuse
 * the driver (vulnerable-driver blocklist), and the signed 2.0.1 driver bugchecks in PHYSICAL mode
 * on a page the hypervisor withholds (WinPmem #9, #13), so the PHYSICAL fallback is turned off.
 *
 * The Win32 calls (shell32 IsUserAnAdmin, ntdll RtlGetVersion, advapi32 RegGetValueW) are bound
 * through koffi on Windows only, behind `PreflightApi` so tests run everywhere with a fake. The
 * driver-file checks are plain file reads (a PE's IMAGE_DIRECTORY_ENTRY_SECURITY holds the
 * Authenticode WIN_CERTIFICATE; presence is checked here, trust is Windows's job at load time).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { loadDll, loadKoffi } from './win32-ffi.js';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'info';

export interface PreflightCheck {
  readonly id: 'elevated' | 'driver' | 'windows' | 'vbs' | 'memory';
  readonly status: CheckStatus;
  readonly label: string;
  /** One line: what was found and what it means. */
  readonly detail: string;
}

export interface DriverFileFacts {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** 'x64' for a PE32+ AMD64 image. */
  readonly machine: string | null;
  readonly authenticodePresent: boolean;
  /** VS_VERSION_INFO FileVersion string, e.g. "2.0.1". */
  readonly fileVersion: string | null;
}

/** The SHA-256 of the signed WinPmem 2.0.1 winpmem_x64.sys (src/binaries, PE date 2020-10-08; WINPMEM-NOTES). */
export const WINPMEM_201_SHA256_PREFIX = 'b1b866f7';

const IMAGE_FILE_MACHINE_AMD64 = 0x8664;
const PE32_PLUS = 0x20b;
/** IMAGE_DIRECTORY_ENTRY_SECURITY: the 5th data directory (index 4). */
const SECURITY_DIR = 4;

/** Read the driver file's facts; throws a one-line Error for a missing file, a directory, or a non-PE. */
export function driverFileFacts(path: string): DriverFileFacts {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new Error(`${path}: no such file`);
  }
  if (st.isDirectory()) throw new Error(`${path}: is a directory, not a driver file`);
  if (!st.isFile()) throw new Error(`${path}: not a regular file`);
  if (st.size > 64 * 1024 * 1024) throw new Error(`${path}: ${st.size} bytes is too large for a driver`);
  const fd = openSync(path, 'r');
  let bytes: Buffer;
  try {
    bytes = Buffer.alloc(st.size);
    for (let off = 0; off < bytes.length;) {
      const n = readSync(fd, bytes, off, bytes.length - off, off);
      if (n === 0) break;
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  if (bytes.length < 0x40 || bytes.toString('latin1', 0, 2) !== 'MZ') throw new Error(`${path}: not a PE file (no MZ header)`);
  const peOff = bytes.readUInt32LE(0x3c);
  if (peOff + 24 > bytes.length || bytes.toString('latin1', peOff, peOff + 4) !== 'PE\0\0') throw new Error(`${path}: not a PE file (no PE signature)`);
  const machineCode = bytes.readUInt16LE(peOff + 4);
  const opt = peOff + 24;
  const magic = opt + 2 <= bytes.length ? bytes.readUInt16LE(opt) : 0;
  // PE32+ optional header: data directories start at 112; each is {VirtualAddress (a file offset for SECURITY), Size}.
  const dir = opt + 112 + SECURITY_DIR * 8;
  const secSize = magic === PE32_PLUS && dir + 8 <= bytes.length ? bytes.readUInt32LE(dir + 4) : 0;
  const secOff = magic === PE32_PLUS && dir + 8 <= bytes.length ? bytes.readUInt32LE(dir) : 0;
  return {
    path,
    size: st.size,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    machine: machineCode === IMAGE_FILE_MACHINE_AMD64 && magic === PE32_PLUS ? 'x64' : `machine 0x${machineCode.toString(16)}`,
    authenticodePresent: secSize >= 8 && secOff > 0 && secOff + secSize <= bytes.length,
    fileVersion: versionString(bytes, 'FileVersion'),
  };
}

/** A VS_VERSION_INFO StringFileInfo value (UTF-16LE key, NUL, padding to 4, UTF-16LE value). */
function versionString(bytes: Buffer, key: string): string | null {
  const k = Buffer.from(`${key}\0`, 'utf16le');
  const at = bytes.indexOf(k);
  if (at < 0) return null;
  let p = at + k.length;
  while (p % 4 !== 0) p++;
  let end = p;
  while (end + 1 < bytes.length && (bytes[end] !== 0 || bytes[end + 1] !== 0) && end - p < 128) end += 2;
  const v = bytes.toString('utf16le', p, end).trim();
  return v.length > 0 ? v : null;
}

export interface PreflightApi {
  isElevated(): boolean;
  /** dwMajorVersion.dwMinorVersion.dwBuildNumber from RtlGetVersion (not subject to manifest lies). */
  windowsVersion(): { major: number; minor: number; build: number };
  /** A REG_DWORD under HKLM, or null when absent. */
  hklmDword(key: string, value: string): number | null;
}

let api: PreflightApi | undefined;

/** The Win32 calls behind the checks (Windows only; koffi is loaded here, on first use). */
export function loadPreflightApi(): PreflightApi {
  if (api) return api;
  const koffi = loadKoffi();
  const shell32 = loadDll('shell32.dll');
  const ntdll = loadDll('ntdll.dll');
  const advapi32 = loadDll('advapi32.dll');
  const IsUserAnAdmin = shell32.func('int __stdcall IsUserAnAdmin()');
  // winnt.h RTL_OSVERSIONINFOW: dwOSVersionInfoSize, Major, Minor, Build, PlatformId, szCSDVersion[128]
  const OSVERSIONINFOW = koffi.struct('RTL_OSVERSIONINFOW', {
    dwOSVersionInfoSize: 'uint32_t', dwMajorVersion: 'uint32_t', dwMinorVersion: 'uint32_t', dwBuildNumber: 'uint32_t',
    dwPlatformId: 'uint32_t', szCSDVersion: koffi.array('uint16_t', 128),
  });
  const RtlGetVersion = ntdll.func('int32_t __stdcall RtlGetVersion(_Inout_ RTL_OSVERSIONINFOW *info)');
  // RegGetValueW(HKEY_LOCAL_MACHINE, subkey, value, RRF_RT_REG_DWORD, NULL, &data, &size)
  const RegGetValueW = advapi32.func('int32_t __stdcall RegGetValueW(intptr_t hkey, const char16_t *subKey, const char16_t *value, uint32_t flags, void *type, _Out_ uint32_t *data, _Inout_ uint32_t *size)');
  const HKEY_LOCAL_MACHINE = -2147483646; // (HKEY)0x80000002, sign-extended
  const RRF_RT_REG_DWORD = 0x10;
  api = {
    isElevated: () => IsUserAnAdmin() !== 0,
    windowsVersion() {
      const info = { dwOSVersionInfoSize: 276, dwMajorVersion: 0, dwMinorVersion: 0, dwBuildNumber: 0, dwPlatformId: 0, szCSDVersion: new Array<number>(128).fill(0) };
      const status = RtlGetVersion(info) as number;
      if (status !== 0) throw new Error(`RtlGetVersion failed (NTSTATUS 0x${(status >>> 0).toString(16)})`);
      return { major: info.dwMajorVersion, minor: info.dwMinorVersion, build: info.dwBuildNumber };
    },
    hklmDword(key, value) {
      const data = [0];
      const size = [4];
      const rc = RegGetValueW(HKEY_LOCAL_MACHINE, key, value, RRF_RT_REG_DWORD, null, data, size) as number;
      return rc === 0 ? (data[0] ?? 0) : null;
    },
  };
  void OSVERSIONINFOW;
  return api;
}

const DEVICE_GUARD = 'SYSTEM\\CurrentControlSet\\Control\\DeviceGuard';
const HVCI = `${DEVICE_GUARD}\\Scenarios\\HypervisorEnforcedCodeIntegrity`;

export interface VbsState {
  readonly vbs: boolean;
  readonly hvci: boolean;
}

/** VBS and memory integrity as configured (DeviceGuard registry values; 1 = on). */
export function vbsState(a: PreflightApi): VbsState {
  return { vbs: a.hklmDword(DEVICE_GUARD, 'EnableVirtualizationBasedSecurity') === 1, hvci: a.hklmDword(HVCI, 'Enabled') === 1 };
}

export interface PreflightInput {
  readonly platform: string;
  /** null off Windows. */
  readonly api: PreflightApi | null;
  readonly driverPath: string | null;
  /** After the driver answered GET_INFO: memory size (bytes) and run count. */
  readonly memory?: { readonly bytes: number; readonly runs: number } | null;
  /** The simulated device is serving this image instead of a driver. */
  readonly simulatedImage?: string | null;
}

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(0)} MiB`;

/** Every pre-flight line, in the order the panel shows them. Never throws. */
export function preflightChecks(input: PreflightInput): PreflightCheck[] {
  const out: PreflightCheck[] = [];
  const sim = input.simulatedImage ?? null;
  if (sim) {
    out.push({ id: 'elevated', status: 'info', label: 'Running elevated', detail: `not needed: simulated WinPmem device serving ${sim} (MEMSCOPE_SIMULATED_PMEM)` });
  } else if (input.platform !== 'win32' || !input.api) {
    out.push({ id: 'elevated', status: 'fail', label: 'Running elevated', detail: `live analysis needs Windows and administrator rights (WinPmem driver); this is ${input.platform}` });
  } else {
    const elevated = safe(() => input.api!.isElevated(), false);
    out.push({ id: 'elevated', status: elevated ? 'pass' : 'fail', label: 'Running elevated', detail: elevated ? 'MemScope runs as administrator' : 'not elevated: restart MemScope with "Run as administrator" (the driver and \\\\.\\pmem need it)' });
  }
  if (sim) {
    out.push({ id: 'driver', status: 'info', label: 'WinPmem driver', detail: 'simulated: no driver is loaded' });
  } else if (!input.driverPath) {
    out.push({ id: 'driver', status: 'fail', label: 'WinPmem driver', detail: 'no driver file: put the signed winpmem_x64.sys (WinPmem 2.0.1 release) next to MemScope or pass --driver PATH' });
  } else {
    try {
      const f = driverFileFacts(input.driverPath);
      const version = f.fileVersion ? `version ${f.fileVersion}` : 'no version resource';
      const signed = f.authenticodePresent ? 'Authenticode signature present' : 'NO Authenticode signature (Windows will refuse it unless test signing is on)';
      const status: CheckStatus = f.machine !== 'x64' ? 'fail' : f.authenticodePresent ? 'pass' : 'warn';
      const known = f.sha256.startsWith(WINPMEM_201_SHA256_PREFIX) ? ' (the signed WinPmem 2.0.1)' : '';
      out.push({ id: 'driver', status, label: 'WinPmem driver', detail: `${f.path}: ${f.size} bytes, SHA-256 ${f.sha256}${known}, ${f.machine}, ${version}, ${signed}` });
    } catch (e) {
      out.push({ id: 'driver', status: 'fail', label: 'WinPmem driver', detail: e instanceof Error ? e.message : String(e) });
    }
  }
  if (!sim && input.platform === 'win32' && input.api) {
    const v = safe(() => input.api!.windowsVersion(), null);
    out.push(v
      ? { id: 'windows', status: v.major >= 10 ? 'pass' : 'warn', label: 'Windows build', detail: `Windows ${v.major}.${v.minor} build ${v.build}${v.major >= 10 ? '' : ' (MemScope profiles cover Windows 10 and later)'}` }
      : { id: 'windows', status: 'warn', label: 'Windows build', detail: 'RtlGetVersion failed: build unknown (discovery will still read it from memory)' });
    const s = safe(() => vbsState(input.api!), null);
    out.push(!s
      ? { id: 'vbs', status: 'warn', label: 'VBS / memory integrity', detail: 'unknown (DeviceGuard registry unreadable): PHYSICAL mode fallback disabled to be safe' }
      : s.hvci || s.vbs
        ? { id: 'vbs', status: 'warn', label: 'VBS / memory integrity', detail: `${s.vbs ? 'VBS on' : 'VBS off'}, memory integrity ${s.hvci ? 'on' : 'off'}: Windows may block the driver, some pages will be withheld, and the PHYSICAL mode fallback is disabled (the signed 2.0.1 driver can crash the machine there)` }
        : { id: 'vbs', status: 'pass', label: 'VBS / memory integrity', detail: 'off: the driver can read all of RAM in PTE mode (PHYSICAL as fallback)' });
  } else if (sim) {
    out.push({ id: 'windows', status: 'info', label: 'Windows build', detail: 'simulated: the build is read from the image' });
    out.push({ id: 'vbs', status: 'info', label: 'VBS / memory integrity', detail: 'simulated: not applicable' });
  }
  if (input.memory) {
    out.push({ id: 'memory', status: 'pass', label: 'Physical memory', detail: `${mib(input.memory.bytes)} in ${input.memory.runs} runs (GET_INFO)` });
  } else {
    out.push({ id: 'memory', status: 'info', label: 'Physical memory', detail: 'known once the driver answers (after Start)' });
  }
  return out;
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** PHYSICAL fallback is allowed only when VBS and memory integrity are known to be off. */
export function physicalFallbackAllowed(a: PreflightApi | null): boolean {
  if (!a) return true; // simulated
  const s = safe(() => vbsState(a), null);
  return s !== null && !s.vbs && !s.hvci;
}
