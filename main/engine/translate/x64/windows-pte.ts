/**
 * What a Windows x64 PTE means when its Valid bit (0) is clear: the hardware ignores the other
 * bits (SDM 4.5.4, "if P=0 the processor ignores bits 63:1"), and the Windows memory manager uses
 * them as software formats. Layouts, checked in the Windows 10 x64 kernel symbol tables
 * (ntkrnlmp.pdb ISF for 6.3.9600, 10.0.19041.508 and 10.0.22000.318; windows-pte.test.ts checks them):
 *
 *   _MMPTE_TRANSITION  Valid:0 Write:1 … SwizzleBit:4 Protection:5/5 Prototype:10 Transition:11
 *                      PageFrameNumber:12/36 Unused:48/16 (Windows 11 22000: PageFrameNumber:12/40)
 *   _MMPTE_PROTOTYPE   Valid:0 … Prototype:10 Combined:11 ProtoAddress:16/48
 *   _MMPTE_SOFTWARE    Valid:0 PageFileReserved:1 PageFileAllocated:2 … SwizzleBit:4
 *                      Protection:5/5 Prototype:10 Transition:11 PageFileLow:12/4
 *                      UsedPageTableEntries:16/10 … PageFileHigh:32/32
 *
 * Decision order (as the memory manager's fault handler, and Volatility/MemProcFS, decide it):
 *  1. all 64 bits zero            → never touched / not committed through this PTE: "PTE not present"
 *  2. Prototype (bit 10) set      → the real PTE is a prototype PTE in a section (or the VAD):
 *                                   "prototype PTE (not resident)"
 *  3. Transition (bit 11) set     → the page is still in RAM on a standby/modified list:
 *                                   resolves to PageFrameNumber (bits 12..51), reason "transition"
 *  4. PageFileHigh (bits 32..63) ≠ 0 → the page's contents are at that page-file offset:
 *                                   "page file PTE (not resident)"
 *  5. otherwise (PageFileHigh = 0, Protection set) → "demand-zero PTE (not resident)"
 *
 * Windows 10 1803+ "swizzles" invalid PTEs (L1TF mitigation): when SwizzleBit is clear the high
 * half was XORed with the kernel's MiState InvalidPteMask; pass that mask's high 32 bits as
 * `invalidPteMaskHigh` to undo it before step 4 (default 0: no swizzling assumed).
 */

import { tableAddress } from './mmu.js';

export type SoftwarePte =
  | { readonly kind: 'zero' }
  | { readonly kind: 'prototype' }
  | { readonly kind: 'transition'; readonly frame: number }
  | { readonly kind: 'pagefile' }
  | { readonly kind: 'demand-zero' };

export const SOFTWARE_PTE_REASON = {
  zero: 'PTE not present',
  prototype: 'prototype PTE (not resident)',
  transition: 'transition',
  pagefile: 'page file PTE (not resident)',
  'demand-zero': 'demand-zero PTE (not resident)',
} as const satisfies Record<SoftwarePte['kind'], string>;

/** Bit positions used here, as the Windows x64 _MMPTE_* types define them (tested against real ISFs). */
export const WINDOWS_PTE_BITS = {
  valid: 0, // _MMPTE_*.Valid
  swizzle: 4, // _MMPTE_SOFTWARE.SwizzleBit
  prototype: 10, // _MMPTE_SOFTWARE/_MMPTE_PROTOTYPE.Prototype
  transition: 11, // _MMPTE_SOFTWARE/_MMPTE_TRANSITION.Transition
  // _MMPTE_TRANSITION.PageFrameNumber: 12/36 through Windows 10, 12/40 from Windows 11 (22000);
  // bits 48..51 are Unused (zero) in the older layout, so reading 12..51 is right for both.
  transitionPfn: { position: 12, length: 40 },
  pageFileHigh: { position: 32, length: 32 }, // _MMPTE_SOFTWARE.PageFileHigh
} as const;

const PROTOTYPE_BIT = 1 << WINDOWS_PTE_BITS.prototype;
const TRANSITION_BIT = 1 << WINDOWS_PTE_BITS.transition;
const SWIZZLE_BIT = 1 << WINDOWS_PTE_BITS.swizzle;

/** Steps 1–3 of the decision order: a transition PTE (Valid clear, Prototype clear, Transition set). */
export function isTransitionPte(lo: number): boolean {
  return (lo & (PROTOTYPE_BIT | TRANSITION_BIT)) === TRANSITION_BIT && (lo & (1 << WINDOWS_PTE_BITS.valid)) === 0;
}

/** _MMPTE_TRANSITION.PageFrameNumber as a physical address: bits 12..51 (WINDOWS_PTE_BITS.transitionPfn). */
export function transitionFrame(lo: number, hi: number): number {
  return tableAddress(lo, hi); // the same bits 12..51 a hardware PTE's frame occupies
}

/** Classify a PTE whose Valid bit is clear, given as its uint32 halves. */
export function classifySoftwarePte(lo: number, hi: number, invalidPteMaskHigh = 0): SoftwarePte {
  if (lo === 0 && hi === 0) return { kind: 'zero' };
  if (lo & PROTOTYPE_BIT) return { kind: 'prototype' };
  if (isTransitionPte(lo)) return { kind: 'transition', frame: transitionFrame(lo, hi) };
  const pageFileHigh = (lo & SWIZZLE_BIT) === 0 ? (hi ^ invalidPteMaskHigh) >>> 0 : hi >>> 0;
  return pageFileHigh !== 0 ? { kind: 'pagefile' } : { kind: 'demand-zero' };
}
