/** What a thread says about its process: the _ETHREAD fields that name the owning _EPROCESS. */
import type { Profile } from '../profile/profile.js';
import type { VirtualMemory } from '../translate/types.js';
import { isKernelPointer } from '../translate/x64/kernel-half.js';
import { StructView } from './struct-view.js';

/**
 * EPROCESS VA owning the ETHREAD at `ethread`: Tcb.Process (KTHREAD's own back-pointer), else
 * ThreadsProcess, else Tcb.ApcState.Process (older builds), the first that is a kernel pointer;
 * null when none is readable.
 */
export function threadOwner(profile: Profile, kernel: VirtualMemory, ethread: bigint): bigint | null {
  const v = StructView.fromVirtual(profile, '_ETHREAD', kernel, ethread);
  for (const f of ['Tcb.Process', 'ThreadsProcess', 'Tcb.ApcState.Process']) {
    if (!v.has(f)) continue;
    const p = v.pointer(f);
    if (p !== null && isKernelPointer(p)) return p;
  }
  return null;
}
