/**
 * The whole-memory DTB methods (self-referencing PML4, System EPROCESS) in ONE pass over physical
 * memory: each method is a scanner spec plus what a hit of it proves (candidates), and one
 * any-of scan (scan/scanners/any-of.ts) reads every window once for both. Run as two scans they
 * read the image twice (measured on the 4 GiB bench image, exhaustive discovery: ~2.05 s, 3.3x a
 * plain read of the file, both methods the whole time).
 */
import { anyOfScan } from '../../../scan/scanners/any-of.js';
import type { ScanHit, ScannerSpec } from '../../../scan/types.js';
import type { PhysicalScanFn } from '../scan-runner.js';
import type { DtbCandidate, DtbMethod, ProgressFn } from '../types.js';

export interface DtbScanMethod<H extends ScanHit = ScanHit> {
  readonly name: DtbMethod;
  readonly spec: ScannerSpec<H>;
  /** What one hit proves: usually nothing or one candidate (a method drops repeats itself). */
  candidates(hit: H): DtbCandidate[];
}

export interface MethodCandidate {
  readonly method: DtbMethod;
  readonly candidate: DtbCandidate;
}

/**
 * Candidates of every method, in the order the pass meets their hits. Stopping the iteration
 * (return(), break) stops the scan.
 */
export async function* scanForCandidates(
  methods: readonly DtbScanMethod[], scan: PhysicalScanFn, opts: { signal?: AbortSignal; onProgress?: ProgressFn } = {},
): AsyncGenerator<MethodCandidate> {
  for await (const ev of scan(anyOfScan(methods.map((m) => m.spec)), { signal: opts.signal })) {
    if (ev.type === 'progress') {
      for (const m of methods) opts.onProgress?.({ step: `dtb:${m.name}`, done: ev.bytesDone, total: ev.bytesTotal });
      continue;
    }
    if (ev.type !== 'hit') continue;
    const m = methods[ev.hit.part]!;
    for (const candidate of m.candidates(ev.hit.hit)) yield { method: m.name, candidate };
  }
}
