/**
 * How discovery runs a whole-memory scan: the session's one scan function (scan/scan-fn.ts), with
 * low memory scanned in-process first when that function runs on workers.
 */
import type { PhysicalRun, PhysicalSource } from '../../sources/physical-source.js';
import { inProcessScan, type PhysicalScanFn, type ScanFnOptions } from '../../scan/scan-fn.js';
import type { ScanEvent, ScanHit, ScannerSpec } from '../../scan/types.js';

export { inProcessScan, type PhysicalScanFn, type ScanFnOptions } from '../../scan/scan-fn.js';

/** Bytes of low physical memory scanned in-process before the worker pool is started. */
export const LOW_SCAN_BYTES = 256 * 1024 * 1024;

const overlaps = (runs: readonly PhysicalRun[], start: number, end: number) => runs.some((r) => r.start < end && r.start + r.length > start);

/**
 * Low memory first, in-process; the rest on `rest` (the worker pool). Windows allocates System's
 * PML4 and EPROCESS early in boot, in low physical memory (MemProcFS scans only the low 16 MiB), so
 * the common case validates before any worker is spawned — worker start-up costs more than the
 * whole low scan. A consumer that stops iterating never starts the pool.
 */
export function lowFirstScan(source: PhysicalSource, rest: PhysicalScanFn, lowBytes = LOW_SCAN_BYTES): PhysicalScanFn {
  const local = inProcessScan(source);
  return async function* <H extends ScanHit>(spec: ScannerSpec<H>, opts: ScanFnOptions): AsyncGenerator<ScanEvent<H>> {
    const runs = source.runs();
    const total = runs.reduce((n, r) => n + r.length, 0);
    let lowDone = 0;
    if (overlaps(runs, 0, lowBytes)) {
      for await (const ev of local(spec, { signal: opts.signal, ranges: [{ start: 0, length: lowBytes }] })) {
        if (ev.type === 'progress') { lowDone = ev.bytesDone; yield { ...ev, bytesTotal: total }; } else yield ev;
      }
    }
    if (!overlaps(runs, lowBytes, source.size)) return;
    for await (const ev of rest(spec, { signal: opts.signal, ranges: [{ start: lowBytes, length: source.size - lowBytes }] })) {
      yield ev.type === 'progress' ? { ...ev, bytesDone: lowDone + ev.bytesDone, bytesTotal: total } : ev;
    }
  };
}
