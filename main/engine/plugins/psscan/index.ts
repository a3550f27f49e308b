/**
 * psscan: every _EPROCESS still in pool memory, linked or not — `Proc` pool blocks over ALL
 * physical memory, each validated (pool header, optional headers, cookie-decoded object type) and
 * then sanity-checked as an EPROCESS (PID a multiple of 4 below 2^24, plausible create time,
 * printable name, DirBase non-zero once masked). A DirBase with low bits set (PCID, as Windows 10/11
 * writes `…002`) is NEVER a reason to reject: Rekall's page-alignment rule dropped LockApp.exe that way.
 * Exited processes are reported with their exit time. Two kinds of remnant of a process that ran
 * earlier are reported too, as Volatility 3's psscan does (its Proc constraint admits free pool), each
 * labelled in the row's warnings: an EPROCESS in a freed pool block (PoolType 0; FREED_POOL_BLOCK_NOTE),
 * and a `Proc` block in a physical page no kernel page table maps (read physically, `offset` null;
 * UNMAPPED_REMNANT_NOTE). Nothing in the kernel vouches for a remnant, so it must also pass
 * remnantInsanity (DirBase frame held by the image). A scan that finds no process at all says so.
 */
import type { WindowsKernel } from '../../windows/kernel.js';
import {
  FREED_POOL_BLOCK_NOTE, eprocessInsanity, readEprocess, readEprocessUnmapped, remnantInsanity, withNote, type ProcessRow,
} from '../../windows/eprocess.js';
import { viewInUnmappedPage, type UnmappedPoolObject } from '../../windows/unmapped-pool-object.js';
import { StructView } from '../../windows/struct-view.js';
import { hex } from '../../util/hex.js';
import { scanPoolObjects, type PoolScanOptions } from './pool-objects.js';

export type { ProcessRow } from '../../windows/eprocess.js';

export const PROCESS_POOL = { tag: 'Proc', objectType: 'Process', structType: '_EPROCESS' } as const;

export type PsScanEvent =
  | { readonly type: 'row'; readonly row: ProcessRow }
  | { readonly type: 'progress'; readonly bytesDone: number; readonly bytesTotal: number }
  | { readonly type: 'warning'; readonly message: string }
  | { readonly type: 'rejected'; readonly pa: number; readonly reason: string };

/** The EPROCESS sanity rule lives with the row decoder; re-exported for the scan's callers. */
export { eprocessInsanity };

export interface PsScanOptions extends PoolScanOptions {}

export async function* psscan(kernel: WindowsKernel, options: PsScanOptions = {}): AsyncGenerator<PsScanEvent, void, undefined> {
  const ctx = { profile: kernel.profile, kernel: kernel.kernel, source: kernel.source };
  const seen = new Set<bigint>();
  const seenPa = new Set<number>();
  let rejected = 0;
  for await (const ev of scanPoolObjects(kernel, [PROCESS_POOL], options)) {
    if (ev.type === 'progress' || ev.type === 'warning') { yield ev; continue; }
    if (ev.type === 'rejected') { rejected++; yield { type: 'rejected', pa: ev.pa, reason: ev.reason }; continue; }
    if (ev.type === 'unmapped') {
      const r = unmappedRemnant(kernel, ev.candidates);
      if (r.row === null) { rejected++; yield { type: 'rejected', pa: ev.pa, reason: r.why }; continue; }
      const pa = r.row.physicalOffset!;
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
      const insane = cand.freed ? remnantInsanity(row, kernel.source) : eprocessInsanity(row, kernel.source.size);
      if (insane === null) { accepted = cand.freed ? withNote(row, FREED_POOL_BLOCK_NOTE) : row; break; }
      why ||= `EPROCESS ${cand.freed ? 'in a freed pool block ' : ''}at ${hex(va)}: ${insane}`;
    }
    if (!accepted) { rejected++; yield { type: 'rejected', pa: ev.pa, reason: why }; continue; }
    const va = accepted.offset!;
    if (seen.has(va)) continue;
    seen.add(va);
    yield { type: 'row', row: accepted };
  }
  if (seen.size + seenPa.size === 0 && !options.signal?.aborted) {
    yield { type: 'warning', message: noProcessFound(kernel, rejected) };
  }
}

/** The warning of a scan that found no process: a Windows image always has System in pool. */
export function noProcessFound(kernel: WindowsKernel, rejected: number): string {
  const gib = (kernel.source.size / 2 ** 30).toFixed(2);
  return `psscan: no '${PROCESS_POOL.tag}' pool block in ${gib} GiB of physical memory validates as a process ` +
    `(${rejected} tag hit${rejected === 1 ? '' : 's'} rejected): the pool scan is unusable in this image`;
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
    const insane = remnantInsanity(row, kernel.source);
    if (insane === null) return { row: c.freed ? withNote(row, FREED_POOL_BLOCK_NOTE) : row, why: '' };
    why ||= `EPROCESS remnant at PA ${hex(c.bodyPa)} (unmapped page${c.freed ? ', freed pool block' : ''}): ${insane}`;
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
