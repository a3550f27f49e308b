/**
 * KUSER_SHARED_DATA for the sample image: the page Windows maps read-only at the same VA in every
 * address space, holding the clocks the engine reads for the capture and boot time.
 */
import type { Profile } from '../profile/profile.js';
import type { AddressSpace } from './paging.js';
import type { SparsePhysicalMemory } from './physmem.js';
import { StructBuf } from './struct-buf.js';

/** x64 KUSER_SHARED_DATA and the PML4 slot that maps it (0x1ef). */
const KUSER_SHARED_DATA_VA = 0xffff_f780_0000_0000n;
const KUSD_PML4_INDEX = Number((KUSER_SHARED_DATA_VA >> 39n) & 0x1ffn);

/**
 * Map one page at KUSER_SHARED_DATA and write its clocks: SystemTime = capture, InterruptTime =
 * capture − boot (_KSYSTEM_TIME with High1Time = High2Time: a consistent copy). Every process's PML4
 * gets the same kernel-half entry, as on Windows. Skipped (false) when the slot is taken by the
 * self-reference or the VA is already in use (a seed whose random layout landed there).
 */
export function writeSharedUserData(profile: Profile, mem: SparsePhysicalMemory, ks: AddressSpace, spaces: readonly AddressSpace[], selfRef: number, boot: bigint, capture: bigint): boolean {
  if (selfRef === KUSD_PML4_INDEX || ks.translate(KUSER_SHARED_DATA_VA) !== null || !profile.hasType('_KUSER_SHARED_DATA')) return false;
  const hadSlot = (ks.readEntry(ks.pml4, KUSD_PML4_INDEX) & 1n) === 1n;
  ks.map4k(KUSER_SHARED_DATA_VA, mem.allocPage(), { writable: false });
  if (!hadSlot) for (const as of spaces) if (as !== ks) as.writeEntry(as.pml4, KUSD_PML4_INDEX, ks.readEntry(ks.pml4, KUSD_PML4_INDEX));
  const page = new StructBuf(profile, '_KUSER_SHARED_DATA', new Uint8Array(profile.sizeOf('_KUSER_SHARED_DATA')));
  const ksystem = (field: string, v: bigint) => {
    page.set(`${field}.LowPart`, Number(v & 0xffff_ffffn));
    page.set(`${field}.High1Time`, Number(v >> 32n));
    page.set(`${field}.High2Time`, Number(v >> 32n));
  };
  ksystem('SystemTime', capture);
  ksystem('InterruptTime', capture - boot);
  ks.write(KUSER_SHARED_DATA_VA, page.buf);
  return true;
}
