/**
 * Contracts of the generic physical-memory scan framework (Volatility 3 style: a scanner only says
 * what a hit looks like; the scan loop chunks the layer, skips holes, overlaps chunks and
 * parallelises over worker_threads).
 *
 * Scanners are pure: bytes in, hits out. They never translate addresses or read elsewhere; anything
 * that needs translation or a second read (pool header → _OBJECT_HEADER → _EPROCESS sanity) is the
 * caller's job on the main side, against its own source, for the (few) hits that come back.
 */
import type { OpenOptions } from '../sources/detect.js';
import type { PhysicalRun } from '../sources/physical-source.js';
import type { ScanPool } from './scan-pool.js';

/** Every hit carries the physical address it is "at": the key for chunk ownership and dedup. */
export interface ScanHit {
  readonly pa: number;
}

export type Emit<H extends ScanHit> = (hit: H) => void;

/** A scanner instance, built from serialisable params inside whichever thread runs the scan. */
export interface Scanner<H extends ScanHit = ScanHit> {
  /**
   * How many bytes past a chunk's owned end the loop must also hand over so that any hit whose `pa`
   * lies in the owned range can be recognised in full (a match's span minus one, at least).
   */
  readonly overlap: number;
  /**
   * Report every hit found in `chunk`, whose first byte is at physical `chunkPa`. Report a hit only
   * when all the bytes it needs are inside `chunk` (a match cut off at the end is found by the
   * next read, which starts earlier by `overlap`). Hits outside the owned range are dropped by the
   * loop, so a scanner need not know about ownership. `chunk` is one read window of a ScanChunk
   * (chunk-loop.ts: READ_WINDOW bytes plus the overlap, or the whole chunk when smaller) in a
   * reused buffer: a hit must hold copies (slice), never views, of the bytes it keeps.
   */
  scan(chunk: Uint8Array, chunkPa: number, emit: Emit<H>): void;
}

/** What a scanner module exports. `params` come through structured clone, so validate them. */
export interface ScannerModule<H extends ScanHit = ScanHit> {
  createScanner(params: unknown): Scanner<H>;
}

/**
 * A scanner described by data so a worker_thread can build it: `kind` names a built-in (see
 * registry.ts) unless `module` is given, a file URL of a module exporting `createScanner`. `params`
 * must survive structured clone (no functions). The `H` parameter only types the hits.
 */
export interface ScannerSpec<H extends ScanHit = ScanHit> {
  readonly kind: string;
  readonly params: unknown;
  readonly module?: string;
  /** Phantom: never set; carries the hit type through scanPhysical<H>. */
  readonly __hit?: H;
}

/** One unit of work: owns [start, end), reads [start, readEnd) (readEnd - end = overlap, clipped to the run). */
export interface ScanChunk {
  readonly start: number;
  readonly end: number;
  readonly readEnd: number;
}

/**
 * What a scan yields, in the order it happens. The iterator ends normally after the last chunk (the
 * final progress event then has bytesDone === bytesTotal). Abort → the iterator THROWS a
 * MemScopeError of kind 'cancelled'. A fatal setup failure (source cannot be opened, bad scanner
 * params) → it throws that MemScopeError. A failure confined to one chunk (read error, scanner
 * exception, worker crash) → an 'error' event naming the chunk; the scan goes on.
 */
export type ScanEvent<H extends ScanHit = ScanHit> =
  | { readonly type: 'hit'; readonly hit: H }
  | { readonly type: 'progress'; readonly bytesDone: number; readonly bytesTotal: number }
  | {
    readonly type: 'error'; readonly message: string; readonly chunk?: { readonly start: number; readonly end: number };
    /** Pages of the chunk's owned range the source could not serve (scanned as zeros), when that is the error. */
    readonly unreadablePages?: number;
  };

export interface ScanOptionsBase {
  /** Bytes per unit of work and per read (multiple of 4096). Default DEFAULT_CHUNK_SIZE. */
  readonly chunkSize?: number;
  /** Extra overlap on top of the scanner's own. */
  readonly overlap?: number;
  readonly signal?: AbortSignal;
  /** Restrict the scan to these physical ranges (intersected with the source's runs). */
  readonly ranges?: readonly PhysicalRun[];
}

export interface ScanPhysicalOptions<H extends ScanHit = ScanHit> extends ScanOptionsBase {
  /** Image path; every worker opens it with openSource(path). Not needed with `pool`. */
  readonly sourcePath?: string;
  /**
   * A pool kept open across scans (one per open image / session): no worker start-up per scan.
   * Without it the scan starts workers of its own and stops them at the end.
   */
  readonly pool?: ScanPool;
  /** Passed to openSource in every worker (e.g. { format: 'raw' } for a small test image). Own pool only. */
  readonly openOptions?: OpenOptions;
  readonly scanner: ScannerSpec<H>;
  /** Worker count (at most this many on this scan); default min(os.availableParallelism(), MAX_DEFAULT_WORKERS, chunk count). */
  readonly workers?: number;
  /**
   * Scan chunks on the calling thread while no worker is ready yet (the scanner must be fast per
   * chunk and safe outside a worker, as the built-in kinds are). Off by default: measured on 2 shared cores,
   * the busy calling thread delayed worker start-up (ready at ~310 ms instead of ~120 ms) by more
   * than it scanned meanwhile; worth it only where a core is otherwise idle during start-up.
   */
  readonly mainThreadStart?: boolean;
}

export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
export const MAX_DEFAULT_WORKERS = 8;
