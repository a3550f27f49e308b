import type { Profile } from '../profile/profile.js';
import type { ProfileSource } from '../profile/model.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import type { ProcessSpaces } from '../translate/process-spaces.js';
import type { VirtualMemory } from '../translate/types.js';

/**
 * What kernel discovery (windows/discovery/) hands to the plugins: everything needed to read the
 * kernel's virtual memory with typed structures. Plugins depend on this, not on how it was found.
 */
export interface WindowsKernel {
  readonly source: PhysicalSource;
  /** Kernel address space (System's DirBase). */
  readonly kernel: VirtualMemory;
  /** DTB as found, low bits kept (PCID etc.). */
  readonly dtbRaw: bigint;
  /** Page-aligned PML4 physical address. */
  readonly dtb: bigint;
  readonly dtbMethod: string;
  readonly kernelBase: bigint;
  readonly buildNumber: number | null;
  readonly profile: Profile;
  readonly profileSource: ProfileSource;
  /** Per-process address spaces, owned by the session (absent in hand-built test kernels). */
  readonly processSpaces?: ProcessSpaces;
  /** Kernel VA of a symbol (kernelBase + RVA). */
  symbolVa(name: string): bigint;
}
