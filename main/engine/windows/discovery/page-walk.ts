/**
 * Discovery's view of a candidate DTB before it is trusted: single-address translation, virtual
 * reads and enumeration of the mapped pages of a VA range — all through the engine's one page-table
 * walker (translate/x64: X64AddressSpace and its leaf enumeration), so a candidate is judged by the
 * same rules (transition PTEs included) the kernel's address space later translates with. Plus the
 * raw table reads the PML4 heuristics inspect (they look at entries, they do not walk).
 */
import { MAX_READ, type PhysicalSource } from '../../sources/physical-source.js';
import { X64AddressSpace } from '../../translate/x64/address-space.js';
import { forEachLeaf, vaOfVpn, vpnOfVa } from '../../translate/x64/leaves.js';
import { KERNEL_HALF_PML4, selfReferenceIndex } from '../../translate/x64/kernel-half.js';
import { PAGE_BYTES, X64_MMU } from '../../translate/x64/mmu.js';

const FRAME = X64_MMU.physMask;

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

/**
 * An address space for one candidate PML4, through the engine's one walker (translate/x64): no TLB
 * and a small private table cache, made per call, so nothing outlives the question (live sources
 * change underneath) and a candidate translates exactly as the kernel's address space will.
 */
function candidateSpace(source: PhysicalSource, pml4: number): X64AddressSpace {
  return new X64AddressSpace(source, BigInt(pml4), { tlbEntries: 0, tableCachePages: 8 });
}

/** Translate a VA through the PML4 at `pml4` (resident and transition pages). Null when not mapped. */
export function translateVa(source: PhysicalSource, pml4: number, va: bigint): number | null {
  return candidateSpace(source, pml4).translate(BigInt.asUintN(64, va)).pa;
}

/** Read `length` bytes at a VA; null if any page is unmapped or absent, or the length is absurd. */
export function readVa(source: PhysicalSource, pml4: number, va: bigint, length: number): Uint8Array | null {
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_READ) return null;
  const v = BigInt.asUintN(64, va);
  if (v + BigInt(length) > 1n << 64n) return null;
  const r = candidateSpace(source, pml4).read(v, length);
  return r.missing.length === 0 ? r.data : null;
}

export interface EnumerateLimits {
  /** Most page tables (the PML4 included) read in one enumeration. */
  readonly maxTables: number;
}

export interface EnumerateResult {
  readonly mappings: Mapping[];
  readonly tablesRead: number;
  /** Why the walk was cut short (budget, loop), empty when complete. */
  readonly problems: string[];
}

/**
 * Every leaf mapping (resident or transition) overlapping [vaStart, vaEnd] under the PML4 at `pml4`
 * whose frame lies inside the source, from the walker's leaf enumeration (translate/x64/leaves.ts:
 * each table walked once, the self-map skipped, bounded by `limits.maxTables`).
 */
export function enumerateMappings(
  source: PhysicalSource, pml4: number, vaStart: bigint, vaEnd: bigint, limits: EnumerateLimits = { maxTables: 8192 },
): EnumerateResult {
  const mappings: Mapping[] = [];
  const walk = forEachLeaf(source, pml4, (vpn, pa, size) => {
    if (pa < source.size) mappings.push({ va: vaOfVpn(vpn), pa, size: PAGE_BYTES[size] as MappedSize });
  }, { firstVpn: vpnOfVa(vaStart), lastVpn: vpnOfVa(vaEnd), maxTables: limits.maxTables });
  return { mappings, tablesRead: walk.tablesRead, problems: [...walk.problems] };
}

/**
 * Does the page at `pa` look like a Windows x64 kernel PML4? A self-reference entry in the kernel
 * half (translate/x64/kernel-half.ts: Windows 10 1607+ randomises the index, earlier builds use
 * 0x1ed) and several present + writable entries in the kernel half pointing inside the source (the
 * same test MemProcFS applies in vmm/vmmwininit.c, VmmWinInit_DTB_FindValidate_X64: self-ref + at
 * least 6 supervisor entries).
 */
export function inspectPml4(source: PhysicalSource, pa: number): { selfRefIndex: number | null; kernelEntries: number; reason: string | null } {
  const t = readTable(source, pa);
  if (!t) return { selfRefIndex: null, kernelEntries: 0, reason: `PML4 page 0x${pa.toString(16)} is outside the source or absent` };
  const selfRefIndex = selfReferenceIndex(t, pa);
  let kernelEntries = 0;
  for (let i = KERNEL_HALF_PML4.first; i <= KERNEL_HALF_PML4.last; i++) {
    const e = t[i]!;
    if (i === selfRefIndex || (e & 0x3n) !== 0x3n) continue;
    // a present entry whose next-level table is inside the source (MemProcFS also requires U/S
    // clear; we only count, so a builder or hypervisor that sets U/S is not rejected here)
    if (Number(e & FRAME) < source.size) kernelEntries++;
  }
  let reason: string | null = null;
  if (selfRefIndex === null) reason = 'no self-reference entry in the kernel half';
  else if (kernelEntries < 1) reason = 'kernel half maps nothing besides the self-reference';
  return { selfRefIndex, kernelEntries, reason };
}
