/**
 * The x86-64 4-level MMU described as data (the memflow `ArchMmuDef` idea): one walker in
 * address-space.ts reads these numbers instead of hard-coding them per level.
 *
 * Source: Intel SDM vol. 3A, 4.5 "4-Level Paging and 5-Level Paging":
 *  - Figure 4-8/4-9/4-10: a 48-bit linear address splits into PML4 (47:39), PDPT (38:30), PD (29:21),
 *    PT (20:12) indices of 9 bits each and a 12-bit page offset.
 *  - 4.5.4 / Tables 4-14..4-20: bit 0 Present, bit 1 R/W, bit 2 U/S, bit 7 PS (page size: maps a
 *    1 GiB page in a PDPTE, a 2 MiB page in a PDE; reserved in a PML4E, ignored here like Windows
 *    and Volatility do), bit 63 XD (execute-disable, not part of the address), bits 52..62 ignored
 *    or protection keys (not part of the address).
 *  - 4.1.4: MAXPHYADDR is at most 52, so physical-address bits are 12..51 (mask 0x000ffffffffff000).
 *  - Tables 4-15/4-17: a large-page entry's address field starts at bit 30 (1 GiB) / bit 21 (2 MiB);
 *    bit 12 of such an entry is PAT, not an address bit, so large-page bases are masked wider.
 *  - 4.5.2 and 3.3.7.1: a linear address is canonical when bits 63:47 all equal bit 47.
 *  - 4.10.1: CR3 bits 11:0 hold the PCID when CR4.PCIDE=1 (and PWT/PCD otherwise); the PML4 address
 *    is CR3 bits 51:12, so a DTB like 0x4e312002 names the PML4 at 0x4e312000.
 */
import type { PageSize, PagingLevel } from '../types.js';

export interface MmuLevel {
  readonly level: PagingLevel;
  /** Name of an entry at this level, as reasons say it ("PDE not present"). */
  readonly entryName: string;
  /** Lowest VA bit of this level's index. */
  readonly shift: number;
  /** Page size mapped when the entry has PS set; null when PS does not map a page at this level. */
  readonly largePage: PageSize | null;
}

export const X64_MMU = {
  /** Index widths from the top (PML4..PT) then the page offset: [9, 9, 9, 9, 12]. */
  splits: [9, 9, 9, 9, 12] as const,
  levels: [
    { level: 'PML4', entryName: 'PML4E', shift: 39, largePage: null },
    { level: 'PDPT', entryName: 'PDPTE', shift: 30, largePage: '1G' },
    { level: 'PD', entryName: 'PDE', shift: 21, largePage: '2M' },
    { level: 'PT', entryName: 'PTE', shift: 12, largePage: null },
  ] as const satisfies readonly MmuLevel[],
  entrySize: 8,
  tablePageSize: 4096,
  /** Bit positions in a paging-structure entry. */
  bits: { present: 0, writable: 1, user: 2, pageSize: 7, noExecute: 63 },
  /** Physical-address bits of a table pointer / 4 KiB page: 12..51. */
  physMask: 0x000ffffffffff000n,
  /** Canonical addresses sign-extend bit 47. */
  addressBits: 48,
} as const;

export const PAGE_BYTES: Record<PageSize, number> = { '4K': 0x1000, '2M': 0x200000, '1G': 0x40000000 };

const TWO_32 = 4294967296;

/** Bits 12..51 of an entry given as uint32 halves, as a JS number (exact: < 2^52). */
export function tableAddress(lo: number, hi: number): number {
  return (hi & 0xfffff) * TWO_32 + ((lo & 0xfffff000) >>> 0);
}

/** Base of a large page: bits 21..51 (2M) or 30..51 (1G) — bit 12 is PAT in these entries. */
export function largePageBase(lo: number, hi: number, size: PageSize): number {
  const loMask = size === '1G' ? 0xc0000000 : 0xffe00000;
  return (hi & 0xfffff) * TWO_32 + ((lo & loMask) >>> 0);
}

/** DTB (CR3) to PML4 physical address: bits 12..51 only (drops PCID/PWT/PCD and anything above 51). */
export function pml4FromDtb(dtb: bigint): number {
  return Number(BigInt.asUintN(64, dtb) & X64_MMU.physMask);
}

/** Join two uint32 halves into the raw 64-bit entry (only off the hot path: walks for the UI). */
export function joinEntry(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
