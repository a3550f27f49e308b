/**
 * The _DUMP_HEADER64 page every 64-bit Windows kernel dump ("PAGEDU64") starts with, whatever its
 * DumpType: the one reader of its fields, shared by the full/bitmap reader (crashdump.ts) and the
 * triage reader (triage/).
 *
 * Layout (0x2000 bytes; no Microsoft spec, as reverse-engineered publicly: Rekall crashdump.py,
 * kdmp-parser HEADER64 with offset static_asserts, rizin librz/bin/format/dmp/dmp_specs.h
 * dmp64_header, Volatility 3 layers/crash.py), checked against the two real triage dumps in
 * shared/data/crash-dumps:
 *   0x000 "PAGE" 0x004 "DU64"  0x008 MajorVersion u32 (0xf free / 0xc checked)
 *   0x00c MinorVersion u32 (= NtBuildNumber's low 16 bits, e.g. 0x4a61 = 19041)
 *   0x010 DirectoryTableBase   0x018 PfnDataBase   0x020 PsLoadedModuleList   0x028 PsActiveProcessHead
 *   0x030 MachineImageType u32 (PE machine: 0x8664 x64, 0xaa64 ARM64)   0x034 NumberProcessors u32
 *   0x038 BugCheckCode u32     0x040 BugCheckParameter[4] u64   0x080 KdDebuggerDataBlock
 *   0x088 PhysicalMemoryBlockBuffer (full dumps; see crashdump.ts)   0x348 ContextRecord
 *   0xf00 Exception (EXCEPTION_RECORD64)   0xf98 DumpType u32   0xfa0 RequiredDumpSpace u64
 *   0xfa8 SystemTime (FILETIME of the crash)   0xfb0 Comment[128]   0x1030 SystemUpTime (100 ns)
 * Unused header bytes hold the "PAGE" pattern the kernel fills the page with.
 */
import { formatError } from '../errors.js';
import type { ImageFile } from './image-file.js';
import type { SourceHints } from './physical-source.js';

export const DUMP_HEADER_SIZE = 0x2000;
/** "PAGE" read as a little-endian u32: the filler of unused header space. */
export const PAGE_FILL = 0x45474150;
export const MACHINE_X64 = 0x8664;

/** The DumpType values MemScope knows (0xf98); 2 is the legacy summary dump, 4 a triage dump. */
export const DUMP_TYPE = { full: 1, summary: 2, triage: 4, bitmapFull: 5, bitmapKernel: 6 } as const;

/** PE IMAGE_FILE_MACHINE_* values a dump header may name (winnt.h). */
const MACHINES: Readonly<Record<number, string>> = {
  0x8664: 'x64',
  0xaa64: 'ARM64',
  0x0200: 'IA64',
  0x014c: 'x86',
  0x01c4: 'ARM',
};

/** "0xAA64 (ARM64)": the machine type as a responder reads it in WinDbg's `vertarget`. */
export function machineName(type: number): string {
  return `0x${type.toString(16).toUpperCase()} (${MACHINES[type] ?? 'unknown machine'})`;
}

export interface DumpHeader64 {
  readonly majorVersion: number;
  readonly minorVersion: number;
  readonly dumpType: number;
  /** 0 and the PAGE filler mean "not recorded". */
  readonly machineImageType: number;
  readonly numberOfProcessors: number;
  readonly bugCheckCode: number;
  readonly bugCheckParameters: readonly [bigint, bigint, bigint, bigint];
  readonly pfnDataBase: bigint;
  /** Addresses the kernel recorded; undefined when zero (not recorded). */
  readonly directoryTableBase?: bigint;
  readonly psLoadedModuleList?: bigint;
  readonly psActiveProcessHead?: bigint;
  readonly kdDebuggerDataBlock?: bigint;
  /** FILETIME (UTC) of the crash; undefined when zero or the PAGE filler. */
  readonly systemTime?: bigint;
  /** Time since boot in 100 ns units; undefined when zero or the PAGE filler. */
  readonly systemUpTime?: bigint;
}

const PAGE_FILL_U64 = (BigInt(PAGE_FILL) << 32n) | BigInt(PAGE_FILL);

/** Read and check the header page of an open PAGEDU64 file (signature, length). */
export function readDumpHeader(file: ImageFile): DumpHeader64 {
  const path = file.path;
  const hdr = file.readAt(0, DUMP_HEADER_SIZE);
  const sig = hdr.subarray(0, 8).toString('latin1');
  if (sig === 'PAGEDUMP') throw formatError(path, '32-bit crash dump (PAGEDUMP); only 64-bit dumps (PAGEDU64) are supported');
  if (sig !== 'PAGEDU64') throw formatError(path, 'not a 64-bit Windows crash dump (no PAGEDU64 signature)');
  if (hdr.length < DUMP_HEADER_SIZE) throw formatError(path, `truncated crash dump header (0x${hdr.length.toString(16)} of 0x${DUMP_HEADER_SIZE.toString(16)} bytes)`);

  const address = (at: number): bigint | undefined => {
    const v = hdr.readBigUInt64LE(at);
    return v === 0n ? undefined : v;
  };
  const recorded = (at: number): bigint | undefined => {
    const v = hdr.readBigUInt64LE(at);
    return v === 0n || v === PAGE_FILL_U64 ? undefined : v;
  };
  const p = (i: number): bigint => hdr.readBigUInt64LE(0x40 + i * 8);
  return dropUndefined({
    majorVersion: hdr.readUInt32LE(0x08),
    minorVersion: hdr.readUInt32LE(0x0c),
    dumpType: hdr.readUInt32LE(0xf98),
    machineImageType: hdr.readUInt32LE(0x30),
    numberOfProcessors: hdr.readUInt32LE(0x34),
    bugCheckCode: hdr.readUInt32LE(0x38),
    bugCheckParameters: [p(0), p(1), p(2), p(3)] as const,
    pfnDataBase: hdr.readBigUInt64LE(0x18),
    directoryTableBase: address(0x10),
    psLoadedModuleList: address(0x20),
    psActiveProcessHead: address(0x28),
    kdDebuggerDataBlock: address(0x80),
    systemTime: recorded(0xfa8),
    systemUpTime: recorded(0x1030),
  });
}

/** MinorVersion carries NtBuildNumber (e.g. 19041); its high (checked/free) bits are not stored. */
export const buildNumberOf = (h: DumpHeader64): number => h.minorVersion & 0xffff;

/** Is the machine type recorded at all? (0 and the PAGE filler: a writer that left it empty). */
export const machineRecorded = (h: DumpHeader64): boolean => h.machineImageType !== 0 && h.machineImageType !== PAGE_FILL;

/** The header facts discovery may use as hints (each validated there, never trusted blindly). */
export function headerHints(h: DumpHeader64): SourceHints {
  return dropUndefined({
    dtb: h.directoryTableBase,
    psLoadedModuleList: h.psLoadedModuleList,
    psActiveProcessHead: h.psActiveProcessHead,
    machineImageType: h.machineImageType,
    numberOfProcessors: h.numberOfProcessors,
    kdDebuggerDataBlock: h.kdDebuggerDataBlock,
    majorVersion: h.majorVersion,
    minorVersion: h.minorVersion,
    buildNumber: buildNumberOf(h),
  });
}

/** MemScope's translation and profiles are x64 only: another architecture's dump is refused by name. */
export function requireX64(path: string, h: DumpHeader64): void {
  if (machineRecorded(h) && h.machineImageType !== MACHINE_X64) {
    throw formatError(path, `crash dump for machine type ${machineName(h.machineImageType)}: MemScope analyses x64 (0x8664) Windows memory only; \`memscope info\` shows its header (build, bugcheck, crash time)`);
  }
}

export function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
