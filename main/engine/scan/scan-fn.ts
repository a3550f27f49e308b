/**
 * The one shape in which a whole-memory scan is handed around: a function from a scanner spec (and
 * a signal, ranges, chunk size) to the scan's events (ScanEvent, types.ts). The session builds one
 * from its source (on its scan pool: image-file workers that each read the file, or, for a live
 * device, one reader filling shared memory for the workers), and hands that same function to
 * discovery, the heuristic profile and the plugins; none of them knows about paths, pools or
 * devices. Without a session (tests, an in-memory source) the scan runs on the calling thread.
 */
import type { PhysicalRun, PhysicalSource } from '../sources/physical-source.js';
import type { OpenOptions } from '../sources/detect.js';
import { scanPhysical, scanSource } from './scan-physical.js';
import type { ScanPool } from './scan-pool.js';
import type { ScanEvent, ScanHit, ScannerSpec } from './types.js';

export interface ScanFnOptions {
  readonly signal?: AbortSignal;
  /** Restrict the scan to these physical ranges (intersected with the source's runs). */
  readonly ranges?: readonly PhysicalRun[];
  /** Bytes per unit of work (multiple of 4096); default DEFAULT_CHUNK_SIZE. */
  readonly chunkSize?: number;
}

export interface PhysicalScanFn {
  <H extends ScanHit>(spec: ScannerSpec<H>, opts: ScanFnOptions): AsyncIterable<ScanEvent<H>>;
  /**
   * The scan runs on worker threads, whose start-up costs more than scanning a little memory here:
   * a caller that may stop at its first good hit (discovery) scans low memory in-process first.
   */
  readonly onWorkers?: boolean;
}

const base = (opts: ScanFnOptions) => ({
  ...(opts.signal ? { signal: opts.signal } : {}),
  ...(opts.ranges ? { ranges: opts.ranges } : {}),
  ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
});

/** Single-thread scan of an open source (in-memory sources, tests, low memory). */
export function inProcessScan(source: PhysicalSource): PhysicalScanFn {
  return (spec, opts) => scanSource(source, spec, base(opts));
}

/** Scans on a scan pool kept open across scans (the session's: one per open source). */
export function poolScan(pool: ScanPool): PhysicalScanFn {
  const fn = <H extends ScanHit>(spec: ScannerSpec<H>, opts: ScanFnOptions) => scanPhysical({ pool, scanner: spec, ...base(opts) });
  return Object.assign(fn, { onWorkers: true as const });
}

/** Scans on workers started for each scan over an image file (no session: tests, one-off scans). */
export function imageScan(path: string, opts: { readonly workers?: number; readonly openOptions?: OpenOptions } = {}): PhysicalScanFn {
  const fn = <H extends ScanHit>(spec: ScannerSpec<H>, o: ScanFnOptions) =>
    scanPhysical({ sourcePath: path, scanner: spec, ...base(o), ...(opts.workers !== undefined ? { workers: opts.workers } : {}), ...(opts.openOptions ? { openOptions: opts.openOptions } : {}) });
  return Object.assign(fn, { onWorkers: true as const });
}
