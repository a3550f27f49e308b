import type { Profile } from '../profile/profile.js';
import type { ProfileSource } from '../profile/model.js';
import type { PhysicalSource } from '../sources/physical-source.js';
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
  /** Kernel VA of a symbol (kernelBase + RVA). */
  symbolVa(name: string): bigint;
}
