/**
 * The WinPmem device protocol as data: device path, IOCTL codes, acquisition modes, and the GET_INFO
 * reply (`WINPMEM_MEMORY_INFO`, formerly `struct PmemMemoryInfo`) with its encoder/decoder.
 *
 * Verified against the WinPmem sources (github.com/Velocidex/WinPmem; /work/shared/WINPMEM-NOTES.md):
 * - src/userspace_interface/ctl_codes.h:7-13 (HEAD 1385e10 and the signed 2.0.1 at 8b712ab, same
 *   values): CTL_CODE(0x22, 0x101|0x102|0x103, METHOD_NEITHER=3, FILE_READ_DATA|FILE_WRITE_DATA=3).
 *   Rekall's winpmem 1.6.3 (tools/windows/winpmem/winpmem.h:58-65) used METHOD_BUFFERED for the same
 *   functions — but with a different struct (KPCR[32]: NumberOfRuns at 0x930), which this module
 *   does not decode: the legacy codes are kept only so a 1.6.3 driver is refused by name.
 * - winpmem_shared.h:24-72: PMEM_MODE_IOSPACE 0, PMEM_MODE_PHYSICAL 1, PMEM_MODE_PTE 2; the struct
 *   under `#pragma pack(push, 2)`: CR3, NtBuildNumber, KernBase, KDBG, KPCR[64], PfnDataBase,
 *   PsLoadedModuleList, PsActiveProcessHead, NtBuildNumberAddr, Padding[0xfe], NumberOfRuns, Run[]
 *   of {BaseAddress, NumberOfBytes}, every field 8 bytes: NumberOfRuns at 0xa30, Run[0] at 0xa38.
 * - Run[] capacity: 20 in the signed 2.0.1 driver (sizeof 2936), 300 in HEAD since #63 (sizeof
 *   7416). Either refuses a too-small output buffer, or more runs than it holds, with
 *   STATUS_INFO_LENGTH_MISMATCH (Win32 24) and no partial reply (winpmem.c:292-297). So MemScope
 *   hands GET_INFO a 64 KiB buffer (as go-winpmem imager.go:154) and accepts up to 300 runs.
 * - NtBuildNumber is read through a PUSHORT (winpmem.h:52, winpmem.c:318): only the low 16 bits
 *   arrive, no 0xF0000000 free-build flag. KDBG, PfnDataBase, PsLoadedModuleList and
 *   PsActiveProcessHead are always zero in 2.x (winpmem.c:302): hints at best.
 */
import { MemScopeError } from '../../main/engine/errors.js';
import type { PhysicalRun } from '../../main/engine/sources/physical-source.js';
import { hex } from '../../main/engine/util/hex.js';

/** Win32 path of the device the driver creates (`\Device\pmem`, linked as `\??\pmem`). */
export const PMEM_DEVICE_PATH = '\\\\.\\pmem';
/**
 * Service name the driver is registered under: `winpmem`, as WinPmem's own tools since PR #54. Not
 * `pmem`: on Windows 10 and later that service is Microsoft's persistent-memory disk driver
 * (\SystemRoot\System32\drivers\pmem.sys), and creating, stopping or deleting it breaks that
 * driver (WinPmem issue #53).
 */
export const PMEM_SERVICE_NAME = 'winpmem';

export const FILE_DEVICE_UNKNOWN = 0x22;
export const METHOD_BUFFERED = 0;
export const METHOD_NEITHER = 3;
/** FILE_READ_DATA (1) | FILE_WRITE_DATA (2): the handle must be opened with read AND write access. */
export const FILE_READ_WRITE_DATA = 3;

/** winioctl.h CTL_CODE: (DeviceType << 16) | (Access << 14) | (Function << 2) | Method. */
export function ctlCode(deviceType: number, fn: number, method: number, access: number): number {
  for (const [name, v, max] of [['deviceType', deviceType, 0xffff], ['function', fn, 0xfff], ['method', method, 3], ['access', access, 3]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`CTL_CODE ${name} ${v} out of range 0..${max}`);
  }
  return ((deviceType << 16) | (access << 14) | (fn << 2) | method) >>> 0;
}

const pmemIoctl = (fn: number, method: number): number => ctlCode(FILE_DEVICE_UNKNOWN, fn, method, FILE_READ_WRITE_DATA);

export interface PmemIoctls {
  /** PMEM_CTRL_IOCTRL / IOCTL_SET_MODE: input is a u32 acquisition mode. */
  readonly setMode: number;
  /** PMEM_WRITE_ENABLE: toggles write mode. MemScope never sends it. */
  readonly writeEnable: number;
  /** PMEM_INFO_IOCTRL / IOCTL_GET_INFO: output is the memory info struct. */
  readonly getInfo: number;
}

/** Driver 2.x (the signed winpmem_x64.sys in current releases): METHOD_NEITHER. */
export const PMEM_IOCTLS: PmemIoctls = {
  setMode: pmemIoctl(0x101, METHOD_NEITHER), // 0x22c407
  writeEnable: pmemIoctl(0x102, METHOD_NEITHER), // 0x22c40b
  getInfo: pmemIoctl(0x103, METHOD_NEITHER), // 0x22c40f
};

/** Rekall winpmem 1.6.3: METHOD_BUFFERED (its GET_INFO struct differs: not decoded here). */
export const PMEM_IOCTLS_LEGACY: PmemIoctls = {
  setMode: pmemIoctl(0x101, METHOD_BUFFERED), // 0x22c404
  writeEnable: pmemIoctl(0x102, METHOD_BUFFERED), // 0x22c408
  getInfo: pmemIoctl(0x103, METHOD_BUFFERED), // 0x22c40c
};

/** Acquisition modes (PMEM_MODE_*): how the driver maps the physical page it copies. */
export const PMEM_MODES = {
  /** MmMapIoSpace. */
  iospace: 0,
  /** A view of \Device\PhysicalMemory: the default of the signed 2.0.1 driver only (HEAD defaults to iospace). */
  physical: 1,
  /** Direct PTE remapping (x64 only): the mode WinPmem's own tools use, and MemScope's first choice. */
  pte: 2,
} as const;
export type PmemMode = keyof typeof PMEM_MODES;

export function encodeMode(mode: PmemMode): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, PMEM_MODES[mode], true);
  return b;
}

/** Byte offsets of WINPMEM_MEMORY_INFO (x64, pack(2), every field 8 bytes). */
export const INFO_OFFSETS = {
  CR3: 0x000,
  NtBuildNumber: 0x008,
  KernBase: 0x010,
  KDBG: 0x018,
  KPCR: 0x020, // [64]
  PfnDataBase: 0x220,
  PsLoadedModuleList: 0x228,
  PsActiveProcessHead: 0x230,
  NtBuildNumberAddr: 0x238,
  Padding: 0x240, // [0xfe]
  NumberOfRuns: 0xa30,
  Run: 0xa38, // [n] of { start, length }
} as const;
export const KPCR_COUNT = 64;
export const PADDING_COUNT = 0xfe;
export const RUN_SIZE = 16;
/** Size of everything before Run[0]. */
export const INFO_HEADER_SIZE = INFO_OFFSETS.Run;
/** Most runs accepted: HEAD's NUMBER_OF_RUNS (300, winpmem_shared.h:29); the signed 2.0.1 holds 20. */
export const MAX_RUNS = 300;
/** Run[] capacity of the signed 2.0.1 driver (and both shipped binaries). */
export const RUNS_V201 = 20;
/** The output buffer MemScope hands GET_INFO: 64 KiB, as go-winpmem does, room for any driver's struct. */
export const INFO_BUFFER_SIZE = 64 * 1024;
/** Physical addresses above 2^52 do not exist on x64 (Intel SDM vol. 3, 4.1.4, MAXPHYADDR <= 52). */
const MAX_PHYS = 2 ** 52;

export interface PmemInfo {
  /** CR3 as the driver saw it in System context, low bits kept. */
  readonly cr3: bigint;
  /** The kernel's NtBuildNumber as the driver sends it: its low 16 bits only (read through a PUSHORT). */
  readonly ntBuildNumber: bigint;
  readonly kernBase: bigint;
  readonly kdbg: bigint;
  /** KPCR per processor; zero for absent processors. */
  readonly kpcr: readonly bigint[];
  readonly pfnDataBase: bigint;
  readonly psLoadedModuleList: bigint;
  readonly psActiveProcessHead: bigint;
  readonly ntBuildNumberAddr: bigint;
  readonly runs: readonly PhysicalRun[];
}

/** A fault of the reply, named after the device that sent it (the real `\\.\pmem` or the simulated one). */
const badOf = (device: string) => (problem: string): MemScopeError => new MemScopeError('format', `${device} GET_INFO reply: ${problem}`);

/** Check runs as MmGetPhysicalMemoryRanges promises them: non-empty, sorted, non-overlapping, < 2^52. */
export function checkRuns(runs: readonly PhysicalRun[], device: string = PMEM_DEVICE_PATH): void {
  const bad = badOf(device);
  if (runs.length > MAX_RUNS) throw bad(`NumberOfRuns ${runs.length} exceeds the ${MAX_RUNS} runs the reply layout holds`);
  let prevEnd = 0;
  runs.forEach((r, i) => {
    if (!Number.isSafeInteger(r.start) || r.start < 0 || r.start >= MAX_PHYS) throw bad(`Run[${i}].start ${String(r.start)} is not a physical address below 2^52`);
    if (!Number.isSafeInteger(r.length) || r.length < 0) throw bad(`Run[${i}].length ${String(r.length)} is negative or not an integer`);
    if (r.length === 0) throw bad(`Run[${i}].length is zero (run at ${hex(r.start)})`);
    if (r.start + r.length > MAX_PHYS) throw bad(`Run[${i}] ${hex(r.start)}+${hex(r.length)} ends above 2^52`);
    if (i > 0 && r.start < prevEnd) {
      throw bad(`Run[${i}].start ${hex(r.start)} is below the end of Run[${i - 1}] (${hex(prevEnd)}): runs overlap or are unsorted`);
    }
    prevEnd = r.start + r.length;
  });
}

/** Encode the reply byte-for-byte as the driver writes it: header, then NumberOfRuns entries, then zeros to `capacity` runs. */
export function encodeInfo(info: PmemInfo, capacity: number = MAX_RUNS): Uint8Array {
  checkRuns(info.runs);
  if (!Number.isInteger(capacity) || capacity < info.runs.length || capacity > MAX_RUNS) {
    throw new RangeError(`encodeInfo: capacity ${capacity} must be between ${info.runs.length} and ${MAX_RUNS}`);
  }
  if (info.kpcr.length > KPCR_COUNT) throw new RangeError(`encodeInfo: ${info.kpcr.length} KPCRs, the struct holds ${KPCR_COUNT}`);
  const out = new Uint8Array(INFO_HEADER_SIZE + capacity * RUN_SIZE);
  const v = new DataView(out.buffer);
  const put = (off: number, x: bigint) => v.setBigUint64(off, BigInt.asUintN(64, x), true);
  put(INFO_OFFSETS.CR3, info.cr3);
  put(INFO_OFFSETS.NtBuildNumber, info.ntBuildNumber);
  put(INFO_OFFSETS.KernBase, info.kernBase);
  put(INFO_OFFSETS.KDBG, info.kdbg);
  info.kpcr.forEach((k, i) => put(INFO_OFFSETS.KPCR + i * 8, k));
  put(INFO_OFFSETS.PfnDataBase, info.pfnDataBase);
  put(INFO_OFFSETS.PsLoadedModuleList, info.psLoadedModuleList);
  put(INFO_OFFSETS.PsActiveProcessHead, info.psActiveProcessHead);
  put(INFO_OFFSETS.NtBuildNumberAddr, info.ntBuildNumberAddr);
  put(INFO_OFFSETS.NumberOfRuns, BigInt(info.runs.length));
  info.runs.forEach((r, i) => {
    put(INFO_OFFSETS.Run + i * RUN_SIZE, BigInt(r.start));
    put(INFO_OFFSETS.Run + i * RUN_SIZE + 8, BigInt(r.length));
  });
  return out;
}

/** Decode a GET_INFO reply (`reply` = the bytes the driver returned); every fault names its field. */
export function decodeInfo(reply: Uint8Array, device: string = PMEM_DEVICE_PATH): PmemInfo {
  const bad = badOf(device);
  if (reply.length < INFO_HEADER_SIZE) {
    throw bad(`truncated: ${reply.length} bytes, the header alone (up to NumberOfRuns) is ${INFO_HEADER_SIZE}`);
  }
  const v = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const u = (off: number) => v.getBigUint64(off, true);
  const s = (off: number) => v.getBigInt64(off, true); // LARGE_INTEGER is signed
  const n = s(INFO_OFFSETS.NumberOfRuns);
  if (n < 0n || n > BigInt(MAX_RUNS)) throw bad(`NumberOfRuns ${n} exceeds the ${MAX_RUNS} runs the reply layout holds`);
  const count = Number(n);
  const need = INFO_HEADER_SIZE + count * RUN_SIZE;
  if (reply.length < need) throw bad(`truncated: NumberOfRuns ${count} needs ${need} bytes, got ${reply.length}`);
  const runs: PhysicalRun[] = [];
  for (let i = 0; i < count; i++) {
    const start = s(INFO_OFFSETS.Run + i * RUN_SIZE);
    const length = s(INFO_OFFSETS.Run + i * RUN_SIZE + 8);
    if (start < 0n || start >= BigInt(MAX_PHYS)) throw bad(`Run[${i}].start ${hex(start)} is not a physical address below 2^52`);
    if (length < 0n || length > BigInt(MAX_PHYS)) throw bad(`Run[${i}].length ${hex(length)} is negative or above 2^52`);
    runs.push({ start: Number(start), length: Number(length) });
  }
  checkRuns(runs, device);
  const kpcr: bigint[] = [];
  for (let i = 0; i < KPCR_COUNT; i++) kpcr.push(u(INFO_OFFSETS.KPCR + i * 8));
  return {
    cr3: u(INFO_OFFSETS.CR3),
    ntBuildNumber: u(INFO_OFFSETS.NtBuildNumber),
    kernBase: u(INFO_OFFSETS.KernBase),
    kdbg: u(INFO_OFFSETS.KDBG),
    kpcr,
    pfnDataBase: u(INFO_OFFSETS.PfnDataBase),
    psLoadedModuleList: u(INFO_OFFSETS.PsLoadedModuleList),
    psActiveProcessHead: u(INFO_OFFSETS.PsActiveProcessHead),
    ntBuildNumberAddr: u(INFO_OFFSETS.NtBuildNumberAddr),
    runs,
  };
}
