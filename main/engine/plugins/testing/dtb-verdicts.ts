/**
 * The DTB inspector's verdicts a responder reads, word for word, for tests to assert (not a pattern
 * every verdict matches). The sample's System PML4 has three present kernel-half slots besides the
 * self-map (kernel image 0x1f0, pool, session space), and a fourth (0x1ef, KUSER_SHARED_DATA) where the
 * builder wrote the shared page (its truth then carries the capture time): `kernelHalfSlots`.
 */
import type { GroundTruth } from '../../sample/truth.js';

/** Present kernel-half PML4 slots of the sample's System, besides the self-map. */
export const kernelHalfSlots = (truth: Pick<GroundTruth, 'captureTime'>): number => (truth.captureTime === undefined ? 3 : 4);

export const VALID_ALIGNED = 'valid: page-aligned PML4 maps the shared kernel half and self-references';
export const VALID_PCID = 'valid: PCID-tagged DirBase, masked PML4 maps the shared kernel half and self-references';
export const ZERO_ON_RUNNING = 'invalid: DirBase is zero on a running process: it has no address space (tampered, or a smeared read)';
export const NO_SELF_REFERENCE = 'suspicious: kernel half matches System but no self-reference entry (every Windows PML4 maps itself): tampered page tables or a smeared read';
/** The kernel-image slot (0x1f0) of a process's PML4 differs from System's; the others match. */
export const kernelImageEntryTampered = (slots: number): string =>
  `suspicious: kernel half differs from System's at PML4 entry 0x1f0 (${slots - 1}/${slots} entries match): tampered page tables or a smeared read`;

/** The verdict of a sound DirBase (as the truth stores it, low bits kept). */
export const validVerdictFor = (dtb: string): string => (BigInt(dtb) & 0xfffn ? VALID_PCID : VALID_ALIGNED);

/** The verdict of a DirBase whose masked PML4 `pml4` is some other page (no self-map, no shared kernel half). */
export const notAPageTable = (dtb: string, slots: number): string =>
  `invalid: 0x${(BigInt(dtb) & 0x000f_ffff_ffff_f000n).toString(16)} is not a page table: no self-reference and 0/${slots} kernel-half entries match System`;

/** What the inspector adds to a failing verdict when the process has exited (its PML4 may be freed). */
export const exitedSuffix = (exitTime: string): string => `; the process exited at ${exitTime}, so its page tables may have been freed since`;

/**
 * The verdict a sample process's DirBase calls for, from its truth: the planted fault if any; the
 * unmapped remnant's DirBase names a page the builder left zero (its page tables were freed);
 * otherwise valid. (The garbage user DTB's verdict names the value: asserted where it is planted.)
 */
export function expectedVerdict(p: { readonly dtb: string; readonly planted: readonly string[]; readonly exitTime: string | null }, slots: number): string {
  if (p.planted.includes('dirbase-zero-dtb')) return ZERO_ON_RUNNING;
  if (p.planted.includes('dirbase-not-a-page-table')) return notAPageTable(p.dtb, slots);
  if (p.planted.includes('dirbase-tampered-kernel-half')) return kernelImageEntryTampered(slots);
  if (p.planted.includes('dirbase-no-self-reference')) return NO_SELF_REFERENCE;
  if (p.planted.includes('unmapped-remnant')) return notAPageTable(p.dtb, slots) + exitedSuffix(p.exitTime!);
  return validVerdictFor(p.dtb);
}
