/** Public surface of the scan framework (see types.ts for the event contract). */
export { scanPhysical, scanSource } from './scan-physical.js';
export { activeScanWorkers } from './spawn-worker.js';
export { builtinScannerKinds, loadScanner } from './registry.js';
export { planChunks, coalesceRuns, intersectRuns } from './plan.js';
export { sequentialReadBaseline, type BaselineReadResult } from './baseline-read.js';
export { poolTagScan, POOL_HEADER_SIZE, type PoolTagHit, type PoolTagParams } from './scanners/pool-tag.js';
export { bytesScan, asciiHex, type BytesHit, type BytesParams } from './scanners/bytes.js';
export { pml4SelfRefScan, type Pml4SelfRefHit, type Pml4SelfRefParams } from './scanners/pml4-selfref.js';
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
