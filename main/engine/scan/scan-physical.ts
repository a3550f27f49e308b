/**
 * The generic scan loop: a scanner (what a hit looks like) run over a source's physical runs, cut
 * into overlapping chunks (plan.ts), each chunk keeping only the hits it owns (chunk-loop.ts).
 *
 *  - scanPhysical: parallel, over worker_threads that each open the image by path (a ScanPool:
 *    the caller's, kept open across scans, or one made for this scan). Chunks are pulled one at a
 *    time by idle workers; hits stream back per chunk as found.
 *  - scanSource: the same events from one thread, over an already-open source (in-memory sources,
 *    small scans, tests).
 *
 * Event and ending semantics are documented on ScanEvent (types.ts): normal end after the final
 * progress event; abort → throws MemScopeError('cancelled'); setup failure → throws; one chunk's
 * failure (including a worker crash) → an 'error' event and the scan goes on. Leaving the loop
 * early (break) or aborting terminates every worker of a scan's own pool before the iterator
 * settles; a shared pool's workers finish the chunk in hand and wait for the next scan.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { usageError } from '../errors.js';
import { openSource } from '../sources/detect.js';
import type { PhysicalRun, PhysicalSource } from '../sources/physical-source.js';
import { absentEvent, ChunkScanner, describeChunk } from './chunk-loop.js';
import { intersectRuns, coalesceRuns, planChunks, totalBytes } from './plan.js';
import { loadScanner } from './registry.js';
import { cancelled, checkWorkerCount, ScanPool } from './scan-pool.js';
import {
  DEFAULT_CHUNK_SIZE,
  type ScanChunk,
  type ScanEvent,
  type ScanHit,
  type Scanner,
  type ScannerSpec,
  type ScanOptionsBase,
  type ScanPhysicalOptions,
} from './types.js';

function plan(what: string, runs: readonly PhysicalRun[], opts: ScanOptionsBase, scannerOverlap: number): ScanChunk[] {
  const overlap = Math.max(scannerOverlap, opts.overlap ?? 0);
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const selected = opts.ranges ? intersectRuns(runs, opts.ranges, what) : coalesceRuns(runs);
  return planChunks(selected, chunkSize, overlap);
}

/** Single-thread scan of an open source (the caller keeps ownership: it is not closed). */
export async function* scanSource<H extends ScanHit>(
  source: PhysicalSource,
  scanner: ScannerSpec<H> | Scanner<H>,
  opts: ScanOptionsBase = {},
): AsyncGenerator<ScanEvent<H>, void, undefined> {
  const signal = opts.signal;
  if (signal?.aborted) throw cancelled(source.name, 0, 0);
  const sc = 'scan' in scanner ? scanner : await loadScanner(scanner);
  const chunks = plan(source.name, source.runs(), opts, sc.overlap);
  const total = totalBytes(chunks);
  const reader = new ChunkScanner(source, sc);
  let done = 0;
  for (const chunk of chunks) {
    if (signal?.aborted) throw cancelled(source.name, done, total);
    const where = { start: chunk.start, end: chunk.end };
    let hits: H[] = [];
    try {
      const r = reader.scan(chunk);
      hits = r.hits;
      if (r.absentBytes > 0) yield absentEvent(source.name, chunk, r.absentBytes, source.kind === 'winpmem');
    } catch (err) {
      yield { type: 'error', message: `${source.name}: ${describeChunk(chunk)}: ${(err as Error).message}`, chunk: where };
    }
    for (const hit of hits) yield { type: 'hit', hit };
    done += chunk.end - chunk.start;
    yield { type: 'progress', bytesDone: done, bytesTotal: total };
    await nextTurn(); // let an abort (timer, UI) land between chunks
  }
}

/** Parallel scan on worker threads: on `opts.pool` (kept open), or on a pool of its own for this scan. */
export async function* scanPhysical<H extends ScanHit>(opts: ScanPhysicalOptions<H>): AsyncGenerator<ScanEvent<H>, void, undefined> {
  const what = opts.pool?.sourcePath ?? opts.sourcePath;
  if (what === undefined) throw usageError('scanPhysical: give a sourcePath or a pool');
  if (opts.pool && opts.sourcePath !== undefined && opts.sourcePath !== opts.pool.sourcePath) {
    throw usageError(`scanPhysical: sourcePath ${opts.sourcePath} is not the pool's image ${opts.pool.sourcePath}`);
  }
  if (opts.signal?.aborted) throw cancelled(what, 0, 0);
  const scanner = await loadScanner(opts.scanner); // validates params here, not in N workers
  const requested = opts.workers === undefined ? undefined : checkWorkerCount(opts.workers);
  let pool: ScanPool;
  let chunks: ScanChunk[];
  if (opts.pool) {
    pool = opts.pool;
    chunks = plan(what, pool.runs(), opts, scanner.overlap);
  } else {
    const source = openSource(what, opts.openOptions ?? {}); // a missing or unreadable image fails here, before any worker
    try {
      chunks = plan(what, source.runs(), opts, scanner.overlap);
    } catch (e) {
      source.close();
      throw e;
    }
    const workers = Math.max(1, Math.min(requested ?? checkWorkerCount(undefined), chunks.length));
    pool = new ScanPool({ sourcePath: what, openOptions: opts.openOptions, workers, source });
  }
  const own = opts.pool === undefined;
  try {
    if (chunks.length === 0) return;
    yield* pool.scan({
      spec: opts.scanner,
      scanner,
      chunks,
      signal: opts.signal,
      maxWorkers: requested,
      mainThreadStart: opts.mainThreadStart ?? false,
    });
  } finally {
    if (own) await pool.close();
  }
}
