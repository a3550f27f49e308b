/**
 * What one paging-structure entry means: the single rule the walker (address-space.ts) and the leaf
 * enumerator (leaves.ts) both follow, so a translation and an enumeration can never disagree.
 *  - Present clear: not mapped, except a PT entry that is a Windows transition PTE (windows-pte.ts):
 *    the page is still in RAM on a standby/modified list, and its frame is the PTE's PFN.
 *  - Present and PS set in a PDPTE / PDE: maps a 1 GiB / 2 MiB page (SDM 4.5.4, Tables 4-15/4-17);
 *    PS in a PML4E is reserved and, as Windows and Volatility do, ignored (mmu.ts levels[0]).
 *  - Present in a PTE: maps a 4 KiB page. Otherwise: points at the next level's table.
 * Entries are passed as their two little-endian uint32 halves (no bigint on the hot path).
 */
import type { PageSize } from '../types.js';
import { X64_MMU, largePageBase, tableAddress } from './mmu.js';
import { isTransitionPte, transitionFrame } from './windows-pte.js';

export type EntryStep = 'table' | 'page' | 'transition' | 'not-present';

/** Index of the PT level in X64_MMU.levels (the only level whose entries map 4 KiB pages). */
export const PT_LEVEL = 3;
const PRESENT = 1 << X64_MMU.bits.present;
const PAGE_SIZE_BIT = 1 << X64_MMU.bits.pageSize;
/** Page size a PS entry maps at each level (null: PS does not map a page there), read once. */
const LARGE: readonly (PageSize | null)[] = X64_MMU.levels.map((l) => l.largePage);

/** How the entry at `level` (0 = PML4 … 3 = PT) whose low half is `lo` is followed (bits 0, 7, 10, 11 decide). */
export function entryStep(level: number, lo: number): EntryStep {
  if ((lo & PRESENT) === 0) return level === PT_LEVEL && isTransitionPte(lo) ? 'transition' : 'not-present';
  if (level === PT_LEVEL) return 'page';
  return (lo & PAGE_SIZE_BIT) !== 0 && LARGE[level] !== null ? 'page' : 'table';
}

/** Size of the page an entry maps when entryStep says 'page' or 'transition'. */
export function entryPageSize(level: number): PageSize {
  return LARGE[level] ?? '4K';
}

/** Where the entry points: the next table, the mapped page's base, or the transition frame. */
export function entryTarget(level: number, lo: number, hi: number, step: EntryStep): number {
  if (step === 'transition') return transitionFrame(lo, hi);
  const large = LARGE[level] ?? null;
  return step === 'page' && large !== null ? largePageBase(lo, hi, large) : tableAddress(lo, hi);
}
