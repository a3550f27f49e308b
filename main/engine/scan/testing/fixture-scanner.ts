/**
 * Test-only scanner kind, loaded by module URL (ScannerSpec.module) to exercise the scan loop's
 * failure paths: it reports one hit at each chunk's first address and, at one chosen address,
 * throws (a scanner bug) or exits its worker thread (a crash). `delayMs` busy-waits per chunk so a
 * test can abort mid-scan. Each hit says which thread scanned it, a fed pool's reader included.
 */
import { isMainThread, workerData } from 'node:worker_threads';

/** A fed pool's reader (feed-reader.ts) is started with a doorbell and, unlike a scan worker, no state block. */
const inFeedReader = !isMainThread && typeof workerData === 'object' && workerData !== null && 'bell' in workerData && !('state' in workerData);
import type { Emit, ScanHit, Scanner, ScannerSpec } from '../types.js';

export interface FixtureParams {
  readonly failPa?: number;
  readonly mode?: 'throw' | 'exit';
  readonly delayMs?: number;
  /** Fail while being built inside a worker: throw (reported init error) or exit (dies before ready). */
  readonly initFail?: 'throw' | 'exit';
  /** Cannot be built in a fed pool's reader: the reader only fills, the workers scan every chunk. */
  readonly readerFail?: boolean;
  /** Throws at every window a fed pool's reader scans (the workers scan normally). */
  readonly throwInReader?: boolean;
}

/** Which thread scanned the chunk (the scan loop may scan on the calling thread while workers start). */
export interface FixtureHit extends ScanHit {
  readonly thread: 'main' | 'worker' | 'reader';
  /** Date.now() when the chunk was scanned. */
  readonly at: number;
}

export const fixtureScan = (params: FixtureParams): ScannerSpec<FixtureHit> => ({
  kind: 'fixture',
  params,
  module: new URL('./fixture-scanner.' + (import.meta.url.endsWith('.ts') ? 'ts' : 'js'), import.meta.url).href,
});

export function createScanner(params: unknown): Scanner<FixtureHit> {
  const p = params as FixtureParams;
  if (p.readerFail && inFeedReader) throw new Error('fixture cannot start in a fed pool\'s reader');
  if (p.initFail && !isMainThread) {
    if (p.initFail === 'exit') process.exit(4);
    throw new Error('fixture cannot start in a worker');
  }
  return {
    overlap: 0,
    scan(chunk: Uint8Array, chunkPa: number, emit: Emit<FixtureHit>): void {
      if (p.delayMs) {
        const until = Date.now() + p.delayMs;
        while (Date.now() < until) {
          /* busy: a CPU-bound scanner that only terminate() can stop */
        }
      }
      if (p.throwInReader && inFeedReader) throw new Error(`fixture failure in the reader at ${chunkPa}`);
      if (p.failPa !== undefined && p.failPa >= chunkPa && p.failPa < chunkPa + chunk.length) {
        if (p.mode === 'exit' && !isMainThread) process.exit(3);
        throw new Error(`fixture failure at ${p.failPa}`);
      }
      emit({ pa: chunkPa, thread: isMainThread ? 'main' : inFeedReader ? 'reader' : 'worker', at: Date.now() });
    },
  };
}
