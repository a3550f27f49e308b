/**
 * Every leaf of one set of x64 page tables: each mapped page (4 KiB, 2 MiB, 1 GiB) and each Windows
 * transition PTE (a 4 KiB page still in RAM), in ascending VA order, handed to a visitor. The entry
 * rule is entry.ts, the one the walker (address-space.ts) uses, so every leaf reported here
 * translates to the same frame through X64AddressSpace.
 *
 * Loop-safe and bounded, while listing what translation resolves: a table shared by two entries is
 * walked under each (its pages are mapped at both VAs, and X64AddressSpace translates both), an
 * entry pointing back at a table above it on the current path (a loop) is not followed and is
 * reported once — except the PML4 entry that points at its own PML4, Windows' self-map, which would
 * list every page table as a page and is skipped silently — and at most `maxTables` table pages are
 * read. Table pages are read one at a time and not kept, so memory stays at four pages however
 * large the tables are.
 */
import type { PhysicalSource } from '../../sources/physical-source.js';
import { hex } from '../../util/hex.js';
import { entryPresent, readTablePage, type TablePage } from '../page-table-cache.js';
import type { PageSize } from '../types.js';
import { entryPageSize, entryStep, entryTarget } from './entry.js';
import { X64_MMU } from './mmu.js';

/**
 * One leaf. `vpn` is the virtual page number of the page's first byte: the low 48 bits of its VA
 * divided by 4096 (at most 2^36, exact as a number; vaOfVpn gives the canonical VA back).
 */
export type LeafVisitor = (vpn: number, frame: number, size: PageSize, transition: boolean) => void;

export interface LeafWalkOptions {
  /** First and last virtual page number (48-bit VA >> 12) of interest, inclusive; leaves that
   *  overlap the range are reported whole. Default: the whole address space. */
  readonly firstVpn?: number;
  readonly lastVpn?: number;
  /** Most table pages read, the PML4 included (default 8192 = 32 MiB of tables). */
  readonly maxTables?: number;
}

export interface LeafWalkResult {
  /** Table pages read, the PML4 included. */
  readonly tablesRead: number;
  /** Why the walk was cut short or skipped something (budget, a loop); empty when complete. */
  readonly problems: readonly string[];
}

/** First virtual page number of the kernel half (PML4 entries 256..511: VA 0xffff8000'00000000). */
export const KERNEL_HALF_FIRST_VPN = 2 ** 35;
/** Last virtual page number of the 48-bit address space. */
export const LAST_VPN = 2 ** 36 - 1;
const ENTRIES = X64_MMU.tablePageSize / X64_MMU.entrySize;
/** Virtual pages one entry spans at each level: 512^3 (PML4E), 512^2, 512, 1 (PTE). */
const SPAN = X64_MMU.levels.map((l) => 2 ** (l.shift - 12));

/** Canonical VA of a virtual page number (bit 47 sign-extended, SDM 3.3.7.1). */
export function vaOfVpn(vpn: number): bigint {
  const va = BigInt(vpn) << 12n;
  return vpn >= KERNEL_HALF_FIRST_VPN ? va | 0xffff_0000_0000_0000n : va;
}

/** Virtual page number of a VA (its low 48 bits >> 12). */
export function vpnOfVa(va: bigint): number {
  return Number(BigInt.asUintN(48, va) >> 12n);
}

/** Visit every leaf under the PML4 at `pml4` (a page-aligned physical address). */
export function forEachLeaf(source: PhysicalSource, pml4: number, visit: LeafVisitor, options: LeafWalkOptions = {}): LeafWalkResult {
  const first = options.firstVpn ?? 0;
  const last = options.lastVpn ?? LAST_VPN;
  const maxTables = options.maxTables ?? 8192;
  const problems: string[] = [];
  const path = [pml4, -1, -1, -1]; // table address at each level of the current walk
  let tablesRead = 1;
  let loopNoted = false;
  let budgetNoted = false;
  const top = readTablePage(source, pml4);
  if (top.view === null) return { tablesRead, problems: [`PML4 page ${hex(pml4)} is outside the source or absent`] };

  const enter = (level: number, table: number): TablePage | null => {
    for (let l = 0; l < level; l++) {
      if (path[l] !== table) continue;
      if (!loopNoted && !(l === 0 && level === 1)) {
        problems.push(`page table ${hex(table)} points back at a table above it (a loop), not followed`);
        loopNoted = true;
      }
      return null;
    }
    if (tablesRead >= maxTables) {
      if (!budgetNoted) { problems.push(`stopped after ${maxTables} page tables (budget)`); budgetNoted = true; }
      return null;
    }
    tablesRead++;
    const page = readTablePage(source, table);
    if (page.view === null) return null;
    path[level] = table;
    return page;
  };

  const walk = (level: number, page: TablePage, vpnBase: number): void => {
    const span = SPAN[level]!;
    const view = page.view!;
    const iFirst = Math.max(0, Math.floor((first - vpnBase) / span));
    const iLast = Math.min(ENTRIES - 1, Math.floor((last - vpnBase) / span));
    for (let i = iFirst; i <= iLast; i++) {
      const offset = i * X64_MMU.entrySize;
      if (!entryPresent(page, offset)) continue;
      const lo = view.getUint32(offset, true);
      const step = entryStep(level, lo);
      if (step === 'not-present') continue;
      const hi = view.getUint32(offset + 4, true);
      const target = entryTarget(level, lo, hi, step);
      const vpn = vpnBase + i * span;
      if (step !== 'table') { visit(vpn, target, entryPageSize(level), step === 'transition'); continue; }
      const next = enter(level + 1, target);
      if (next !== null) walk(level + 1, next, vpn);
    }
  };
  walk(0, top, 0);
  return { tablesRead, problems };
}
