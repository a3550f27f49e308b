/**
 * Decode one _EPROCESS into the process row every process plugin shares. Fields come from the
 * profile by name; image path and command line come from PEB → ProcessParameters read through the
 * process's OWN address space (its DirBase), because the PEB is user memory. A field that cannot be
 * read is null and named in `missing`; nothing here throws for what the image contains.
 */
import type { Profile } from '../profile/profile.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import type { ProcessSpaces } from '../translate/process-spaces.js';
import type { VirtualMemory } from '../translate/types.js';
import { X64AddressSpace } from '../translate/x64/address-space.js';
import { pml4FromDtb } from '../translate/x64/mmu.js';
import { hex } from '../util/hex.js';
import { StructView, readUnicodeString } from './struct-view.js';

export interface ProcessRow {
  readonly pid: number | null;
  readonly ppid: number | null;
  readonly name: string | null;
  readonly imagePath: string | null;
  readonly commandLine: string | null;
  /**
   * EPROCESS kernel VA; null for a remnant found in a physical page no kernel page table maps (its VA
   * is unknown beyond the page offset; `physicalOffset` locates it and `warnings` says so).
   */
  readonly offset: string | null;
  /** PA of the EPROCESS start (null when its first byte does not translate). */
  readonly physicalOffset: string | null;
  /** Raw DirectoryTableBase, low bits kept. */
  readonly dtb: string | null;
  readonly userDtb: string | null;
  readonly createTime: string | null;
  readonly exitTime: string | null;
  readonly threads: number | null;
  readonly sessionId: number | null;
  readonly wow64: boolean | null;
  /** Fields that could not be read. */
  readonly missing: readonly string[];
  readonly warnings: readonly string[];
}

/** What decoding needs of the kernel (a subset of WindowsKernel, so tests can hand-build it). */
export interface ProcessDecodeContext {
  readonly profile: Profile;
  readonly kernel: VirtualMemory;
  readonly source: PhysicalSource;
  /** The session's per-process address spaces; without them each read builds a throwaway space. */
  readonly processSpaces?: ProcessSpaces;
}

/** Highest PID we treat as sane: Windows handle values are < 2^24 (16M handles per table). */
export const MAX_SANE_PID = 1 << 24;

const WOW64_FIELDS = ['WoW64Process', 'Wow64Process'] as const;

/** The EPROCESS fields a row reads, by name, so callers can tell which ones the build has. */
export function readEprocess(ctx: ProcessDecodeContext, va: bigint, view?: StructView): ProcessRow {
  const v = view ?? StructView.fromVirtual(ctx.profile, '_EPROCESS', ctx.kernel, va);
  const t = ctx.kernel.translate(va);
  return decodeEprocess(ctx, v, hex(va), t.pa === null ? null : hex(t.pa), []);
}

export const UNMAPPED_REMNANT_NOTE = 'found in an unmapped physical page (remnant; virtual address unknown)';

/** The label of a psscan row whose EPROCESS lies in a free pool block (PoolType 0). */
export const FREED_POOL_BLOCK_NOTE = 'in a freed pool block (PoolType 0): remnant of an earlier process';

/** `row` with one more note in its warnings. */
export function withNote(row: ProcessRow, note: string): ProcessRow {
  return row.warnings.includes(note) ? row : { ...row, warnings: [...row.warnings, note] };
}

/**
 * Why an EPROCESS read from pool (or reached through a pointer) is not a process, or null when it is
 * sane: PID a multiple of 4 below 2^24, printable ImageFileName, CreateTime in 1980..2200 and not
 * after ExitTime, DirBase non-zero once masked and inside physical memory. DirBase low bits (PCID,
 * as Windows 10/11 writes `…002`) are NEVER a reason to reject: Rekall's page-alignment rule dropped
 * LockApp.exe that way.
 */
export function eprocessInsanity(row: ProcessRow, sourceSize: number): string | null {
  if (row.pid === null || row.pid % 4 !== 0 || row.pid >= MAX_SANE_PID) return `PID ${row.pid ?? 'unreadable'} is not a multiple of 4 below 2^24`;
  if (row.name === null || row.name.length === 0 || !/^[\x20-\x7e]+$/.test(row.name)) return `ImageFileName ${JSON.stringify(row.name)} is not printable text`;
  if (row.createTime === null) return 'CreateTime is unreadable, zero or out of range';
  const created = Date.parse(row.createTime);
  if (created < Date.UTC(1980, 0, 1) || created > Date.UTC(2200, 0, 1)) return `CreateTime ${row.createTime} is implausible`;
  if (row.exitTime !== null && Date.parse(row.exitTime) < created) return `ExitTime ${row.exitTime} precedes CreateTime`;
  if (row.dtb === null) return 'DirectoryTableBase is unreadable';
  const pml4 = pml4FromDtb(BigInt(row.dtb)); // low 12 bits are PCID/flags, never a reason to reject
  if (pml4 === 0) return `DirectoryTableBase ${row.dtb} is zero once masked`;
  if (pml4 >= sourceSize) return `DirectoryTableBase ${row.dtb} points past the end of physical memory`;
  return null;
}

/**
 * The same rule for a remnant (a freed pool block, an unmapped page): nothing in the kernel vouches
 * for it, so its DirBase frame must also be memory the image holds, not a hole between runs.
 */
export function remnantInsanity(row: ProcessRow, source: PhysicalSource): string | null {
  const insane = eprocessInsanity(row, source.size);
  if (insane !== null) return insane;
  const frame = pml4FromDtb(BigInt(row.dtb!));
  if (source.read(frame, 8).absent.length > 0) return `DirectoryTableBase ${row.dtb} is a frame the image does not hold`;
  return null;
}

/**
 * An EPROCESS at physical `pa` in a page no kernel page table maps (a psscan remnant): `view` holds
 * what the page has (fields past its end are holes → `missing`). The row's `offset` is null.
 */
export function readEprocessUnmapped(ctx: ProcessDecodeContext, pa: number, view: StructView): ProcessRow {
  return decodeEprocess(ctx, view, null, hex(pa), [UNMAPPED_REMNANT_NOTE]);
}

function decodeEprocess(ctx: ProcessDecodeContext, v: StructView, offset: string | null, physicalOffset: string | null, notes: string[]): ProcessRow {
  const warnings: string[] = [...notes];
  const pidRaw = v.pointer('UniqueProcessId');
  const ppidRaw = v.pointer('InheritedFromUniqueProcessId');
  const pid = pidRaw === null ? null : saneId(pidRaw);
  const ppid = ppidRaw === null ? null : saneId(ppidRaw);
  if (pidRaw !== null && pid === null) warnings.push(`UniqueProcessId ${hex(pidRaw)} is not a plausible PID`);
  const name = v.cString('ImageFileName');
  const dtbRaw = v.u64('Pcb.DirectoryTableBase');
  const userDtbRaw = v.has('Pcb.UserDirectoryTableBase') ? v.u64('Pcb.UserDirectoryTableBase') : null;
  const createTime = v.filetime('CreateTime');
  const exitTime = v.filetime('ExitTime');
  const threads = v.u32('ActiveThreads');

  const wowField = WOW64_FIELDS.find((f) => v.has(f));
  const wowPtr = wowField ? v.pointer(wowField) : null;
  if (!wowField) v.markMissing('WoW64Process');

  const sessionId = readSessionId(ctx, v);

  let imagePath: string | null = null;
  let commandLine: string | null = null;
  const peb = v.pointer('Peb');
  if (peb !== null && peb !== 0n && dtbRaw !== null) {
    const params = readProcessParameters(ctx, dtbRaw, peb);
    imagePath = params.imagePath;
    commandLine = params.commandLine;
    for (const m of params.missing) v.markMissing(m);
  }

  return {
    pid,
    ppid,
    name,
    imagePath,
    commandLine,
    offset,
    physicalOffset,
    dtb: dtbRaw === null ? null : hex(dtbRaw),
    userDtb: userDtbRaw === null || userDtbRaw === 0n ? null : hex(userDtbRaw),
    createTime,
    exitTime,
    threads,
    sessionId,
    wow64: wowField === undefined || wowPtr === null ? null : wowPtr !== 0n,
    missing: v.missing,
    warnings,
  };
}

function saneId(raw: bigint): number | null {
  if (raw >= BigInt(MAX_SANE_PID)) return null;
  return Number(raw);
}

/** Session id via EPROCESS.Session → _MM_SESSION_SPACE.SessionId; null for session-less processes. */
function readSessionId(ctx: ProcessDecodeContext, v: StructView): number | null {
  const { profile, kernel } = ctx;
  if (!v.has('Session')) return null;
  const session = v.pointer('Session');
  if (session === null || session === 0n) return null;
  if (!profile.hasField('_MM_SESSION_SPACE', 'SessionId')) return null;
  // Read only SessionId: _MM_SESSION_SPACE is ~20 KiB, mostly unmapped in a real image, and read
  // once per process this would dominate pslist/psscan.
  const r = kernel.read(session + BigInt(profile.offsetOf('_MM_SESSION_SPACE', 'SessionId')), 4);
  if (r.missing.length > 0) {
    v.markMissing('sessionId');
    return null;
  }
  return new DataView(r.data.buffer, r.data.byteOffset, 4).getUint32(0, true);
}

/** Image path and command line from PEB.ProcessParameters, read in the process's own address space. */
export function readProcessParameters(ctx: ProcessDecodeContext, dtbRaw: bigint, peb: bigint): { imagePath: string | null; commandLine: string | null; missing: string[] } {
  const { profile, source } = ctx;
  const missing: string[] = [];
  const pml4 = pml4FromDtb(dtbRaw); // DirBase bits 12..51; bits 11:0 are PCID or flags
  if (pml4 === 0 || pml4 >= source.size) {
    return { imagePath: null, commandLine: null, missing: ['imagePath', 'commandLine'] };
  }
  const space = processSpace(ctx, dtbRaw);
  const ppOff = profile.offsetOf('_PEB', 'ProcessParameters');
  const ppRead = space.read(peb + BigInt(ppOff), 8);
  if (ppRead.missing.length) return { imagePath: null, commandLine: null, missing: ['imagePath', 'commandLine'] };
  const pp = new DataView(ppRead.data.buffer, ppRead.data.byteOffset, 8).getBigUint64(0, true);
  if (pp === 0n) return { imagePath: null, commandLine: null, missing: ['imagePath', 'commandLine'] };
  const params = StructView.fromVirtual(profile, '_RTL_USER_PROCESS_PARAMETERS', space, pp);
  const str = (field: string, label: string): string | null => {
    const us = params.unicodeString(field);
    const s = us ? readUnicodeString(space, us) : null;
    if (s === null) missing.push(label);
    return s;
  };
  return { imagePath: str('ImagePathName', 'imagePath'), commandLine: str('CommandLine', 'commandLine'), missing };
}

/** The address space of a process DirBase: the session's (translate/process-spaces.ts), else a fresh one. */
export function processSpace(ctx: ProcessDecodeContext, dtbRaw: bigint): VirtualMemory {
  return ctx.processSpaces?.of(dtbRaw) ?? new X64AddressSpace(ctx.source, dtbRaw, { tlbEntries: 256, tableCachePages: 64 });
}
