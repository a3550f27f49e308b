/**
 * The copy of the kernel debugger data block (KDDEBUGGER_DATA64) a triage dump carries at
 * DebuggerDataOffset, written decoded (in memory it is encoded since Windows 8). Its layout is the
 * debugger's public contract (Debugging Tools wdbgexts.h), fixed across builds, not a kernel type in
 * the PDB, so its few offsets live here:
 *   DBGKD_DEBUG_DATA_HEADER64 { 0x00 List (LIST_ENTRY64), 0x10 OwnerTag "KDBG", 0x14 Size u32 }
 *   0x18 KernBase  0x48 PsLoadedModuleList  0x50 PsActiveProcessHead
 * triage_x64.dmp: at 0x104a8, OwnerTag "KDBG", Size 0x380, KernBase 0xfffff8047ba00000, and the same
 * PsLoadedModuleList / PsActiveProcessHead as its DUMP_HEADER64.
 */
import { formatError } from '../../errors.js';
import type { ImageFile } from '../image-file.js';
import type { TriageHeader } from './triage-header.js';

const OWNER_TAG = 0x10;
const SIZE = 0x14;
const KERN_BASE = 0x18;
const PS_LOADED_MODULE_LIST = 0x48;
const PS_ACTIVE_PROCESS_HEAD = 0x50;
const READ = PS_ACTIVE_PROCESS_HEAD + 8;

export interface KdbgCopy {
  /** File offset of the copy. */
  readonly offset: number;
  /** Header.Size: the size of the structure the kernel declares. */
  readonly size: number;
  readonly kernBase: bigint;
  readonly psLoadedModuleList: bigint;
  readonly psActiveProcessHead: bigint;
}

/** Null when the dump carries no copy (DebuggerDataOffset 0); its bounds were checked with the header. */
export function readKdbg(file: ImageFile, t: TriageHeader): KdbgCopy | null {
  if (t.debuggerDataOffset === 0) return null;
  const path = file.path;
  if (t.debuggerDataSize < READ) {
    throw formatError(path, `triage dump DebuggerDataSize 0x${t.debuggerDataSize.toString(16)} is smaller than the KDBG fields MemScope reads (0x${READ.toString(16)} bytes)`);
  }
  const b = file.readAt(t.debuggerDataOffset, READ);
  const tag = b.subarray(OWNER_TAG, OWNER_TAG + 4).toString('latin1');
  if (tag !== 'KDBG') {
    const shown = [...tag].map((c) => (c >= ' ' && c <= '~' ? c : '.')).join('');
    throw formatError(path, `triage dump KDBG copy at DebuggerDataOffset 0x${t.debuggerDataOffset.toString(16)} has OwnerTag "${shown}", not "KDBG" (still encoded, or not a debugger data block)`);
  }
  return {
    offset: t.debuggerDataOffset,
    size: b.readUInt32LE(SIZE),
    kernBase: b.readBigUInt64LE(KERN_BASE),
    psLoadedModuleList: b.readBigUInt64LE(PS_LOADED_MODULE_LIST),
    psActiveProcessHead: b.readBigUInt64LE(PS_ACTIVE_PROCESS_HEAD),
  };
}
