/**
 * DTB method (c): a PML4 that maps itself. Windows maps the paging structures into the kernel VA
 * space through one PML4 entry pointing at the PML4's own frame (the "self-map"); before Windows 10
 * 1607 it was index 0x1ed, since then it is randomised in 0x100..0x1ff, which is why scanning two
 * fixed windows fails (Volatility 3 issues #1875/#1970/#2033). The whole-memory scan runs on the
 * worker pool (scan/ 'pml4-selfref' scanner: present + writable entry in the kernel half whose
 * frame is the page's own address), in one pass with the System EPROCESS method (whole-memory.ts);
 * each hit is re-checked here (inspectPml4: kernel half sane) and becomes a candidate.
 */
import type { PhysicalSource } from '../../../sources/physical-source.js';
import { hex } from '../../../util/hex.js';
import { inspectPml4 } from '../page-walk.js';
import { pml4SelfRefScan, type Pml4SelfRefHit } from '../../../scan/scanners/pml4-selfref.js';
import type { DtbCandidate } from '../types.js';
import type { DtbScanMethod } from './whole-memory.js';

export function selfRefPml4(source: PhysicalSource): DtbScanMethod<Pml4SelfRefHit> {
  const seen = new Set<number>();
  return {
    name: 'selfref-pml4',
    spec: pml4SelfRefScan({ maxPhysicalAddress: source.size }),
    candidates(hit: Pml4SelfRefHit): DtbCandidate[] {
      const pa = hit.pa - (hit.pa % 0x1000);
      if (seen.has(pa)) return [];
      seen.add(pa);
      const look = inspectPml4(source, pa);
      if (look.reason !== null) return [];
      return [{
        dtbRaw: BigInt(pa),
        pml4: pa,
        method: 'selfref-pml4',
        evidence: [
          `page ${hex(pa)}: PML4 entry 0x${look.selfRefIndex!.toString(16)} points at its own frame (present, writable)`,
          `${look.kernelEntries} other present kernel-half entries`,
        ],
        score: 50 + Math.min(look.kernelEntries, 20),
      }];
    },
  };
}
