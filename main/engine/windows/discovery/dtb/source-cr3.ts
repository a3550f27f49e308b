/**
 * DTB method (a): the CR3 the source itself recorded — a crash dump's DirectoryTableBase header
 * field, WinPmem's GET_INFO CR3. Hardware-recorded, so the most believable; still only a candidate
 * until validate.ts confirms it. Low bits (PCID) are kept in dtbRaw and masked off for the PML4.
 */
import type { PhysicalSource } from '../../../sources/physical-source.js';
import { hex } from '../../../util/hex.js';
import type { DtbCandidate } from '../types.js';
import { pml4FromDtb } from '../../../translate/x64/mmu.js';

export async function* sourceCr3(source: PhysicalSource): AsyncGenerator<DtbCandidate> {
  const dtb = source.hints.dtb;
  if (dtb === undefined || dtb === 0n) return;
  const evidence = [`${source.kind} source records CR3 ${hex(dtb)}`];
  const low = dtb & 0xfffn;
  if (low) evidence.push(`low 12 bits 0x${low.toString(16)} (PCID / PWT-PCD), masked off for the PML4`);
  if (dtb >> 52n) evidence.push(`bits 52..63 0x${(dtb >> 52n).toString(16)} masked off`);
  yield { dtbRaw: dtb, pml4: pml4FromDtb(dtb), method: 'source-cr3', evidence, score: 100 };
}
