/**
 * The generic scan loop: a scanner (what a hit looks like) run over a source's physical runs, cut
 * into overlapping chunks (plan.ts), each chunk keeping only the hits it owns (chunk-loop.ts).
 *
 *  - scanPhysical: parallel, over worker_threads that each reopen the image by path. Chunks are
 *    pulled one at a time by idle workers; hits stream back per chunk as found.
 *  - scanSource: the same events from one thread, over an already-open source (in-memory sources,
 *    small scans, tests).
 *
 * Event and ending semantics are documented on ScanEvent (types.ts): normal end after the final
 * progress event; abort → throws MemScopeError('cancelled'); setup failure → throws; one chunk's
 * failure (including a worker crash) → an 'error' event and the scan goes on. Leaving the loop
 * early (break) or aborting terminates every worker before the iterator settles.
 */
import { availableParallelism } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { MemScopeError, usageError } from '../errors.js';
import { openSource } from '../sources/detect.js';
import type { PhysicalRun, PhysicalSource } from '../sources/physical-source.js';
import { absentMessage, ChunkScanner, describeChunk } from './chunk-loop.js';
import { intersectRuns, coalesceRuns, planChunks, totalBytes } from './plan.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { loadScanner } from './registry.js';
import { spawnScanWorker } from './spawn-worker.js';
import {
  DEFAULT_CHUNK_SIZE,
  MAX_DEFAULT_WORKERS,
  type ScanChunk,
  type ScanEvent,
  type ScanHit,
  type Scanner,
  type ScannerSpec,
  type ScanOptionsBase,
  type ScanPhysicalOptions,
} from './types.js';

/** Hits waiting for the consumer beyond which idle workers get no new chunk (bounded memory). */
const HIGH_WATER = 4096;
const MAX_WORKERS = 64;

const cancelled = (what: string, done: number, total: number): MemScopeError =>
  new MemScopeError('cancelled', `scan of ${what} cancelled after ${done} of ${total} bytes`);

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
      if (r.absentBytes > 0) yield { type: 'error', message: `${source.name}: ${describeChunk(chunk)}: ${absentMessage(r.absentBytes)}`, chunk: where };
    } catch (err) {
      yield { type: 'error', message: `${source.name}: ${describeChunk(chunk)}: ${(err as Error).message}`, chunk: where };
    }
    for (const hit of hits) yield { type: 'hit', hit };
    done += chunk.end - chunk.start;
    yield { type: 'progress', bytesDone: done, bytesTotal: total };
    await nextTurn(); // let an abort (timer, UI) land between chunks
  }
}

function workerCount(requested: number | undefined, chunks: number): number {
  if (requested !== undefined && (!Number.isSafeInteger(requested) || requested < 1 || requested > MAX_WORKERS)) {
    throw usageError(`scan workers ${requested}: must be an integer in 1..${MAX_WORKERS}`);
  }
  const want = requested ?? Math.min(availableParallelism(), MAX_DEFAULT_WORKERS);
  return Math.min(want, chunks);
}

/** Parallel scan of the image at opts.sourcePath. */
export async function* scanPhysical<H extends ScanHit>(opts: ScanPhysicalOptions<H>): AsyncGenerator<ScanEvent<H>, void, undefined> {
  const what = opts.sourcePath;
  if (opts.signal?.aborted) throw cancelled(what, 0, 0);
  const scanner = await loadScanner(opts.scanner); // validates params here, not in N workers
  const openOptions = opts.openOptions ?? {};
  const source = openSource(opts.sourcePath, openOptions);
  let runs: readonly PhysicalRun[];
  try {
    runs = source.runs();
  } finally {
    source.close();
  }
  const chunks = plan(what, runs, opts, scanner.overlap);
  const pool = new ScanPool<H>(what, chunks, workerCount(opts.workers, chunks.length), () =>
    spawnScanWorker({ sourcePath: opts.sourcePath, openOptions, scanner: opts.scanner }),
  opts.signal);
  try {
    for (;;) {
      const ev = await pool.next();
      if (ev === null) return;
      yield ev;
    }
  } finally {
    await pool.shutdown();
  }
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  /** Chunk id in flight, or -1. */
  chunk: number;
  exited: boolean;
  lastError: string | null;
}

/** Worker lifecycle, chunk dispatch and the event queue behind scanPhysical. */
class ScanPool<H extends ScanHit> {
  private readonly events: ScanEvent<H>[] = [];
  private readonly slots: Slot[] = [];
  private readonly parked: Slot[] = [];
  private readonly total: number;
  private nextChunk = 0;
  private settled = 0;
  private bytesDone = 0;
  private respawnsLeft: number;
  private fatal: MemScopeError | null = null;
  private closing = false;
  private wake: (() => void) | null = null;
  private readonly onAbort = (): void => this.fail(cancelled(this.what, this.bytesDone, this.total));

  constructor(
    private readonly what: string,
    private readonly chunks: readonly ScanChunk[],
    workers: number,
    private readonly spawn: () => Worker,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.total = totalBytes(chunks);
    this.respawnsLeft = workers + 2;
    signal?.addEventListener('abort', this.onAbort, { once: true });
    for (let i = 0; i < workers; i++) this.start();
  }

  /** The next event; null when every chunk is accounted for; throws on abort or fatal failure. */
  async next(): Promise<ScanEvent<H> | null> {
    for (;;) {
      if (this.fatal) throw this.fatal;
      const ev = this.events.shift();
      if (ev) {
        if (this.parked.length > 0 && this.events.length < HIGH_WATER / 2) {
          for (const s of this.parked.splice(0)) this.dispatch(s);
        }
        return ev;
      }
      if (this.settled === this.chunks.length) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Terminate every worker and wait until each has exited (fds closed by their exit handlers). */
  async shutdown(): Promise<void> {
    this.closing = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    await Promise.all(this.slots.filter((s) => !s.exited).map((s) => s.worker.terminate()));
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private fail(err: MemScopeError): void {
    if (this.fatal) return;
    this.fatal = err;
    // Stop work now rather than when the consumer gets round to shutdown().
    for (const s of this.slots) if (!s.exited) void s.worker.terminate();
    this.closing = true;
    this.notify();
  }

  private start(): void {
    const worker = this.spawn();
    const slot: Slot = { worker, ready: false, chunk: -1, exited: false, lastError: null };
    this.slots.push(slot);
    worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
    worker.on('error', (e: Error) => (slot.lastError = e.message));
    worker.on('messageerror', (e: Error) => (slot.lastError = `unreadable message: ${e.message}`));
    worker.on('exit', (code: number) => this.onExit(slot, code));
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (this.closing) return;
    switch (m.type) {
      case 'ready':
        slot.ready = true;
        this.dispatch(slot);
        return;
      case 'init-error':
        this.fail(new MemScopeError(m.kind, m.message));
        return;
      case 'done': {
        const id = slot.chunk;
        slot.chunk = -1;
        if (m.absentBytes > 0) this.pushChunkError(id, absentMessage(m.absentBytes));
        for (const hit of m.hits) this.events.push({ type: 'hit', hit: hit as H });
        this.settle(id);
        this.dispatch(slot);
        return;
      }
      case 'chunk-error': {
        const id = slot.chunk;
        slot.chunk = -1;
        this.pushChunkError(id, m.message);
        this.settle(id);
        this.dispatch(slot);
        return;
      }
    }
  }

  private onExit(slot: Slot, code: number): void {
    slot.exited = true;
    if (this.closing) return;
    const reason = slot.lastError ?? `exit code ${code}`;
    if (!slot.ready) {
      // Died before it could scan anything (cannot load its module, tsx missing…): every worker would.
      this.fail(new MemScopeError('io', `${this.what}: scan worker failed to start: ${reason}`));
      return;
    }
    if (slot.chunk >= 0) {
      const id = slot.chunk;
      slot.chunk = -1;
      this.pushChunkError(id, `scan worker crashed: ${reason}`);
      this.settle(id);
    }
    if (this.nextChunk < this.chunks.length) {
      if (this.respawnsLeft-- > 0) this.start();
      else if (this.slots.every((s) => s.exited)) {
        this.fail(new MemScopeError('analysis', `${this.what}: scan workers keep crashing (last: ${reason}); ${this.chunks.length - this.nextChunk} chunks not scanned`));
      }
    }
    this.notify();
  }

  private pushChunkError(id: number, message: string): void {
    const c = this.chunks[id]!;
    this.events.push({ type: 'error', message: `${this.what}: ${describeChunk(c)}: ${message}`, chunk: { start: c.start, end: c.end } });
  }

  private settle(id: number): void {
    const c = this.chunks[id]!;
    this.settled++;
    this.bytesDone += c.end - c.start;
    this.events.push({ type: 'progress', bytesDone: this.bytesDone, bytesTotal: this.total });
    this.notify();
  }

  private dispatch(slot: Slot): void {
    if (this.closing || slot.exited || !slot.ready || slot.chunk >= 0) return;
    if (this.nextChunk >= this.chunks.length) return;
    if (this.events.length >= HIGH_WATER) {
      this.parked.push(slot);
      return;
    }
    const id = this.nextChunk++;
    slot.chunk = id;
    const msg: ToWorker = { type: 'chunk', id, chunk: this.chunks[id]! };
    slot.worker.postMessage(msg);
  }
}
