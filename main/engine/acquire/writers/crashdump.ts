/**
 * Windows 64-bit crash dump writer (PAGEDU64), full (DumpType 1) and bitmap (DumpType 5 or 6), from
 * the publicly reverse-engineered layouts (Rekall crashdump.py vtypes; kdmp-parser HEADER64 and
 * BMP_HEADER64 with their offset static_asserts; Volatility 3 layers/crash.py). Written
 * independently of the engine's reader, so reading our own files cross-checks both.
 *
 * _DUMP_HEADER64 (0x2000 bytes, unused bytes hold the "PAGE" filler as the kernel writes them):
 *   0x000 "PAGE" 0x004 "DU64" 0x008 MajorVersion 0x00c MinorVersion (build) 0x010 DirectoryTableBase
 *   0x018 PfnDataBase 0x020 PsLoadedModuleList 0x028 PsActiveProcessHead 0x030 MachineImageType
 *   0x034 NumberProcessors 0x038 BugCheckCode 0x040 BugCheckCodeParameter[4] 0x080 KdDebuggerDataBlock
 *   0x088 PhysicalMemoryBlockBuffer {NumberOfRuns u32, pad u32, NumberOfPages u64, Run[]{BasePage,
 *   PageCount} from 0x098, ≤ 43 before ContextRecord at 0x348} 0xf98 DumpType 0xfa0 RequiredDumpSpace
 * Full: page data from 0x2000, run after run.
 * Bitmap: _BMP_DUMP_HEADER64 at 0x2000 {"SDMP"|"FDMP", "DUMP", 0x20 FirstPage, 0x28
 *   TotalPresentPages, 0x30 Pages, 0x38 Bitmap (bit i = page i present, LSB first)}; present pages
 *   from FirstPage (page-aligned after the bitmap) in page-number order.
 */
import * as fs from 'node:fs';
import { DEFAULT_CHUNK, normalizeRuns, streamRun, writeAll, type MemoryContent, type MemoryRun } from './content.js';

export interface CrashHeaderFields {
  readonly directoryTableBase?: bigint;
  readonly pfnDataBase?: bigint;
  readonly psLoadedModuleList?: bigint;
  readonly psActiveProcessHead?: bigint;
  readonly kdDebuggerDataBlock?: bigint;
  /** 0xf for a free build (default). */
  readonly majorVersion?: number;
  /** The build number, e.g. 19041 (default 19041). */
  readonly minorVersion?: number;
  /** Default 0x8664 (x64). */
  readonly machineImageType?: number;
  /** Default 1. */
  readonly numberProcessors?: number;
  /** Default 0xe2 (MANUALLY_INITIATED_CRASH). */
  readonly bugCheckCode?: number;
  readonly bugCheckParameters?: readonly [bigint, bigint, bigint, bigint];
}

export interface CrashWriteOptions {
  readonly header?: CrashHeaderFields;
  /** Bitmap dumps: 5 (default) or 6. */
  readonly dumpType?: 5 | 6;
  /** Bitmap dumps: "FDMP" (complete memory, default) or "SDMP" (kernel/automatic). */
  readonly bitmapSignature?: 'SDMP' | 'FDMP';
  /** Bitmap dumps: bits in the bitmap; default covers the highest page, rounded up to 8. */
  readonly bitmapPages?: number;
  readonly chunkBytes?: number;
}

const PAGE = 0x1000;
const HEADER = 0x2000;
const MAX_HEADER_RUNS = 43;

function pageAligned(runs: readonly MemoryRun[]): void {
  for (const r of runs) {
    if (r.start % PAGE !== 0 || r.length % PAGE !== 0) {
      throw new RangeError(`crash dump writer: run 0x${r.start.toString(16)}+0x${r.length.toString(16)} is not page-aligned`);
    }
  }
}

function dumpHeader(runs: readonly MemoryRun[], dumpType: number, fields: CrashHeaderFields, forceRuns: boolean): Buffer {
  const b = Buffer.alloc(HEADER);
  for (let i = 0; i < HEADER; i += 4) b.write('PAGE', i, 'latin1');
  b.write('PAGEDU64', 0, 'latin1');
  b.writeUInt32LE(fields.majorVersion ?? 0xf, 0x08);
  b.writeUInt32LE(fields.minorVersion ?? 19041, 0x0c);
  b.writeBigUInt64LE(fields.directoryTableBase ?? 0n, 0x10);
  b.writeBigUInt64LE(fields.pfnDataBase ?? 0n, 0x18);
  b.writeBigUInt64LE(fields.psLoadedModuleList ?? 0n, 0x20);
  b.writeBigUInt64LE(fields.psActiveProcessHead ?? 0n, 0x28);
  b.writeUInt32LE(fields.machineImageType ?? 0x8664, 0x30);
  b.writeUInt32LE(fields.numberProcessors ?? 1, 0x34);
  b.writeUInt32LE(fields.bugCheckCode ?? 0xe2, 0x38);
  b.writeUInt32LE(0, 0x3c);
  (fields.bugCheckParameters ?? [0n, 0n, 0n, 0n]).forEach((p, i) => b.writeBigUInt64LE(p, 0x40 + i * 8));
  b.writeBigUInt64LE(fields.kdDebuggerDataBlock ?? 0n, 0x80);
  if (runs.length <= MAX_HEADER_RUNS || forceRuns) {
    if (runs.length > MAX_HEADER_RUNS) throw new RangeError(`crash dump writer: a full dump holds at most ${MAX_HEADER_RUNS} runs (got ${runs.length})`);
    b.writeUInt32LE(runs.length, 0x88);
    b.writeUInt32LE(0, 0x8c);
    b.writeBigUInt64LE(BigInt(runs.reduce((n, r) => n + r.length / PAGE, 0)), 0x90);
    runs.forEach((r, i) => {
      b.writeBigUInt64LE(BigInt(r.start / PAGE), 0x98 + i * 16);
      b.writeBigUInt64LE(BigInt(r.length / PAGE), 0xa0 + i * 16);
    });
  }
  b.writeUInt32LE(dumpType, 0xf98);
  b.writeUInt32LE(0, 0xf9c);
  return b;
}

/** Full dump (DumpType 1). Returns the runs a reader will see. */
export function writeCrashDumpFull(path: string, content: MemoryContent, options: CrashWriteOptions = {}): MemoryRun[] {
  const runs = normalizeRuns(content.runs);
  if (runs.length === 0) throw new RangeError('crash dump writer: no memory to write');
  pageAligned(runs);
  const header = dumpHeader(runs, 1, options.header ?? {}, true);
  const total = HEADER + runs.reduce((n, r) => n + r.length, 0);
  header.writeBigUInt64LE(BigInt(total), 0xfa0); // RequiredDumpSpace
  const fd = fs.openSync(path, 'w');
  try {
    writeAll(fd, header, 0);
    streamRunsFrom(fd, HEADER, runs, content, options);
  } finally {
    fs.closeSync(fd);
  }
  return runs;
}

/** Page data of every run, back to back from file offset `start` (both dump kinds store pages in run order). */
function streamRunsFrom(fd: number, start: number, runs: readonly MemoryRun[], content: MemoryContent, options: CrashWriteOptions): void {
  let off = start;
  for (const r of runs) {
    streamRun(fd, off, r, content, options.chunkBytes ?? DEFAULT_CHUNK);
    off += r.length;
  }
}

/** Bitmap dump (DumpType 5 or 6). Returns the runs a reader will see. */
export function writeCrashDumpBitmap(path: string, content: MemoryContent, options: CrashWriteOptions = {}): MemoryRun[] {
  const runs = normalizeRuns(content.runs);
  if (runs.length === 0) throw new RangeError('crash dump writer: no memory to write');
  pageAligned(runs);
  const last = runs[runs.length - 1]!;
  const highestPages = (last.start + last.length) / PAGE;
  const pages = options.bitmapPages ?? Math.ceil(highestPages / 8) * 8;
  if (pages < highestPages) throw new RangeError(`crash dump writer: bitmapPages ${pages} does not cover page ${highestPages - 1}`);
  const bitmap = Buffer.alloc(Math.ceil(pages / 8));
  let present = 0;
  for (const r of runs) {
    for (let p = r.start / PAGE; p < (r.start + r.length) / PAGE; p++) bitmap[p >> 3]! |= 1 << (p & 7);
    present += r.length / PAGE;
  }
  const firstPage = Math.ceil((HEADER + 0x38 + bitmap.length) / PAGE) * PAGE;
  const total = firstPage + present * PAGE;

  const header = dumpHeader(runs, options.dumpType ?? 5, options.header ?? {}, false);
  header.writeBigUInt64LE(BigInt(total), 0xfa0);
  const bmp = Buffer.alloc(0x38);
  bmp.write(options.bitmapSignature ?? 'FDMP', 0, 'latin1');
  bmp.write('DUMP', 4, 'latin1');
  bmp.writeBigUInt64LE(BigInt(firstPage), 0x20);
  bmp.writeBigUInt64LE(BigInt(present), 0x28);
  bmp.writeBigUInt64LE(BigInt(pages), 0x30);

  const fd = fs.openSync(path, 'w');
  try {
    writeAll(fd, header, 0);
    writeAll(fd, bmp, HEADER);
    writeAll(fd, bitmap, HEADER + 0x38);
    fs.ftruncateSync(fd, firstPage);
    streamRunsFrom(fd, firstPage, runs, content, options);
  } finally {
    fs.closeSync(fd);
  }
  return runs;
}
