/**
 * Public surface of the scan framework (event contract: ScanEvent in types.ts).
 *
 *   const ac = new AbortController();
 *   for await (const ev of scanPhysical({ sourcePath, scanner: poolTagScan({ tags: ['Proc'] }), signal: ac.signal })) {
 *     if (ev.type === 'hit') validate(ev.hit);            // PoolTagHit { pa, tag, header }
 *     else if (ev.type === 'progress') show(ev.bytesDone, ev.bytesTotal);
 *     else warn(ev.message);                                // one chunk failed; the scan goes on
 *   }                                                       // abort → throws MemScopeError 'cancelled'
 *
 * Hits arrive per chunk in no global order (sort by pa if order matters). Validation that needs
 * translation (object header, EPROCESS sanity) happens in the caller against its own source.
 * Sources that cannot be reopened by path (in-memory, a live device handle): scanSource(source, …).
 * Several scans of one image (discovery, psscan, psxview): open a ScanPool once and scan through
 * poolScan(pool) (scan-fn.ts), the one scan function a session hands everything; close() it with
 * the source. Workers start once.
 * Several searches of the same memory at the same time: one scan of anyOfScan([specA, specB])
 * reads each window once for all of them (hits carry `part`).
 */
export { scanPhysical, scanSource } from './scan-physical.js';
export { ScanPool, type ScanPoolOptions } from './scan-pool.js';
export { imageScan, inProcessScan, poolScan, type PhysicalScanFn, type ScanFnOptions } from './scan-fn.js';
export { activeScanWorkers } from './spawn-worker.js';
export { builtinScannerKinds, loadScanner } from './registry.js';
export { planChunks, coalesceRuns, intersectRuns } from './plan.js';
export { sequentialReadBaseline, type BaselineReadResult } from './baseline-read.js';
export { poolTagScan, POOL_HEADER_SIZE, type PoolTagHit, type PoolTagParams } from './scanners/pool-tag.js';
export { bytesScan, asciiHex, type BytesHit, type BytesParams } from './scanners/bytes.js';
export { pml4SelfRefScan, type Pml4SelfRefHit, type Pml4SelfRefParams } from './scanners/pml4-selfref.js';
export { anyOfScan, type AnyOfHit } from './scanners/any-of.js';
export {
  DEFAULT_CHUNK_SIZE,
  type Emit,
  type ScanChunk,
  type ScanEvent,
  type ScanHit,
  type Scanner,
  type ScannerModule,
  type ScannerSpec,
  type ScanOptionsBase,
  type ScanPhysicalOptions,
} from './types.js';
