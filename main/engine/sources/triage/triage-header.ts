/**
 * TRIAGE_DUMP: the header of a kernel triage dump (DumpType 4), right after the 0x2000-byte
 * DUMP_HEADER64. Every offset in it is a file offset (ContextOffset 0x348 and ExceptionOffset 0xf00
 * point back into DUMP_HEADER64 itself), and every region it names must lie inside the first
 * SizeOfDump bytes (what follows is secondary dump data, e.g. "DumpBlob"s).
 *
 * 64-bit layout (WRK triage.h TRIAGE_DUMP, widened for 64 bits as rizin dmp_specs.h dmp64_triage;
 * checked against shared/data/crash-dumps/triage_x64.dmp at 0x2000):
 *   0x00 ServicePackBuild  0x04 SizeOfDump  0x08 ValidOffset  0x0c ContextOffset  0x10 ExceptionOffset
 *   0x14 MmOffset  0x18 UnloadedDriversOffset  0x1c PrcbOffset  0x20 ProcessOffset  0x24 ThreadOffset
 *   0x28 CallStackOffset  0x2c SizeOfCallStack  0x30 DriverListOffset  0x34 DriverCount
 *   0x38 StringPoolOffset  0x3c StringPoolSize  0x40 BrokenDriverOffset  0x44 TriageOptions
 *   0x48 TopOfStack u64  0x50 ArchitectureSpecific (16 bytes, IA64 backing store)
 *   0x60 DataPageAddress u64  0x68 DataPageOffset  0x6c DataPageSize  0x70 DebuggerDataOffset
 *   0x74 DebuggerDataSize  0x78 DataBlocksOffset  0x7c DataBlocksCount        (all u32 unless noted)
 */
import { formatError } from '../../errors.js';
import { DUMP_HEADER_SIZE } from '../crashdump-header.js';
import type { ImageFile } from '../image-file.js';

export const TRIAGE_HEADER_AT = DUMP_HEADER_SIZE;
const TRIAGE_HEADER_SIZE = 0x80;
/** TRIAGE_DUMP_VALID ('DGRT' as a C multi-char constant): the u32 at ValidOffset, written last. */
const TRIAGE_DUMP_VALID = 0x44475254;

export interface TriageHeader {
  readonly servicePackBuild: number;
  readonly sizeOfDump: number;
  readonly validOffset: number;
  readonly contextOffset: number;
  readonly exceptionOffset: number;
  readonly mmOffset: number;
  readonly unloadedDriversOffset: number;
  readonly prcbOffset: number;
  readonly processOffset: number;
  readonly threadOffset: number;
  readonly callStackOffset: number;
  readonly sizeOfCallStack: number;
  readonly driverListOffset: number;
  readonly driverCount: number;
  readonly stringPoolOffset: number;
  readonly stringPoolSize: number;
  readonly brokenDriverOffset: number;
  readonly triageOptions: number;
  readonly topOfStack: bigint;
  readonly dataPageAddress: bigint;
  readonly dataPageOffset: number;
  readonly dataPageSize: number;
  readonly debuggerDataOffset: number;
  readonly debuggerDataSize: number;
  readonly dataBlocksOffset: number;
  readonly dataBlocksCount: number;
}

const h = (v: number | bigint): string => '0x' + v.toString(16);

/** Where a triage region may lie: the file's first SizeOfDump bytes. */
export interface TriageBounds {
  readonly path: string;
  readonly sizeOfDump: number;
}

/**
 * Throw, naming `field`, unless `length` bytes at file offset `offset` lie inside the triage dump.
 * `what` names the region when `field` is its count or size rather than its offset (then shown).
 */
export function checkRegion(b: TriageBounds, field: string, offset: number, length: number, what?: string): void {
  if (offset + length <= b.sizeOfDump) return;
  const where = what === undefined ? h(offset) : `(${what}: ${h(length)} bytes at ${h(offset)})`;
  throw formatError(b.path, `triage dump ${field} ${where} points past the end of the triage data (SizeOfDump ${h(b.sizeOfDump)})`);
}

export function readTriageHeader(file: ImageFile): TriageHeader {
  const path = file.path;
  const b = file.readAt(TRIAGE_HEADER_AT, TRIAGE_HEADER_SIZE);
  if (b.length < TRIAGE_HEADER_SIZE) {
    throw formatError(path, `truncated triage dump: TRIAGE_DUMP at ${h(TRIAGE_HEADER_AT)} has ${b.length} of ${TRIAGE_HEADER_SIZE} bytes`);
  }
  const u = (at: number): number => b.readUInt32LE(at);
  const t: TriageHeader = {
    servicePackBuild: u(0x00), sizeOfDump: u(0x04), validOffset: u(0x08), contextOffset: u(0x0c),
    exceptionOffset: u(0x10), mmOffset: u(0x14), unloadedDriversOffset: u(0x18), prcbOffset: u(0x1c),
    processOffset: u(0x20), threadOffset: u(0x24), callStackOffset: u(0x28), sizeOfCallStack: u(0x2c),
    driverListOffset: u(0x30), driverCount: u(0x34), stringPoolOffset: u(0x38), stringPoolSize: u(0x3c),
    brokenDriverOffset: u(0x40), triageOptions: u(0x44), topOfStack: b.readBigUInt64LE(0x48),
    dataPageAddress: b.readBigUInt64LE(0x60), dataPageOffset: u(0x68), dataPageSize: u(0x6c),
    debuggerDataOffset: u(0x70), debuggerDataSize: u(0x74), dataBlocksOffset: u(0x78), dataBlocksCount: u(0x7c),
  };
  checkHeader(file, t);
  return t;
}

/** Bounds of every offset the header names; the lists (blocks, drivers, KDBG) check their own entries. */
function checkHeader(file: ImageFile, t: TriageHeader): void {
  const path = file.path;
  if (t.sizeOfDump < TRIAGE_HEADER_AT + TRIAGE_HEADER_SIZE) {
    throw formatError(path, `triage dump SizeOfDump ${h(t.sizeOfDump)} is smaller than its own headers (${h(TRIAGE_HEADER_AT + TRIAGE_HEADER_SIZE)} bytes)`);
  }
  if (t.sizeOfDump > file.size) {
    throw formatError(path, `triage dump SizeOfDump ${h(t.sizeOfDump)} is larger than the file (${h(file.size)} bytes); the dump is truncated`);
  }
  const b: TriageBounds = { path, sizeOfDump: t.sizeOfDump };
  checkRegion(b, 'ValidOffset', t.validOffset, 4);
  const valid = file.readAt(t.validOffset, 4).readUInt32LE(0);
  if (valid !== TRIAGE_DUMP_VALID) {
    throw formatError(path, `triage dump ValidOffset ${h(t.validOffset)} holds ${h(valid)}, not the TRIAGE_DUMP_VALID marker "TRGD": the dump was not completely written`);
  }
  // Single objects whose size only the kernel's profile knows: the offset itself must be inside.
  const at: [string, number][] = [
    ['ContextOffset', t.contextOffset], ['ExceptionOffset', t.exceptionOffset], ['MmOffset', t.mmOffset],
    ['UnloadedDriversOffset', t.unloadedDriversOffset], ['PrcbOffset', t.prcbOffset], ['ProcessOffset', t.processOffset],
    ['ThreadOffset', t.threadOffset], ['BrokenDriverOffset', t.brokenDriverOffset],
  ];
  for (const [field, off] of at) if (off !== 0) checkRegion(b, field, off, 1);
  if (t.callStackOffset !== 0) checkRegion(b, 'SizeOfCallStack', t.callStackOffset, t.sizeOfCallStack, 'call stack');
  if (t.stringPoolOffset !== 0) checkRegion(b, 'StringPoolSize', t.stringPoolOffset, t.stringPoolSize, 'string pool');
  if (t.dataPageOffset !== 0) checkRegion(b, 'DataPageSize', t.dataPageOffset, t.dataPageSize, 'data page');
  if (t.debuggerDataOffset !== 0) checkRegion(b, 'DebuggerDataSize', t.debuggerDataOffset, t.debuggerDataSize, 'KDBG copy');
}
