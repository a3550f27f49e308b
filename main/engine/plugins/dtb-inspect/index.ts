/**
 * Per-process DirBase inspector. CR3/DirectoryTableBase bits 12..51 are the PML4 frame; with
 * CR4.PCIDE the low 12 bits are the PCID (Intel SDM vol. 3, 4.10.1), which Windows 10/11 sets
 * (`…002` for a process's kernel-mode CR3; KVA shadowing keeps a separate UserDirectoryTableBase for
 * user mode). Those bits are not corruption: the old Rekall rule "DirBase must be page aligned"
 * silently dropped such processes (LockApp.exe, dtb=0x4e312002). For every process this reports the
 * raw value, the low bits and their meaning, the masked PML4, whether its kernel half (entries
 * 256..511, the self-map entry aside) matches System's, whether it self-references, and a verdict.
 */
import type { PhysicalSource } from '../../sources/physical-source.js';
import type { WindowsKernel } from '../../windows/kernel.js';
import type { ProcessRow } from '../../windows/eprocess.js';
import { KERNEL_HALF_PML4, selfReferenceIndex } from '../../translate/x64/kernel-half.js';
import { pml4FromDtb } from '../../translate/x64/mmu.js';
import { readTable } from '../../windows/discovery/page-walk.js';
import { hex } from '../../util/hex.js';

export interface DtbInspectRow {
  readonly pid: number | null;
  readonly name: string | null;
  /** EPROCESS kernel VA (null for a psscan remnant in an unmapped physical page). */
  readonly offset: string | null;
  /** DirectoryTableBase as stored (low bits kept). */
  readonly dtb: string | null;
  readonly lowBits: string | null;
  readonly lowBitsMeaning: string;
  readonly userDtb: string | null;
  /** Page-aligned PML4 physical address. */
  readonly pml4: string | null;
  /** Kernel-half PML4 entries equal to System's (self-map entry excluded), of those present in System's. */
  readonly kernelHalfMatches: number | null;
  readonly kernelHalfTotal: number | null;
  readonly kernelHalfMatchesSystem: boolean | null;
  readonly selfRefIndex: number | null;
  readonly selfReferences: boolean | null;
  /** Would a page-alignment rule (Rekall) have dropped this process? */
  readonly rekallWouldDrop: boolean;
  readonly verdict: string;
}

export interface DtbInspectTotals {
  readonly processes: number;
  readonly withLowBits: number;
  readonly rekallWouldDrop: number;
  readonly valid: number;
}

export function describeLowBits(dtb: bigint, userDtb: bigint | null): string {
  const low = Number(dtb & 0xfffn);
  const parts: string[] = [];
  parts.push(low === 0 ? 'no low bits: PCID 0 / page aligned' : `PCID ${low} (CR4.PCIDE: CR3 bits 0..11 tag TLB entries; not part of the PML4 address)`);
  if (dtb >> 63n) parts.push('bit 63 set: no-flush hint on CR3 load');
  if (userDtb !== null && userDtb !== 0n) {
    parts.push(`KVA shadow: user-mode DTB ${hex(userDtb)} (PCID ${Number(userDtb & 0xfffn)}, PML4 ${hex(pml4FromDtb(userDtb))})`);
  }
  return parts.join('; ');
}

/** A PML4's entries and its self-reference index (the one rule: translate/x64/kernel-half.ts). */
function kernelHalf(source: PhysicalSource, pml4: number): { entries: BigUint64Array; selfRefIndex: number | null } | null {
  const t = readTable(source, pml4);
  return t ? { entries: t, selfRefIndex: selfReferenceIndex(t, pml4) } : null;
}

/** Inspect the DirBase of every given process against System's (the kernel's) PML4. */
export function inspectDtbs(kernel: WindowsKernel, processes: readonly ProcessRow[]): { rows: DtbInspectRow[]; totals: DtbInspectTotals } {
  const source = kernel.source;
  const sysPml4 = pml4FromDtb(kernel.dtb);
  const sys = kernelHalf(source, sysPml4);
  const rows: DtbInspectRow[] = [];
  for (const p of processes) {
    const { dtb, userDtb } = p;
    const offset = p.offset === null ? null : hex(p.offset);
    const userDtbText = userDtb === null ? null : hex(userDtb);
    if (dtb === null) {
      rows.push({ pid: p.pid, name: p.name, offset, dtb: null, lowBits: null, lowBitsMeaning: 'DirectoryTableBase unreadable', userDtb: userDtbText, pml4: null, kernelHalfMatches: null, kernelHalfTotal: null, kernelHalfMatchesSystem: null, selfRefIndex: null, selfReferences: null, rekallWouldDrop: false, verdict: 'unknown: DirectoryTableBase could not be read' });
      continue;
    }
    const pml4 = pml4FromDtb(dtb);
    const low = dtb & 0xfffn;
    const mine = pml4 !== 0 ? kernelHalf(source, pml4) : null;
    let matches: number | null = null;
    let total: number | null = null;
    if (mine && sys) {
      matches = 0;
      total = 0;
      for (let i = KERNEL_HALF_PML4.first; i <= KERNEL_HALF_PML4.last; i++) {
        if (i === sys.selfRefIndex || i === mine.selfRefIndex) continue; // each points at its own PML4
        const s = sys.entries[i]!;
        if (!(s & 1n)) continue;
        total++;
        if (mine.entries[i] === s) matches++;
      }
    }
    const sameHalf = matches === null || total === null ? null : total > 0 && matches === total;
    const selfRef = mine ? mine.selfRefIndex !== null : null;
    let verdict: string;
    if (pml4 === 0) verdict = p.exitTime === null ? 'invalid: DirBase is zero on a running process: it has no address space (tampered, or a smeared read)' : 'invalid: DirBase is zero: no address space';
    else if (!mine) verdict = `invalid: PML4 ${hex(pml4)} is not in physical memory`;
    else if (!sys) verdict = `unknown: System's PML4 ${hex(sysPml4)} is unreadable, so there is no kernel half to compare with`;
    else if (sameHalf && selfRef) verdict = validVerdict(source, kernel.buildNumber, dtb, userDtb, mine.entries);
    else if (sameHalf) verdict = 'suspicious: kernel half matches System but no self-reference entry (every Windows PML4 maps itself): tampered page tables or a smeared read';
    else if (selfRef) verdict = `suspicious: kernel half differs from System's at PML4 ${differing(sys.entries, mine.entries, sys.selfRefIndex, mine.selfRefIndex)} (${matches}/${total} entries match): tampered page tables or a smeared read`;
    else if (!matches) verdict = `invalid: ${hex(pml4)} is not a page table: no self-reference and 0/${total ?? 0} kernel-half entries match System`;
    else verdict = `invalid: no self-reference and only ${matches}/${total ?? 0} kernel-half entries match System`;
    // An exited process's PML4 is freed with its last reference (MmDeleteProcessAddressSpace), so a
    // remnant's DirBase may name a page that has been zeroed or reused since: say so.
    if (p.exitTime !== null && pml4 !== 0 && !verdict.startsWith('valid')) verdict += `; the process exited at ${p.exitTime}, so its page tables may have been freed since`;
    rows.push({
      pid: p.pid, name: p.name, offset, dtb: hex(dtb), lowBits: hex(low), lowBitsMeaning: describeLowBits(dtb, userDtb),
      userDtb: userDtbText, pml4: hex(pml4), kernelHalfMatches: matches, kernelHalfTotal: total, kernelHalfMatchesSystem: sameHalf,
      selfRefIndex: mine?.selfRefIndex ?? null, selfReferences: selfRef, rekallWouldDrop: low !== 0n, verdict,
    });
  }
  return { rows, totals: dtbTotals(rows) };
}

/** Windows 7/8/8.1 (builds before 10240) never load a PCID into CR3: DirBase low bits there are not PCID. */
const FIRST_PCID_BUILD = 10240;

/**
 * The verdict of a DirBase whose kernel half and self-reference check out: still suspicious when it
 * carries low bits on a build without PCID, or when its KVA-shadow user DTB is not a PML4 sharing
 * this process's user half (the shadow copies user entries 0..255; Windows writes 1 there when the
 * process runs without a shadow).
 */
function validVerdict(source: PhysicalSource, build: number | null, dtb: bigint, userDtb: bigint | null, entries: BigUint64Array): string {
  const low = dtb & 0xfffn;
  if (low !== 0n && build !== null && build < FIRST_PCID_BUILD) {
    return `suspicious: low bits ${hex(low)} set, but build ${build} does not use PCID (its DirBase should be page aligned); the masked PML4 maps the shared kernel half and self-references`;
  }
  if (userDtb !== null && userDtb > 1n) {
    const userPml4 = pml4FromDtb(userDtb);
    const shadow = userPml4 !== 0 ? readTable(source, userPml4) : null;
    if (!shadow) return `suspicious: KVA-shadow user DTB ${hex(userDtb)} is not in physical memory (kernel DirBase itself is valid)`;
    let present = 0;
    let same = 0;
    for (let i = 0; i < 256; i++) {
      if (!(entries[i]! & 1n)) continue;
      present++;
      if (shadow[i] === entries[i]) same++;
    }
    if (same !== present) return `suspicious: KVA-shadow user DTB ${hex(userDtb)} does not map this process's user half (${same}/${present} user entries match; kernel DirBase itself is valid)`;
  }
  return low !== 0n ? 'valid: PCID-tagged DirBase, masked PML4 maps the shared kernel half and self-references' : 'valid: page-aligned PML4 maps the shared kernel half and self-references';
}

/** The kernel-half PML4 indices (hex) where `mine` differs from System's present entries. */
function differing(sys: BigUint64Array, mine: BigUint64Array, sysSelf: number | null, mySelf: number | null): string {
  const out: string[] = [];
  for (let i = 256; i < 512; i++) {
    if (i === sysSelf || i === mySelf || !(sys[i]! & 1n)) continue;
    if (mine[i] !== sys[i]) out.push(hex(i));
  }
  return `${out.length === 1 ? 'entry' : 'entries'} ${out.join(', ')}`;
}

/** How many processes, how many with low DirBase bits, how many a page-alignment rule would drop, how many valid. */
export function dtbTotals(rows: readonly DtbInspectRow[]): DtbInspectTotals {
  return {
    processes: rows.length,
    withLowBits: rows.filter((r) => r.lowBits !== null && r.lowBits !== '0x0').length,
    rekallWouldDrop: rows.filter((r) => r.rekallWouldDrop).length,
    valid: rows.filter((r) => r.verdict.startsWith('valid')).length,
  };
}
