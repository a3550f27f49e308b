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
 * In live memory a hit none of whose candidates is sane is read once more past the page cache
 * (rereadTornProcess): a torn copy is re-read and said so in a warning, never dropped silently.
 */
import type { WindowsKernel } from '../../windows/kernel.js';
import {
  FREED_POOL_BLOCK_NOTE, eprocessInsanity, readEprocess, readEprocessUnmapped, remnantInsanity, withNote, type ProcessDecodeContext, type ProcessRow,
} from '../../windows/eprocess.js';
import type { PoolObject } from '../../windows/pool-object.js';
import { PageCachedSource } from '../../sources/page-cache.js';
import { X64AddressSpace } from '../../translate/x64/address-space.js';
import type { VirtualMemory } from '../../translate/types.js';
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
    let found = saneProcessCandidate(ctx, ev.candidates);
    if (found.row === null) {
      const again = rereadTornProcess(kernel, ev.candidates);
      if (again !== null) {
        yield { type: 'warning', message: again.warning };
        if (again.found.row !== null) found = again.found;
      }
    }
    if (found.row === null) { rejected++; yield { type: 'rejected', pa: ev.pa, reason: found.why }; continue; }
    const accepted = found.candidate.freed ? withNote(found.row, FREED_POOL_BLOCK_NOTE) : found.row;
    const va = accepted.offset!;
    if (seen.has(va)) continue;
    seen.add(va);
    yield { type: 'row', row: accepted };
  }
  if (seen.size + seenPa.size === 0 && !options.signal?.aborted) {
    yield { type: 'warning', message: noProcessFound(kernel, rejected) };
  }
}

/** The first Process candidate (header position) whose body is a sane EPROCESS under `ctx`, or why none is. */
function saneProcessCandidate(
  ctx: ProcessDecodeContext, candidates: readonly PoolObject[], body = (va: bigint) => eprocessView(ctx, va),
): { candidate: PoolObject; row: ProcessRow; why: '' } | { candidate: null; row: null; why: string } {
  let why = '';
  for (const candidate of candidates) {
    const va = candidate.bodyVa;
    const row = readEprocess(ctx, va, body(va));
    const insane = candidate.freed ? remnantInsanity(row, ctx.source) : eprocessInsanity(row, ctx.source.size);
    if (insane === null) return { candidate, row, why: '' };
    why ||= `EPROCESS ${candidate.freed ? 'in a freed pool block ' : ''}at ${hex(va)}: ${insane}`;
  }
  return { candidate: null, row: null, why };
}

/**
 * A Process pool object none of whose candidates is sane, read again from beneath the page cache. Live
 * memory tears: a page copied while the kernel writes it is part old, part new, and the cache would
 * serve that torn copy to every later reader. So the bodies are read once more from the source itself
 * (page tables included); bytes as before (always, in a saved image): null, the rejection stands.
 * Bytes that differ: a warning naming the _EPROCESS, and the same rule applied to the fresh bytes.
 */
export function rereadTornProcess(
  kernel: WindowsKernel, candidates: readonly PoolObject[],
): { warning: string; found: ReturnType<typeof saneProcessCandidate> } | null {
  const cache = kernel.source instanceof PageCachedSource ? kernel.source : null;
  const source = cache?.inner ?? kernel.source;
  // a throwaway space: no TLB, its own table cache, so every byte (page tables too) is read anew
  const fresh: ProcessDecodeContext = { profile: kernel.profile, source, kernel: new X64AddressSpace(source, kernel.dtbRaw, { tlbEntries: 0 }) };
  // each body read once more, and validated from exactly the bytes compared
  const again = new Map(candidates.map((c) => [c.bodyVa, eprocessView(fresh, c.bodyVa)]));
  for (const c of candidates) {
    const change = viewChange(eprocessView(kernel, c.bodyVa), again.get(c.bodyVa)!);
    if (change === null) continue;
    const pa = kernel.kernel.translate(c.bodyVa).pa;
    const where = pa === null ? hex(c.bodyVa) : `PA ${hex(pa)}`;
    // the cache's copy is stale: later readers (list walks, the hex view) read these pages afresh
    if (cache) for (const d of candidates) forgetPages(cache, fresh.kernel, d.bodyVa, kernel.profile.sizeOf('_EPROCESS'));
    return { warning: `_EPROCESS at ${where} ${change}; re-read`, found: saneProcessCandidate(fresh, candidates, (va) => again.get(va)!) };
  }
  return null;
}

/** Drop from the cache the physical pages under kernel VAs [va, va + length). */
function forgetPages(cache: PageCachedSource, space: VirtualMemory, va: bigint, length: number): void {
  for (let page = va & ~0xfffn; page < va + BigInt(length); page += 0x1000n) {
    const pa = space.translate(page).pa;
    if (pa !== null) cache.forget(pa, 1);
  }
}

const eprocessView = (ctx: Pick<ProcessDecodeContext, 'profile' | 'kernel'>, va: bigint): StructView => StructView.fromVirtual(ctx.profile, '_EPROCESS', ctx.kernel, va);

/** How a second read of the same structure differs from the first, or null when it does not. */
function viewChange(first: StructView, again: StructView): string | null {
  const holes = (v: StructView) => v.holes.map((h) => `${h.offset}+${h.length}`).join();
  if (holes(first) !== holes(again)) return 'was not read whole the first time (a page read failed)';
  return first.bytes.every((x, i) => x === again.bytes[i]) ? null : 'changed while it was read (torn page)';
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
