/**
 * Finding ntoskrnl's base under a given DTB, three ways (cheapest first):
 *  1. a base the source recorded (crash-dump header KernBase / WinPmem), checked for MZ/PE there;
 *  2. the back-scan: from a VA known to lie inside ntoskrnl (NtBuildNumber, PsActiveProcessHead,
 *     KdDebuggerDataBlock, the low stub's kernel entry) step back page by page to the MZ whose
 *     image covers that VA — bounded to the largest plausible image size;
 *  3. a scan of the kernel image range 0xfffff800'00000000..0xfffff8ff'ffffffff (PML4 entries
 *     0x1f0/0x1f1): walk only mapped pages, look for MZ/PE whose CodeView record names a kernel PDB;
 *     2 MiB-aligned starts first (ntoskrnl is loaded on large pages at a 2 MiB boundary), then 4 KiB.
 * A corrupt PE at the right place is reported with the reason, not skipped silently.
 */
import type { PhysicalSource } from '../../sources/physical-source.js';
import { hex } from '../../util/hex.js';
import { enumerateMappings, readVa, type Mapping } from './page-walk.js';
import { isKernelPdbName, parsePe, type PeInfo } from './pe.js';
import { throwIfAborted } from './types.js';

export const KERNEL_RANGE_START = 0xffff_f800_0000_0000n;
export const KERNEL_RANGE_END = 0xffff_f8ff_ffff_ffffn;
/** Largest ntoskrnl image considered by the back-scan (Windows 11 ntoskrnl is ~16 MiB). */
export const BACKSCAN_MAX_BYTES = 64 * 1024 * 1024;
const MAX_4K_PROBES = 1 << 18;

export interface KernelImage {
  readonly base: bigint;
  readonly pe: PeInfo;
  /** How it was found: 'source-hint' | 'back-scan' | 'va-scan'. */
  readonly how: string;
  readonly evidence: string;
}

export type KernelSearch = { readonly found: KernelImage | null; readonly tried: string[] };

/** Parse the PE at `base` through the PML4; a kernel image has a CodeView record naming a kernel PDB. */
export function checkKernelPe(source: PhysicalSource, pml4: number, base: bigint): { ok: true; pe: PeInfo } | { ok: false; reason: string } {
  const r = parsePe((rva, len) => readVa(source, pml4, base + BigInt(rva), len));
  if (!r.ok) return r;
  if (r.pe.machine !== 0x8664) return { ok: false, reason: `PE machine 0x${r.pe.machine.toString(16)} is not x64` };
  if (!r.pe.pdb) return { ok: false, reason: 'PE has no readable CodeView (RSDS) record' };
  if (!isKernelPdbName(r.pe.pdb.name)) return { ok: false, reason: `PE names ${r.pe.pdb.name}, not a kernel PDB` };
  return { ok: true, pe: r.pe };
}

export function kernelFromHint(source: PhysicalSource, pml4: number, base: bigint | undefined): KernelSearch {
  if (base === undefined) return { found: null, tried: ['source records no kernel base'] };
  const c = checkKernelPe(source, pml4, base);
  if (!c.ok) return { found: null, tried: [`source kernel base ${hex(base)}: ${c.reason}`] };
  return { found: { base, pe: c.pe, how: 'source-hint', evidence: `source records kernel base ${hex(base)}` }, tried: [] };
}

/**
 * Step back from `inside` page by page to the first MZ/PE kernel image that covers it. The mapped
 * pages of the window are enumerated once (one table walk, not four reads per page).
 */
export function backScan(source: PhysicalSource, pml4: number, inside: bigint, what: string, signal?: AbortSignal): KernelSearch {
  throwIfAborted(signal);
  const start = inside & ~0xfffn;
  const low = start - BigInt(BACKSCAN_MAX_BYTES) + 0x1000n;
  const walk = enumerateMappings(source, pml4, low, start, { maxTables: 1024 });
  const pages: { va: bigint; pa: number }[] = [];
  for (const m of walk.mappings) {
    for (let off = 0; off < m.size; off += 0x1000) {
      const va = m.va + BigInt(off);
      if (va >= low && va <= start) pages.push({ va, pa: m.pa + off });
    }
  }
  pages.sort((a, b) => (a.va < b.va ? 1 : a.va > b.va ? -1 : 0));
  let lastReason = pages.length ? 'no MZ header found' : 'nothing mapped there';
  for (const { va, pa } of pages) {
    const mz = source.read(pa, 2).data;
    if (mz[0] !== 0x4d || mz[1] !== 0x5a) continue;
    const c = checkKernelPe(source, pml4, va);
    if (!c.ok) { lastReason = `MZ at ${hex(va)}: ${c.reason}`; continue; }
    if (va + BigInt(c.pe.sizeOfImage) <= inside) { lastReason = `MZ at ${hex(va)} ends before ${hex(inside)}`; break; }
    return { found: { base: va, pe: c.pe, how: 'back-scan', evidence: `stepped back ${Number((start - va) / 0x1000n)} pages from ${what} ${hex(inside)}` }, tried: [] };
  }
  return { found: null, tried: [`back-scan from ${what} ${hex(inside)}: ${lastReason} within ${BACKSCAN_MAX_BYTES / 0x100000} MiB`] };
}

/** Scan the mapped pages of the kernel image range for the ntoskrnl PE. */
export function scanKernelRange(source: PhysicalSource, pml4: number, signal?: AbortSignal): KernelSearch & { pagesProbed: number } {
  const walk = enumerateMappings(source, pml4, KERNEL_RANGE_START, KERNEL_RANGE_END, { maxTables: 8192 });
  const tried: string[] = [...walk.problems];
  let probes = 0;
  const rejected: string[] = [];
  const probe = (va: bigint, pa: number): KernelImage | null => {
    probes++;
    const mz = source.read(pa, 2).data;
    if (mz[0] !== 0x4d || mz[1] !== 0x5a) return null;
    const c = checkKernelPe(source, pml4, va);
    if (!c.ok) {
      if (rejected.length < 4) rejected.push(`MZ at ${hex(va)}: ${c.reason}`);
      return null;
    }
    return { base: va, pe: c.pe, how: 'va-scan', evidence: `MZ/PE at ${hex(va)} in the kernel VA range` };
  };
  const done = (found: KernelImage | null) => {
    if (!found) tried.push(`kernel VA range scan: ${walk.mappings.length} mappings, ${probes} pages probed, no ntoskrnl PE${rejected.length ? ` (${rejected.join('; ')})` : ''}`);
    return { found, tried, pagesProbed: probes };
  };
  // pass 1: 2 MiB-aligned starts
  for (const m of walk.mappings) {
    if ((m.va & 0x1f_ffffn) !== 0n) continue;
    const k = probe(m.va, m.pa);
    if (k) return done(k);
  }
  throwIfAborted(signal);
  // pass 2: every other 4 KiB page (inside large pages too), bounded
  for (const m of walk.mappings) {
    for (let off = 0; off < m.size; off += 0x1000) {
      const va = m.va + BigInt(off);
      if ((va & 0x1f_ffffn) === 0n) continue;
      if (probes >= MAX_4K_PROBES) { tried.push(`stopped after ${MAX_4K_PROBES} page probes`); return done(null); }
      if ((probes & 0xffff) === 0) throwIfAborted(signal);
      const k = probe(va, m.pa + off);
      if (k) return done(k);
    }
  }
  return done(null);
}

export type { Mapping };
