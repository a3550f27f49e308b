/**
 * DTB method (c): a PML4 that maps itself. Windows maps the paging structures into the kernel VA
 * space through one PML4 entry pointing at the PML4's own frame (the "self-map"); before Windows 10
 * 1607 it was index 0x1ed, since then it is randomised in 0x100..0x1ff, which is why scanning two
 * fixed windows fails (Volatility 3 issues #1875/#1970/#2033). The whole-memory scan runs on the
 * worker pool (scan/ 'pml4-selfref' scanner: present + writable entry in the kernel half whose
 * frame is the page's own address); each hit is re-checked here (inspectPml4: kernel half sane) and
 * reported as a candidate. The consumer stops the iteration (return()) once one validates, which
 * aborts the scan.
 */
import type { PhysicalSource } from '../../../sources/physical-source.js';
import { hex } from '../../../util/hex.js';
import { inspectPml4 } from '../page-walk.js';
import type { PhysicalScanFn } from '../scan-runner.js';
import { pml4SelfRefScan } from '../../../scan/scanners/pml4-selfref.js';
import { type DtbCandidate, type ProgressFn } from '../types.js';

export async function* selfRefPml4(
  source: PhysicalSource, scan: PhysicalScanFn, opts: { signal?: AbortSignal; onProgress?: ProgressFn } = {},
): AsyncGenerator<DtbCandidate> {
  const seen = new Set<number>();
  for await (const ev of scan(pml4SelfRefScan({ maxPhysicalAddress: source.size }), { signal: opts.signal })) {
    if (ev.type === 'progress') {
      opts.onProgress?.({ step: 'dtb:selfref-pml4', done: ev.bytesDone, total: ev.bytesTotal });
      continue;
    }
    if (ev.type !== 'hit') continue;
    const pa = ev.hit.pa - (ev.hit.pa % 0x1000);
    if (seen.has(pa)) continue;
    seen.add(pa);
    const look = inspectPml4(source, pa);
    if (look.reason !== null) continue;
    yield {
      dtbRaw: BigInt(pa),
      pml4: pa,
      method: 'selfref-pml4',
      evidence: [
        `page ${hex(pa)}: PML4 entry 0x${look.selfRefIndex!.toString(16)} points at its own frame (present, writable)`,
        `${look.kernelEntries} other present kernel-half entries`,
      ],
      score: 50 + Math.min(look.kernelEntries, 20),
    };
  }
}
