/**
 * psscan: every _EPROCESS still in pool memory, linked or not — `Proc` pool blocks over ALL
 * physical memory, each validated (pool header, optional headers, cookie-decoded object type) and
 * then sanity-checked as an EPROCESS (PID a multiple of 4 below 2^24, plausible create time,
 * printable name, DirBase non-zero once masked). A DirBase with low bits set (PCID, as Windows 10/11
 * writes `…002`) is NEVER a reason to reject: Rekall's page-alignment rule dropped LockApp.exe that way.
 * Exited processes are reported with their exit time. A `Proc` block in a physical page no kernel
 * page table maps (a freed pool page, as Volatility 3's physical-layer psscan also reports) is read
 * physically and reported with `offset` null and a warning: a remnant of a process that ran earlier.
 */
import type { WindowsKernel } from '../../windows/kernel.js';
import { MAX_SANE_PID, readEprocess, readEprocessUnmapped, type ProcessRow } from '../../windows/eprocess.js';
import { viewInUnmappedPage, type UnmappedPoolObject } from '../../windows/unmapped-pool-object.js';
import { StructView } from '../../windows/struct-view.js';
import { scanPoolObjects, type PoolScanOptions } from './pool-objects.js';
import { pml4FromDtb } from '../../translate/x64/mmu.js';

export type { ProcessRow } from '../../windows/eprocess.js';

export const PROCESS_POOL = { tag: 'Proc', objectType: 'Process', structType: '_EPROCESS' } as const;

export type PsScanEvent =
  | { readonly type: 'row'; readonly row: ProcessRow }
  | { readonly type: 'progress'; readonly bytesDone: number; readonly bytesTotal: number }
  | { readonly type: 'warning'; readonly message: string }
  | { readonly type: 'rejected'; readonly pa: number; readonly reason: string };

/** Why an EPROCESS read from pool is not a process, or null when it is sane. */
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

export interface PsScanOptions extends PoolScanOptions {}

export async function* psscan(kernel: WindowsKernel, options: PsScanOptions = {}): AsyncGenerator<PsScanEvent, void, undefined> {
  const ctx = { profile: kernel.profile, kernel: kernel.kernel, source: kernel.source };
  const seen = new Set<bigint>();
  const seenPa = new Set<number>();
  for await (const ev of scanPoolObjects(kernel, [PROCESS_POOL], options)) {
    if (ev.type === 'progress' || ev.type === 'warning') { yield ev; continue; }
    if (ev.type === 'rejected') { yield { type: 'rejected', pa: ev.pa, reason: ev.reason }; continue; }
    if (ev.type === 'unmapped') {
      const r = unmappedRemnant(kernel, ev.candidates);
      if (r.row === null) { yield { type: 'rejected', pa: ev.pa, reason: r.why }; continue; }
      const pa = Number(r.row.physicalOffset);
      if (seenPa.has(pa)) continue;
      seenPa.add(pa);
      yield { type: 'row', row: r.row };
      continue;
    }
    // try each header position that decodes as a Process object; the first sane EPROCESS wins
    let accepted: ProcessRow | null = null;
    let why = '';
    for (const cand of ev.candidates) {
      const va = cand.bodyVa;
      const view = StructView.fromVirtual(kernel.profile, '_EPROCESS', kernel.kernel, va);
      const row = readEprocess(ctx, va, view);
      const insane = eprocessInsanity(row, kernel.source.size);
      if (insane === null) { accepted = row; break; }
      why ||= `EPROCESS at ${row.offset}: ${insane}`;
    }
    if (!accepted) { yield { type: 'rejected', pa: ev.pa, reason: why }; continue; }
    const va = BigInt(accepted.offset!);
    if (seen.has(va)) continue;
    seen.add(va);
    yield { type: 'row', row: accepted };
  }
}

/**
 * An EPROCESS remnant in a physical page no kernel page table maps: each candidate header position
 * (whose TypeIndex decodes to Process under some value of VA bits 12..15) is read from PHYSICAL memory,
 * its own page only, and sanity-checked like any pool EPROCESS; the first sane one wins. The row has
 * `offset` null and says why in its warnings.
 */
export function unmappedRemnant(kernel: WindowsKernel, candidates: readonly UnmappedPoolObject[]): { row: ProcessRow; why: '' } | { row: null; why: string } {
  const ctx = { profile: kernel.profile, kernel: kernel.kernel, source: kernel.source };
  let why = '';
  for (const c of candidates) {
    const view = viewInUnmappedPage(kernel.profile, kernel.source, '_EPROCESS', c.bodyPa);
    const row = readEprocessUnmapped(ctx, c.bodyPa, view);
    const insane = eprocessInsanity(row, kernel.source.size);
    if (insane === null) return { row, why: '' };
    why ||= `EPROCESS remnant at PA ${row.physicalOffset} (unmapped page): ${insane}`;
  }
  return { row: null, why: why || 'no candidate EPROCESS' };
}

export async function collectPsscan(
  kernel: WindowsKernel,
  options: PsScanOptions & { onProgress?: (bytesDone: number, bytesTotal: number) => void } = {},
): Promise<{ rows: ProcessRow[]; warnings: string[]; rejected: { pa: number; reason: string }[] }> {
  const rows: ProcessRow[] = [];
  const warnings: string[] = [];
  const rejected: { pa: number; reason: string }[] = [];
  for await (const ev of psscan(kernel, options)) {
    if (ev.type === 'progress') options.onProgress?.(ev.bytesDone, ev.bytesTotal);
    else if (ev.type === 'row') rows.push(ev.row);
    else if (ev.type === 'warning') warnings.push(ev.message);
    else if (ev.type === 'rejected') rejected.push({ pa: ev.pa, reason: ev.reason });
  }
  return { rows, warnings, rejected };
}
