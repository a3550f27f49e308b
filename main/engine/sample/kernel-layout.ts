import { usageError } from '../errors.js';
import { AddressSpace, canonical } from './paging.js';
import { PAGE_SIZE, SparsePhysicalMemory, type PhysicalRun } from './physmem.js';
import type { Prng } from './prng.js';

/**
 * Where things live on the sample machine: its physical memory map, the low stub page, System's PML4
 * and the kernel-half PML4 slots (self-reference, kernel image, pool, session space).
 */
export const KERNEL_VA_LO = 0xffff_f800_0000_0000n; // ntoskrnl's KASLR window (MemProcFS scans …f800…–…f803…)
export const KERNEL_VA_HI = 0xffff_f804_0000_0000n;
export const KERNEL_PML4_INDEX = Number((KERNEL_VA_LO >> 39n) & 0x1ffn); // 0x1f0

/** Physical memory map: a hole below 1 MiB (legacy VGA/BIOS), one around 3–4 GiB (PCI) when the size reaches it, else one mid-way. */
export function physicalRuns(sizeMiB: number): PhysicalRun[] {
  const MiB = 0x10_0000;
  const size = sizeMiB * MiB;
  const low: PhysicalRun = { start: 0x1000, length: 0x9f000 - 0x1000 };
  if (size > 0xc000_0000) {
    return [low, { start: MiB, length: 0xc000_0000 - MiB }, { start: 0x1_0000_0000, length: size - 0xc000_0000 }];
  }
  const mid = Math.floor(size / 2 / (2 * MiB)) * 2 * MiB;
  return [low, { start: MiB, length: mid - MiB }, { start: mid + 2 * MiB, length: size - mid - 2 * MiB }];
}

/** Canonical VA of the first byte a kernel-half PML4 slot maps. */
export const slotVa = (slot: number): bigint => canonical(BigInt(slot) << 39n);

export interface KernelLayout {
  readonly runs: PhysicalRun[];
  readonly mem: SparsePhysicalMemory;
  /** PROCESSOR_START_BLOCK page below 1 MiB, or null when the machine has none. */
  readonly lowStubPa: number | null;
  /** System's address space (its PML4 is the kernel DTB). */
  readonly ks: AddressSpace;
  readonly selfRef: number;
  readonly poolSlot: number;
  readonly sessionSlot: number;
}

export interface LayoutOptions {
  readonly sizeMiB: number;
  readonly lowStub: boolean;
  readonly selfRefIndex?: number;
}

export function layOutMachine(rng: Prng, opts: LayoutOptions, win10: boolean): KernelLayout {
  const runs = physicalRuns(opts.sizeMiB);
  const mem = new SparsePhysicalMemory(runs, rng);

  // Low stub page and the kernel PML4 (low, like the 0x1aa000-ish DirBase of System).
  const lowStubPa = opts.lowStub ? rng.int(1, 0x1f) * PAGE_SIZE : null;
  if (lowStubPa !== null) mem.reserve(lowStubPa);
  const ks = AddressSpace.create(mem, mem.allocPage(0x10_0000, 0x20_0000));

  // PML4 slots: self-reference (randomised on Windows 10+), kernel image, pool, session space.
  const selfRef = opts.selfRefIndex ?? (win10 ? rng.int(0x100, 0x1fe) : 0x1ed);
  if (!Number.isInteger(selfRef) || selfRef < 0x100 || selfRef > 0x1fe || selfRef === KERNEL_PML4_INDEX) {
    throw usageError(`self-reference index must be 0x100–0x1fe and not 0x${KERNEL_PML4_INDEX.toString(16)} (got ${selfRef})`);
  }
  const freeSlot = (taken: number[]): number => {
    for (;;) {
      const i = rng.int(0x100, 0x1ef);
      if (!taken.includes(i)) return i;
    }
  };
  const poolSlot = freeSlot([selfRef, KERNEL_PML4_INDEX]);
  const sessionSlot = freeSlot([selfRef, KERNEL_PML4_INDEX, poolSlot]);
  ks.setSelfRef(selfRef);
  for (const s of [KERNEL_PML4_INDEX, poolSlot, sessionSlot]) ks.ensurePml4Slot(s);
  return { runs, mem, lowStubPa, ks, selfRef, poolSlot, sessionSlot };
}
