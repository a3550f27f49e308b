/**
 * How discovery runs a whole-memory scan: a function from a scanner spec to a stream of scan events
 * (scan/types.ts). Strategies take it as a parameter so tests can run in-process on an in-memory
 * source while the CLI runs on the worker pool over the image file.
 */
import type { PhysicalSource } from '../../sources/physical-source.js';
import { scanPhysical, scanSource } from '../../scan/scan-physical.js';
import type { ScanEvent, ScanHit, ScannerSpec } from '../../scan/types.js';

export type PhysicalScanFn = <H extends ScanHit>(
  spec: ScannerSpec<H>, opts: { readonly signal?: AbortSignal },
) => AsyncIterable<ScanEvent<H>>;

/** Single-thread scan of an open source (in-memory sources, tests). */
export function inProcessScan(source: PhysicalSource): PhysicalScanFn {
  return (spec, opts) => scanSource(source, spec, { signal: opts.signal });
}

/** Worker-pool scan: every worker reopens the image at `path` (scan/scan-physical.ts). */
export function workerPoolScan(path: string): PhysicalScanFn {
  return (spec, opts) => scanPhysical({ sourcePath: path, scanner: spec, signal: opts.signal });
}
