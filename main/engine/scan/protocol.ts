/**
 * Messages and shared memory between the scan pool (main side, scan-pool.ts) and scan-worker.ts.
 * Messages are structured-clone safe. A worker opens the source (its SourceRef) once and serves many
 * scans ("jobs").
 *
 * Work is handed out through shared memory, not messages: a job's chunk plan and a small control
 * block live in SharedArrayBuffers every worker of the job sees, and a worker takes the next chunk
 * with one atomic add on the job's cursor. So a worker never waits for the main thread between
 * chunks (the main thread may be busy validating hits or building the kernel page map), and the
 * only per-chunk message is the result going back.
 */
import type { SourceRef } from '../sources/source-ref.js';
import type { ErrorKind } from '../errors.js';
import type { FeedRing } from './feed.js';
import type { ScanChunk, ScanHit, ScannerSpec } from './types.js';

export interface WorkerInit {
  /** The source: an image file each worker opens for itself, or a live device only the pool's reader opens (`feed`). */
  readonly ref: SourceRef;
  /** Int32 × WORKER_STATE_SLOTS the worker keeps current (what it is doing), read by the pool when it dies. */
  readonly state: SharedArrayBuffer;
  /**
   * Fed pool (a live device): the worker opens no source; every job comes with a ring the pool's
   * reader fills (feed.ts). `bell` is the reader's doorbell (Int32 × 1), rung when a slot is freed.
   */
  readonly feed?: { readonly bell: SharedArrayBuffer };
}

/** What the reader of a fed pool (feed-reader.ts) is started with. */
export interface ReaderInit {
  readonly ref: SourceRef;
  readonly openerModule?: string;
  readonly bell: SharedArrayBuffer;
}

/** Pool → reader: fill this job's ring, piece by piece in plan order (scanning chunks too when it is full); or stop filling it. */
export type ToReader =
  | { readonly type: 'feed'; readonly job: number; readonly spec: ScannerSpec; readonly control: SharedArrayBuffer; readonly ring: FeedRing }
  | { readonly type: 'forget'; readonly job: number };

/** Worker state block: job and chunk (id + 1) being scanned (0 = none), job whose scanner is being built. */
export const WORKER_STATE_SLOTS = 3;
export const STATE_SCAN_JOB = 0;
export const STATE_SCAN_CHUNK = 1;
export const STATE_BUILD_JOB = 2;

/** Job control block (Int32): next chunk to take, cancelled flag, paused flag (consumer behind). */
export const CONTROL_SLOTS = 3;
export const CTRL_NEXT = 0;
export const CTRL_CANCEL = 1;
export const CTRL_PAUSE = 2;

/** A job's chunks as Float64 triplets (start, end, readEnd), shared by every worker of the job. */
export function encodePlan(chunks: readonly ScanChunk[]): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(chunks.length * 3 * Float64Array.BYTES_PER_ELEMENT);
  const f = new Float64Array(sab);
  chunks.forEach((c, i) => f.set([c.start, c.end, c.readEnd], 3 * i));
  return sab;
}

export function planChunk(plan: Float64Array, id: number): ScanChunk {
  return { start: plan[3 * id]!, end: plan[3 * id + 1]!, readEnd: plan[3 * id + 2]! };
}

export type ToWorker =
  /** Build the job's scanner, then take the job's chunks until its cursor runs out. */
  | { readonly type: 'job'; readonly job: number; readonly spec: ScannerSpec; readonly plan: SharedArrayBuffer; readonly control: SharedArrayBuffer; readonly ring?: FeedRing }
  /** A paused job was resumed: look for work again. */
  | { readonly type: 'resume' }
  | { readonly type: 'forget'; readonly job: number };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly kind: ErrorKind; readonly message: string }
  | { readonly type: 'scanner-error'; readonly job: number; readonly kind: ErrorKind; readonly message: string }
  | { readonly type: 'done'; readonly job: number; readonly id: number; readonly hits: readonly ScanHit[]; readonly absentBytes: number }
  | { readonly type: 'chunk-error'; readonly job: number; readonly id: number; readonly message: string };
