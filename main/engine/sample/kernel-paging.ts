import { hex } from '../util/hex.js';
import type { KernelImage } from './kernel-image.js';
import { slotVa } from './kernel-layout.js';
import { canonical, type AddressSpace } from './paging.js';
import { LARGE_PAGE_SIZE, PAGE_SIZE, type SparsePhysicalMemory } from './physmem.js';
import type { Prng } from './prng.js';
import { STANDBY_MARKER, type GroundTruth } from './truth.js';

/** PROCESSOR_START_BLOCK (x64 HAL) in the first MiB: what low-stub DTB discovery reads CR3 from. */
export function writeLowStub(rng: Prng, mem: SparsePhysicalMemory, ks: AddressSpace, kernel: KernelImage, lowStubPa: number, poolSlot: number): void {
  const psb = new Uint8Array(PAGE_SIZE);
  const dv = new DataView(psb.buffer);
  // Jmp (FAR_JMP_16: E9 + offset) then CompletionFlag = 1: qword & 0xffffffffffff00ff == 0x00000001000600E9
  dv.setBigUint64(0, 0x0000_0001_0006_00e9n | (BigInt(rng.int(0, 0xff)) << 8n), true);
  dv.setBigUint64(0x70, kernel.kva(0x1000 + rng.int(0x100, 0x8000) * 16), true); // LmTarget: kernel code
  dv.setBigUint64(0x78, canonical(slotVa(poolSlot) - 0x1000n) + BigInt(lowStubPa % PAGE_SIZE), true); // SelfMap
  dv.setBigUint64(0xa0, BigInt(ks.pml4), true); // ProcessorState.SpecialRegisters.Cr3
  mem.write(lowStubPa, psb);
}

/**
 * Kernel working set in 4 KiB pages (paged pool, system cache views): RAM/512 bytes of kernel VA
 * whose frames are scattered over all of RAM, as on a machine that has run for a while. Their
 * contents are left zero (not stored), so a populated-only image stays small.
 */
export function mapKernelWorkingSet(mem: SparsePhysicalMemory, ks: AddressSpace, poolSlot: number, poolRegion: bigint): void {
  const poolWindow = (poolRegion - slotVa(poolSlot)) >> 33n;
  const workingSetVa = slotVa(poolSlot) + ((poolWindow ^ 2n) << 33n);
  const workingSetPages = Math.floor(mem.totalBytes / 512 / PAGE_SIZE);
  for (let i = 0; i < workingSetPages; i++) ks.map4k(workingSetVa + BigInt(i * PAGE_SIZE), mem.allocPage(), { writable: true });
}

export type SoftwarePteTruth = NonNullable<GroundTruth['kernelSoftwarePtes']>[number];

/**
 * Paged pool trimmed from the working set: kernel PTEs in Windows' software formats. A trimmed page
 * whose frame still holds its data sits behind a transition PTE (a walker must resolve it); others
 * were written to the page file, are demand-zero or prototype (no frame).
 */
export function plantSoftwarePtes(rng: Prng, mem: SparsePhysicalMemory, ks: AddressSpace, poolSlot: number, poolRegion: bigint): SoftwarePteTruth[] {
  const poolWindow = (poolRegion - slotVa(poolSlot)) >> 33n;
  let swVa = slotVa(poolSlot) + ((poolWindow ^ 1n) << 33n) + BigInt(rng.int(0, 0xff)) * BigInt(LARGE_PAGE_SIZE);
  const softwarePtes: SoftwarePteTruth[] = [];
  for (const kind of ['transition', 'transition', 'transition', 'prototype', 'transition', 'pagefile', 'transition', 'demand-zero', 'transition'] as const) {
    swVa += BigInt(PAGE_SIZE * rng.int(1, 3));
    let pa: number | null = null;
    let raw: bigint;
    if (kind === 'transition') {
      pa = mem.allocPage();
      const page = new Uint8Array(PAGE_SIZE);
      const dv = new DataView(page.buffer);
      for (let off = 0; off < PAGE_SIZE; off += 4) dv.setUint32(off, rng.nextU32(), true);
      page.set(new TextEncoder().encode(`${STANDBY_MARKER} ${hex(swVa)}`));
      mem.write(pa, page);
      raw = ks.mapSoftware(swVa, { kind, pa });
    } else if (kind === 'prototype') {
      raw = ks.mapSoftware(swVa, { kind, protoAddress: slotVa(poolSlot) + BigInt(rng.int(0, 0xffffff)) * 8n });
    } else if (kind === 'pagefile') {
      raw = ks.mapSoftware(swVa, { kind, pageFileOffset: rng.int(1, 0xfffff) });
    } else {
      raw = ks.mapSoftware(swVa, { kind });
    }
    softwarePtes.push({ va: hex(swVa), kind, pte: hex(raw), pa: pa === null ? null : hex(pa) });
  }
  return softwarePtes;
}
