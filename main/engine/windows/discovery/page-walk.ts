/**
 * Bounded x64 4-level page-table walks used by discovery before a DTB is trusted: single-address
 * translation (at most 4 reads, so it cannot loop) and enumeration of the mapped pages of a VA range
 * (bounded by a table budget and a visited set, so a table that points back at itself or at its
 * parent cannot make the walk run forever). Rules: Intel SDM vol. 3, 4.5 (4-level paging): bit 0
 * present, bit 7 (PS) a 1 GiB page in a PDPTE / 2 MiB page in a PDE, frame in bits 12..51.
 */
import type { PhysicalSource } from '../../sources/physical-source.js';

const FRAME = 0x000f_ffff_ffff_f000n;
const PS = 0x80n;
const GIB = 0x4000_0000;
const MIB2 = 0x20_0000;

export type MappedSize = 0x1000 | 0x20_0000 | 0x4000_0000;

export interface Mapping {
  readonly va: bigint;
  readonly pa: number;
  readonly size: MappedSize;
}

/** Read one little-endian qword; null when absent from the source. */
export function readU64(source: PhysicalSource, pa: number): bigint | null {
  if (pa < 0 || pa + 8 > source.size) return null;
  const r = source.read(pa, 8);
  if (r.absent.length) return null;
  return new DataView(r.data.buffer, r.data.byteOffset, 8).getBigUint64(0, true);
}

/** Read a whole 4 KiB table as 512 entries; null when absent or outside the source. */
export function readTable(source: PhysicalSource, pa: number): BigUint64Array | null {
  if (pa < 0 || pa + 0x1000 > source.size) return null;
  const r = source.read(pa, 0x1000);
  if (r.absent.length) return null;
  const copy = r.data.byteOffset % 8 === 0 ? r.data : r.data.slice();
  return new BigUint64Array(copy.buffer, copy.byteOffset, 512);
}

/** Sign-extend bit 47 (canonical x64 VA). */
export function canonical(va: bigint): bigint {
  const v = BigInt.asUintN(48, va);
  return v & 0x8000_0000_0000n ? v | 0xffff_0000_0000_0000n : v;
}

/** Translate a VA through the PML4 at `pml4` (present mappings only). Null when not mapped. */
export function translateVa(source: PhysicalSource, pml4: number, va: bigint): number | null {
  const idx = (shift: bigint) => Number((va >> shift) & 0x1ffn);
  const e4 = readU64(source, pml4 + idx(39n) * 8);
  if (e4 === null || !(e4 & 1n)) return null;
  const e3 = readU64(source, Number(e4 & FRAME) + idx(30n) * 8);
  if (e3 === null || !(e3 & 1n)) return null;
  if (e3 & PS) return Number(e3 & 0x000f_ffff_c000_0000n) + Number(va & 0x3fff_ffffn);
  const e2 = readU64(source, Number(e3 & FRAME) + idx(21n) * 8);
  if (e2 === null || !(e2 & 1n)) return null;
  if (e2 & PS) return Number(e2 & 0x000f_ffff_ffe0_0000n) + Number(va & 0x1f_ffffn);
  const e1 = readU64(source, Number(e2 & FRAME) + idx(12n) * 8);
  if (e1 === null || !(e1 & 1n)) return null;
  return Number(e1 & FRAME) + Number(va & 0xfffn);
}

/** Read `length` bytes at a VA (page by page); null if any page is unmapped or absent. */
export function readVa(source: PhysicalSource, pml4: number, va: bigint, length: number): Uint8Array | null {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const cur = va + BigInt(done);
    const pa = translateVa(source, pml4, cur);
    if (pa === null) return null;
    const n = Math.min(length - done, 0x1000 - Number(cur & 0xfffn));
    if (pa + n > source.size) return null;
    const r = source.read(pa, n);
    if (r.absent.length) return null;
    out.set(r.data, done);
    done += n;
  }
  return out;
}

export interface EnumerateLimits {
  /** Most page tables (PDPT/PD/PT) read in one enumeration. */
  readonly maxTables: number;
}

export interface EnumerateResult {
  readonly mappings: Mapping[];
  readonly tablesRead: number;
  /** Why the walk was cut short (budget, loop), empty when complete. */
  readonly problems: string[];
}

/**
 * Every present leaf mapping in [vaStart, vaEnd] under the PML4 at `pml4`. A table frame seen twice
 * (a loop, or a table shared between levels) is walked once; a frame outside the source is skipped.
 */
export function enumerateMappings(
  source: PhysicalSource, pml4: number, vaStart: bigint, vaEnd: bigint, limits: EnumerateLimits = { maxTables: 8192 },
): EnumerateResult {
  const mappings: Mapping[] = [];
  const problems: string[] = [];
  const seen = new Set<number>([pml4]);
  let tablesRead = 0;
  const top = readTable(source, pml4);
  if (!top) return { mappings, tablesRead, problems: [`PML4 page 0x${pml4.toString(16)} outside the source`] };
  tablesRead++;
  const lo = BigInt.asUintN(48, vaStart);
  const hi = BigInt.asUintN(48, vaEnd);
  let loopNoted = false;
  const enter = (frame: number): BigUint64Array | null => {
    if (seen.has(frame)) {
      if (!loopNoted) { problems.push(`page table 0x${frame.toString(16)} referenced twice (loop or shared table), walked once`); loopNoted = true; }
      return null;
    }
    if (tablesRead >= limits.maxTables) return null;
    seen.add(frame);
    const t = readTable(source, frame);
    if (t) tablesRead++;
    return t;
  };
  const i4lo = Number((lo >> 39n) & 0x1ffn);
  const i4hi = Number((hi >> 39n) & 0x1ffn);
  for (let i4 = i4lo; i4 <= i4hi; i4++) {
    const e4 = top[i4]!;
    if (!(e4 & 1n)) continue;
    const pdpt = enter(Number(e4 & FRAME));
    if (!pdpt) continue;
    const base4 = BigInt(i4) << 39n;
    for (let i3 = 0; i3 < 512; i3++) {
      const va3 = base4 | (BigInt(i3) << 30n);
      if (va3 + BigInt(GIB) - 1n < lo || va3 > hi) continue;
      const e3 = pdpt[i3]!;
      if (!(e3 & 1n)) continue;
      if (e3 & PS) {
        const pa = Number(e3 & 0x000f_ffff_c000_0000n);
        if (pa < source.size) mappings.push({ va: canonical(va3), pa, size: GIB });
        continue;
      }
      const pd = enter(Number(e3 & FRAME));
      if (!pd) continue;
      for (let i2 = 0; i2 < 512; i2++) {
        const va2 = va3 | (BigInt(i2) << 21n);
        if (va2 + BigInt(MIB2) - 1n < lo || va2 > hi) continue;
        const e2 = pd[i2]!;
        if (!(e2 & 1n)) continue;
        if (e2 & PS) {
          const pa = Number(e2 & 0x000f_ffff_ffe0_0000n);
          if (pa < source.size) mappings.push({ va: canonical(va2), pa, size: MIB2 });
          continue;
        }
        const pt = enter(Number(e2 & FRAME));
        if (!pt) continue;
        for (let i1 = 0; i1 < 512; i1++) {
          const e1 = pt[i1]!;
          if (!(e1 & 1n)) continue;
          const va1 = va2 | (BigInt(i1) << 12n);
          if (va1 < lo || va1 > hi) continue;
          const pa = Number(e1 & FRAME);
          if (pa < source.size) mappings.push({ va: canonical(va1), pa, size: 0x1000 });
        }
      }
    }
  }
  if (tablesRead >= limits.maxTables) problems.push(`stopped after ${limits.maxTables} page tables (budget)`);
  return { mappings, tablesRead, problems };
}

/**
 * Does the page at `pa` look like a Windows x64 kernel PML4? A self-reference entry in the kernel
 * half (index 0x100..0x1ff pointing at its own frame, present + writable: Windows 10 1607+ randomises
 * the index, earlier builds use 0x1ed) and several present supervisor entries in the kernel half
 * pointing inside the source (the same test MemProcFS applies in vmm/vmmwininit.c,
 * VmmWinInit_DTB_FindValidate_X64: self-ref + at least 6 supervisor entries).
 */
export function inspectPml4(source: PhysicalSource, pa: number): { selfRefIndex: number | null; kernelEntries: number; reason: string | null } {
  const t = readTable(source, pa);
  if (!t) return { selfRefIndex: null, kernelEntries: 0, reason: `PML4 page 0x${pa.toString(16)} is outside the source or absent` };
  let selfRefIndex: number | null = null;
  let kernelEntries = 0;
  for (let i = 256; i < 512; i++) {
    const e = t[i]!;
    if ((e & 0x3n) !== 0x3n) continue;
    const frame = Number(e & FRAME);
    if (frame === pa && !(e & PS) && selfRefIndex === null) selfRefIndex = i;
    // a present entry whose next-level table is inside the source (MemProcFS also requires U/S
    // clear; we only count, so a builder or hypervisor that sets U/S is not rejected here)
    else if (frame < source.size) kernelEntries++;
  }
  let reason: string | null = null;
  if (selfRefIndex === null) reason = 'no self-reference entry in the kernel half';
  else if (kernelEntries < 1) reason = 'kernel half maps nothing besides the self-reference';
  return { selfRefIndex, kernelEntries, reason };
}
