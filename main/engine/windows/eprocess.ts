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
import { StructView, readUnicodeString, type UnicodeStringValue } from './struct-view.js';

export interface ProcessRow {
  readonly pid: number | null;
  readonly ppid: number | null;
  readonly name: string | null;
  readonly imagePath: string | null;
  readonly commandLine: string | null;
  /**
   * EPROCESS kernel VA; null for a remnant found in a physical page no kernel page table maps (its VA
   * is unknown beyond the page offset; `physicalOffset` locates it and `warnings` says so).
   * Addresses stay numbers in the engine; session/wire.ts and the CLI's renderers print them as hex.
   */
  readonly offset: bigint | null;
  /** PA of the EPROCESS start (null when its first byte does not translate). */
  readonly physicalOffset: number | null;
  /** Raw DirectoryTableBase, low bits kept. */
  readonly dtb: bigint | null;
  /** KVA-shadow user DirectoryTableBase (null when zero or absent). */
  readonly userDtb: bigint | null;
  readonly createTime: string | null;
  readonly exitTime: string | null;
  readonly threads: number | null;
  readonly sessionId: number | null;
  readonly wow64: boolean | null;
  /** Fields that could not be read. */
  readonly missing: readonly string[];
  readonly warnings: readonly string[];
  /** The parent's ImageFileName (the process whose PID is `ppid` and which started before this one). */
  readonly parentName: string | null;
  /**
   * The kernel's own record of the image path (SeAuditProcessCreationInfo.ImageFileName, an NT path
   * like `\\Device\\HarddiskVolume3\\Windows\\System32\\lsass.exe`): kernel memory, so it survives a
   * paged-out PEB and the process's exit.
   */
  readonly kernelImagePath: string | null;
  /** PEB → ProcessParameters → CurrentDirectory.DosPath. */
  readonly currentDirectory: string | null;
  /** Why each absent value (null above) is absent, in plain words: "no PEB", "paged out", "exited", "outside the image". */
  readonly whyAbsent: Readonly<Record<string, string>>;
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
  return decodeEprocess(ctx, v, va, t.pa, []);
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
  const pml4 = pml4FromDtb(row.dtb); // low 12 bits are PCID/flags, never a reason to reject
  if (pml4 === 0) return `DirectoryTableBase ${hex(row.dtb)} is zero once masked`;
  if (pml4 >= sourceSize) return `DirectoryTableBase ${hex(row.dtb)} points past the end of physical memory`;
  return null;
}

/**
 * The same rule for a remnant (a freed pool block, an unmapped page): nothing in the kernel vouches
 * for it, so its DirBase frame must also be memory the image holds, not a hole between runs.
 */
export function remnantInsanity(row: ProcessRow, source: PhysicalSource): string | null {
  const insane = eprocessInsanity(row, source.size);
  if (insane !== null) return insane;
  const frame = pml4FromDtb(row.dtb!);
  if (source.read(frame, 8).absent.length > 0) return `DirectoryTableBase ${hex(row.dtb!)} is a frame the image does not hold`;
  return null;
}

/**
 * An EPROCESS at physical `pa` in a page no kernel page table maps (a psscan remnant): `view` holds
 * what the page has (fields past its end are holes → `missing`). The row's `offset` is null.
 */
export function readEprocessUnmapped(ctx: ProcessDecodeContext, pa: number, view: StructView): ProcessRow {
  return decodeEprocess(ctx, view, null, pa, [UNMAPPED_REMNANT_NOTE]);
}

function decodeEprocess(ctx: ProcessDecodeContext, v: StructView, offset: bigint | null, physicalOffset: number | null, notes: string[]): ProcessRow {
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
  const whyAbsent: Record<string, string> = {};
  if (wowField === undefined) whyAbsent['wow64'] = 'not in this build';
  else if (wowPtr === null) whyAbsent['wow64'] = 'unreadable';

  const audit = readAuditImagePath(ctx, v);
  if (audit.why !== null) whyAbsent['kernelImagePath'] = audit.why;

  const params = readPebStrings(ctx, v, dtbRaw, exitTime !== null);
  for (const [field, why] of Object.entries(params.why)) whyAbsent[field] = why;
  whyAbsent['parentName'] = UNRESOLVED_PARENT;

  return {
    pid,
    ppid,
    name,
    imagePath: params.imagePath,
    commandLine: params.commandLine,
    offset,
    physicalOffset,
    dtb: dtbRaw,
    userDtb: userDtbRaw === null || userDtbRaw === 0n ? null : userDtbRaw,
    createTime,
    exitTime,
    threads,
    sessionId,
    wow64: wowField === undefined || wowPtr === null ? null : wowPtr !== 0n,
    missing: v.missing,
    warnings,
    parentName: null,
    kernelImagePath: audit.path,
    currentDirectory: params.currentDirectory,
    whyAbsent,
  };
}

/** Until the rows around it are known, a row's parent is not resolved (windows/process-parents.ts does). */
export const UNRESOLVED_PARENT = 'not resolved (needs the other processes)';

/**
 * Why a read of user or kernel memory failed, in plain words: the source does not hold the frame
 * ("outside the image"), the address is no address, or the page is not resident ("paged out"; for an
 * exited process, whose address space is torn down, "exited").
 */
export function plainReason(reason: string, exited: boolean): string {
  if (/absent from source|outside physical memory/.test(reason)) return 'outside the image';
  if (/non-canonical/.test(reason)) return 'not a valid address';
  return exited ? 'exited' : 'paged out';
}

/** SeAuditProcessCreationInfo.ImageFileName → _OBJECT_NAME_INFORMATION.Name (a _UNICODE_STRING at its start), read in kernel space. */
function readAuditImagePath(ctx: ProcessDecodeContext, v: StructView): { path: string | null; why: string | null } {
  const field = 'SeAuditProcessCreationInfo.ImageFileName';
  if (!v.has(field)) return { path: null, why: 'not in this build' };
  const ptr = v.pointer(field);
  if (ptr === null) return { path: null, why: 'unreadable' };
  if (ptr === 0n) return { path: null, why: 'not recorded by the kernel' };
  const us = readUnicodeStringAt(ctx.profile, ctx.kernel, ptr);
  if ('why' in us) return { path: null, why: us.why === MALFORMED ? us.why : plainReason(us.why, false) };
  return { path: us.text, why: null };
}

const MALFORMED = 'malformed string';

/** The _UNICODE_STRING at `va` and its text, or why it cannot be read (the translation's reason). */
function readUnicodeStringAt(profile: Profile, vm: VirtualMemory, va: bigint): { text: string } | { why: string } {
  const head = vm.read(va, profile.sizeOf('_UNICODE_STRING'));
  if (head.missing.length) return { why: head.missing[0]!.reason };
  const dv = new DataView(head.data.buffer, head.data.byteOffset, head.data.byteLength);
  return unicodeText(vm, {
    length: dv.getUint16(profile.offsetOf('_UNICODE_STRING', 'Length'), true),
    maximumLength: dv.getUint16(profile.offsetOf('_UNICODE_STRING', 'MaximumLength'), true),
    buffer: dv.getBigUint64(profile.offsetOf('_UNICODE_STRING', 'Buffer'), true),
  });
}

/** A _UNICODE_STRING's text, or why not: its buffer's translation reason, or "malformed string". */
function unicodeText(vm: VirtualMemory, us: UnicodeStringValue): { text: string } | { why: string } {
  const text = readUnicodeString(vm, us);
  if (text !== null) return { text };
  if (us.buffer !== 0n && us.length > 0) {
    const r = vm.read(us.buffer, Math.min(us.length, 2));
    if (r.missing.length) return { why: r.missing[0]!.reason };
  }
  return { why: MALFORMED };
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

/** The strings read from PEB.ProcessParameters, in the process's own address space. */
const PEB_STRINGS = [
  ['imagePath', 'ImagePathName'],
  ['commandLine', 'CommandLine'],
  ['currentDirectory', 'CurrentDirectory.DosPath'],
] as const;
type PebString = (typeof PEB_STRINGS)[number][0];
export type PebStrings = Record<PebString, string | null> & { readonly why: Partial<Record<PebString, string>> };

const noPebStrings = (why: string): PebStrings => ({ imagePath: null, commandLine: null, currentDirectory: null, why: { imagePath: why, commandLine: why, currentDirectory: why } });

/**
 * Image path, command line and current directory of the EPROCESS in `v`, each with why it is absent
 * when it is: no PEB (System, Registry, minimal processes), the process exited (its address space is
 * gone), a page not resident (paged out) or a frame the image does not hold. An image path or command
 * line there to read that could not be is also marked missing on `v`.
 */
function readPebStrings(ctx: ProcessDecodeContext, v: StructView, dtbRaw: bigint | null, exited: boolean): PebStrings {
  const peb = v.pointer('Peb');
  if (peb === null) return noPebStrings('unreadable');
  if (peb === 0n) return noPebStrings(exited ? 'exited' : 'no PEB');
  if (dtbRaw === null) return noPebStrings('DirBase unreadable');
  const r = readProcessParameters(ctx, dtbRaw, peb, exited);
  // `missing` names the fields it always named; the current directory's absence is in whyAbsent only
  for (const k of ['imagePath', 'commandLine'] as const) if (r[k] === null) v.markMissing(k);
  return r;
}

/** Image path, command line and current directory from PEB.ProcessParameters, read in the process's own address space. */
export function readProcessParameters(ctx: ProcessDecodeContext, dtbRaw: bigint, peb: bigint, exited = false): PebStrings {
  const { profile, source } = ctx;
  const pml4 = pml4FromDtb(dtbRaw); // DirBase bits 12..51; bits 11:0 are PCID or flags
  if (pml4 === 0 || pml4 >= source.size) return noPebStrings('DirBase outside the image');
  const space = processSpace(ctx, dtbRaw);
  const ppRead = space.read(peb + BigInt(profile.offsetOf('_PEB', 'ProcessParameters')), 8);
  if (ppRead.missing.length) return noPebStrings(plainReason(ppRead.missing[0]!.reason, exited));
  const pp = new DataView(ppRead.data.buffer, ppRead.data.byteOffset, 8).getBigUint64(0, true);
  if (pp === 0n) return noPebStrings('no process parameters');
  const params = StructView.fromVirtual(profile, '_RTL_USER_PROCESS_PARAMETERS', space, pp);
  const out: PebStrings = { imagePath: null, commandLine: null, currentDirectory: null, why: {} };
  const why = out.why as Partial<Record<PebString, string>>;
  for (const [k, field] of PEB_STRINGS) {
    if (!params.has(field)) { why[k] = 'not in this build'; continue; }
    const us = params.unicodeString(field);
    const t = us === null ? readUnicodeStringAt(profile, space, pp + BigInt(params.resolve(field).offset)) : unicodeText(space, us);
    if ('text' in t) out[k] = t.text;
    else why[k] = t.why === MALFORMED ? t.why : plainReason(t.why, exited);
  }
  return out;
}

/** The address space of a process DirBase: the session's (translate/process-spaces.ts), else a fresh one. */
export function processSpace(ctx: ProcessDecodeContext, dtbRaw: bigint): VirtualMemory {
  return ctx.processSpaces?.of(dtbRaw) ?? new X64AddressSpace(ctx.source, dtbRaw, { tlbEntries: 256, tableCachePages: 64 });
}
