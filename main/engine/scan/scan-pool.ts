/**
 * ScanPool: worker_threads that serve any number of scans over one source (a SourceRef). Over an
 * image file each worker opens the file once and reads its own chunks; over a live device (WinPmem,
 * or the simulated one) one reader thread alone holds the device and fills shared-memory slots
 * that the workers scan ("fed", feed.ts: the driver serves one read at a time). Either way
 * worker start-up (an isolate plus module loading: ~110 ms idle, several hundred ms on a loaded
 * machine) is paid once per open image, not once per scan. Create one per open image / session,
 * scan through poolScan(pool) (the session hands that one function to discovery and the plugins)
 * or scanPhysical({ pool }), close() it with the source.
 * scanPhysical without a pool makes a private one for that scan and closes it at the end.
 *
 * A scan ("job") is handed to its workers once; from then on they take its chunks themselves from
 * shared memory (protocol.ts), so no worker ever waits for this thread between chunks. Measured
 * before that change (bare psscan-tag scan, 4 GiB image, 2 workers, CPU profile): each worker sat
 * idle ~100 ms of ~750 waiting for its next chunk message. Several scans may run at once: a worker
 * takes one chunk of each in turn. Each job has its own event queue, backpressure (a shared pause
 * flag), abort (a shared cancel flag) and failure.
 *
 * Main-thread start (opt-in, JobOptions.mainThreadStart): while no worker is ready yet, the
 * consuming thread takes chunks from the same cursor and scans them itself, so the scan makes
 * progress during worker start-up instead of waiting for it. Off by default (see
 * ScanPhysicalOptions.mainThreadStart).
 */
import { availableParallelism } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { MemScopeError, usageError } from '../errors.js';
import type { OpenOptions } from '../sources/detect.js';
import { describeRef, fileRef, isLiveRef, liveOpenerModule, openSourceRef, type SourceRef } from '../sources/source-ref.js';
import type { PhysicalRun, PhysicalSource } from '../sources/physical-source.js';
import { absentEvent, ChunkScanner, describeChunk, ReadBuffer } from './chunk-loop.js';
import { totalBytes } from './plan.js';
import {
  CONTROL_SLOTS, CTRL_CANCEL, CTRL_NEXT, CTRL_PAUSE, encodePlan, STATE_BUILD_JOB, STATE_SCAN_CHUNK, STATE_SCAN_JOB,
  WORKER_STATE_SLOTS, type FromWorker, type ToReader, type ToWorker,
} from './protocol.js';
import { spawnFeedReader, spawnScanWorker } from './spawn-worker.js';
import { abandonChunk, createRing, ringBell, type FeedRing } from './feed.js';
import { MAX_DEFAULT_WORKERS, type ScanChunk, type ScanEvent, type ScanHit, type Scanner, type ScannerSpec } from './types.js';

/** Hits waiting for the consumer beyond which a scan's workers take no new chunk (bounded memory). */
const HIGH_WATER = 4096;
export const MAX_WORKERS = 64;

export interface ScanPoolOptions {
  /** What every worker opens once (read-only) for itself; or, for an image file, `sourcePath`. */
  readonly ref?: SourceRef;
  /** Image path (same as ref { kind: 'file', path }), opened with openSource(path, openOptions). */
  readonly sourcePath?: string;
  readonly openOptions?: OpenOptions;
  /** Worker count; default min(os.availableParallelism(), MAX_DEFAULT_WORKERS). */
  readonly workers?: number;
  /** This thread's already-open view of the same image; the pool takes it over (closes it on close()). */
  readonly source?: PhysicalSource;
}

export function checkWorkerCount(requested: number | undefined): number {
  if (requested !== undefined && (!Number.isSafeInteger(requested) || requested < 1 || requested > MAX_WORKERS)) {
    throw usageError(`scan workers ${requested}: must be an integer in 1..${MAX_WORKERS}`);
  }
  return requested ?? Math.min(availableParallelism(), MAX_DEFAULT_WORKERS);
}

export const cancelled = (what: string, done: number, total: number): MemScopeError =>
  new MemScopeError('cancelled', `scan of ${what} cancelled after ${done} of ${total} bytes`);

interface Slot {
  readonly worker: Worker;
  /** What the worker is doing (protocol.ts WORKER_STATE_SLOTS), kept current by the worker itself. */
  readonly state: Int32Array;
  ready: boolean;
  exited: boolean;
  lastError: string | null;
}

export interface JobOptions<H extends ScanHit> {
  readonly spec: ScannerSpec<H>;
  /** The same scanner built on this thread (params validated; used for main-thread chunks). */
  readonly scanner: Scanner<H>;
  readonly chunks: readonly ScanChunk[];
  readonly signal?: AbortSignal;
  /** At most this many workers on this scan at once. */
  readonly maxWorkers?: number;
  /** Scan chunks on this thread while no worker is ready. */
  readonly mainThreadStart: boolean;
}

/** One scan's state: its chunks (shared with its workers), its event queue, its end. */
class Job<H extends ScanHit> {
  readonly events: ScanEvent<H>[] = [];
  readonly total: number;
  readonly plan: SharedArrayBuffer;
  readonly control: Int32Array;
  /** Workers this job was handed to (and not yet lost). */
  readonly workers = new Set<Slot>();
  private readonly settledChunks: Uint8Array;
  settled = 0;
  bytesDone = 0;
  fatal: MemScopeError | null = null;
  private wake: (() => void) | null = null;

  constructor(
    readonly id: number,
    readonly what: string,
    readonly opts: JobOptions<H>,
    /** Fed pool: the ring its reader fills with this job's chunks. */
    readonly ring: FeedRing | null = null,
  ) {
    this.total = totalBytes(opts.chunks);
    this.plan = encodePlan(opts.chunks);
    this.control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT));
    this.settledChunks = new Uint8Array(opts.chunks.length);
  }

  get chunks(): readonly ScanChunk[] {
    return this.opts.chunks;
  }
  /** Chunks taken so far (by workers or this thread). */
  get taken(): number {
    return Math.min(Atomics.load(this.control, CTRL_NEXT), this.chunks.length);
  }
  /** Chunks nobody has taken yet, and the job can still use them. */
  get wantsWork(): boolean {
    return this.fatal === null && this.taken < this.chunks.length;
  }
  get paused(): boolean {
    return Atomics.load(this.control, CTRL_PAUSE) !== 0;
  }
  isSettled(id: number): boolean {
    return this.settledChunks[id] === 1;
  }

  /** Take the next chunk on this thread; null when none is left. */
  takeHere(): number | null {
    const id = Atomics.add(this.control, CTRL_NEXT, 1);
    return id < this.chunks.length ? id : null;
  }
  /** Workers finish the chunk in hand and take no more. */
  stop(): void {
    Atomics.store(this.control, CTRL_CANCEL, 1);
  }
  pause(on: boolean): void {
    Atomics.store(this.control, CTRL_PAUSE, on ? 1 : 0);
  }

  notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
  waitForEvent(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }
  fail(err: MemScopeError): void {
    if (this.fatal) return;
    this.fatal = err;
    this.stop();
    this.notify();
  }
  chunkError(id: number, message: string): void {
    const c = this.chunks[id]!;
    this.events.push({ type: 'error', message: `${this.what}: ${describeChunk(c)}: ${message}`, chunk: { start: c.start, end: c.end } });
  }
  /** Owned bytes of chunk `id` the source could not serve (a live device's refused pages, counted). */
  absent(id: number, absentBytes: number, live: boolean): void {
    this.events.push(absentEvent(this.what, this.chunks[id]!, absentBytes, live));
  }
  settle(id: number): void {
    const c = this.chunks[id]!;
    this.settledChunks[id] = 1;
    this.settled++;
    this.bytesDone += c.end - c.start;
    this.events.push({ type: 'progress', bytesDone: this.bytesDone, bytesTotal: this.total });
    if (this.events.length >= HIGH_WATER) this.pause(true);
    this.notify();
  }
}

/** The reader of a fed pool (feed.ts): the one scan thread holding the live device. */
interface Reader {
  readonly worker: Worker;
  ready: boolean;
  exited: boolean;
  lastError: string | null;
}

export class ScanPool {
  /** What to call the source in messages (the image path for a file). */
  readonly sourcePath: string;
  readonly ref: SourceRef;
  /** Threads that scan: workers, or for a fed pool its reader (which scans while its ring is full) and size - 1 workers. */
  readonly size: number;
  /** Scan workers to keep running. */
  private readonly workerCount: number;
  /**
   * A live device: one reader thread reads every chunk into shared memory and the workers scan it
   * (feed.ts); an image file: each worker reads the file itself.
   */
  readonly fed: boolean;
  private reader: Reader | null = null;
  /** The reader's doorbell (feed.ts), shared with every worker of a fed pool. */
  private readonly bell = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  private readonly slots: Slot[] = [];
  private readonly jobs: Job<ScanHit>[] = [];
  private nextJobId = 1;
  private respawnsLeft: number;
  private closed = false;
  /** Set once the pool cannot work at all (image not openable in a worker, worker cannot start). */
  private broken: MemScopeError | null = null;
  private source: PhysicalSource | null = null;
  private readonly mainBuffer = new ReadBuffer();
  private readonly readyWaiters: (() => void)[] = [];

  constructor(opts: ScanPoolOptions) {
    const ref = opts.ref ?? (opts.sourcePath !== undefined ? fileRef(opts.sourcePath, opts.openOptions?.format) : undefined);
    if (!ref) throw usageError('ScanPool: give a source reference or an image path');
    this.ref = ref;
    this.sourcePath = describeRef(ref);
    this.size = checkWorkerCount(opts.workers);
    this.fed = isLiveRef(ref);
    // measured on 2 vCPUs (4 GiB bench image): reader + 1 worker scanned in 0.99-1.20 × the image
    // psscan's time, reader + 2 workers in 1.18-1.26 × (three busy threads on two cores)
    this.workerCount = this.fed ? Math.max(1, this.size - 1) : this.size;
    this.respawnsLeft = this.size + 2;
    this.source = opts.source ?? null;
  }

  /** This thread's own view of the image (runs for planning; chunks scanned here at start). */
  mainSource(): PhysicalSource {
    if (this.closed) throw new MemScopeError('usage', `scan pool for ${this.sourcePath} is closed`);
    this.source ??= openSourceRef(this.ref);
    return this.source;
  }

  runs(): readonly PhysicalRun[] {
    return this.mainSource().runs();
  }

  /**
   * Start every worker now (e.g. while discovery runs) instead of at the first scan. Resolves when
   * each is ready to scan, or when the pool cannot start (the next scan then throws why); never rejects.
   */
  warm(): Promise<void> {
    if (this.closed || this.broken) return Promise.resolve();
    this.fill();
    if (this.allReady()) return Promise.resolve();
    const ready = new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    this.updateRef(); // someone awaits the workers: they must keep the process alive meanwhile
    return ready;
  }

  private allReady(): boolean {
    const live = this.slots.filter((s) => !s.exited);
    return live.length > 0 && live.every((s) => s.ready) && (!this.fed || this.reader?.ready === true);
  }

  private wakeReadyWaiters(): void {
    for (const w of this.readyWaiters.splice(0)) w();
    this.updateRef();
  }

  /** Workers started and not exited. */
  get liveWorkers(): number {
    return this.slots.filter((s) => !s.exited).length;
  }

  /** Terminate every worker, wait until each has exited, close this thread's source. Idempotent. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.wakeReadyWaiters();
      for (const j of this.jobs) j.fail(new MemScopeError('cancelled', `scan of ${j.what} stopped: the scan pool was closed`));
    }
    const reader = this.reader && !this.reader.exited ? [this.reader.worker.terminate()] : [];
    await Promise.all([...this.slots.filter((s) => !s.exited).map((s) => s.worker.terminate()), ...reader]);
    this.source?.close();
    this.source = null;
  }

  /** Run one scan on the pool; events as documented on ScanEvent. */
  async *scan<H extends ScanHit>(opts: JobOptions<H>): AsyncGenerator<ScanEvent<H>, void, undefined> {
    const what = this.sourcePath;
    if (opts.signal?.aborted) throw cancelled(what, 0, 0);
    if (this.closed) throw new MemScopeError('usage', `scan pool for ${what} is closed`);
    if (this.broken) throw this.broken;
    const job = new Job<H>(this.nextJobId++, what, opts, this.fed ? createRing(opts.chunks, opts.scanner.overlap) : null);
    const anyJob = job as unknown as Job<ScanHit>;
    const onAbort = (): void => job.fail(cancelled(what, job.bytesDone, job.total));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    this.jobs.push(anyJob);
    if (this.jobs.length === 1) this.updateRef();
    let local: ChunkScanner<H> | null = null;
    try {
      this.fill();
      if (job.ring) this.feed(anyJob, job.ring);
      for (const s of this.slots) this.hand(s, anyJob);
      for (;;) {
        if (job.fatal) throw job.fatal;
        const ev = job.events.shift();
        if (ev) {
          if (job.paused && job.events.length <= HIGH_WATER / 2) this.resume(anyJob); // drained enough
          yield ev;
          continue;
        }
        if (job.settled === job.chunks.length) return;
        // (not on a fed pool: its reader fills every chunk in order, for a worker to free)
        if (opts.mainThreadStart && !this.fed && job.wantsWork && !this.slots.some((s) => s.ready && !s.exited)) {
          local ??= new ChunkScanner(this.mainSource(), opts.scanner, this.mainBuffer);
          this.scanHere(job, local);
          await nextTurn(); // let worker messages (ready, results) and an abort land
          continue;
        }
        await job.waitForEvent();
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      this.jobs.splice(this.jobs.indexOf(anyJob), 1);
      if (this.jobs.length === 0) this.updateRef();
      if (!job.fatal && job.settled < job.chunks.length) job.fatal = cancelled(what, job.bytesDone, job.total); // consumer left early
      job.stop();
      for (const s of job.workers) if (!s.exited) this.post(s, { type: 'forget', job: job.id });
      if (job.ring && this.reader && !this.reader.exited) this.toReader({ type: 'forget', job: job.id });
    }
  }

  /** Hand a fed job to the reader: it fills the job's ring, piece by piece in plan order, from now on. */
  private feed(job: Job<ScanHit>, ring: FeedRing): void {
    if (!this.reader || this.reader.exited) return; // fill() could not start one: the pool is broken
    this.toReader({ type: 'feed', job: job.id, spec: job.opts.spec, control: job.control.buffer as SharedArrayBuffer, ring });
    ringBell(this.bell);
  }

  private toReader(m: ToReader): void {
    this.reader?.worker.postMessage(m);
  }

  private scanHere<H extends ScanHit>(job: Job<H>, local: ChunkScanner<H>): void {
    const id = job.takeHere();
    if (id === null) return;
    try {
      const r = local.scan(job.chunks[id]!);
      if (r.absentBytes > 0) job.absent(id, r.absentBytes, this.fed);
      for (const hit of r.hits) job.events.push({ type: 'hit', hit });
    } catch (err) {
      job.chunkError(id, err instanceof Error ? err.message : String(err));
    }
    job.settle(id);
  }

  private post(slot: Slot, m: ToWorker): void {
    slot.worker.postMessage(m);
  }

  /** Hand a job to a ready worker that does not have it yet, within the job's worker limit. */
  private hand(slot: Slot, job: Job<ScanHit>): void {
    if (!slot.ready || slot.exited || job.workers.has(slot) || !job.wantsWork) return;
    if (job.workers.size >= (job.opts.maxWorkers ?? Infinity)) return;
    job.workers.add(slot);
    this.post(slot, { type: 'job', job: job.id, spec: job.opts.spec, plan: job.plan, control: job.control.buffer as SharedArrayBuffer, ...(job.ring ? { ring: job.ring } : {}) });
  }

  private resume(job: Job<ScanHit>): void {
    job.pause(false);
    for (const s of job.workers) if (!s.exited) this.post(s, { type: 'resume' });
  }

  /** Start workers up to the pool size (lazily: at the first scan or warm()), and a fed pool's reader. */
  private fill(): void {
    if (this.fed && !this.reader && !this.closed && !this.broken) this.startReader();
    while (!this.closed && !this.broken && this.slots.filter((s) => !s.exited).length < this.workerCount) {
      if (this.slots.length >= this.workerCount) {
        if (this.respawnsLeft <= 0) break;
        this.respawnsLeft--;
      }
      this.start();
    }
  }

  private startReader(): void {
    const openerModule = liveOpenerModule();
    const worker = spawnFeedReader({ ref: this.ref, ...(openerModule !== undefined ? { openerModule } : {}), bell: this.bell.buffer as SharedArrayBuffer });
    const reader: Reader = { worker, ready: false, exited: false, lastError: null };
    this.reader = reader;
    worker.on('message', (m: FromWorker) => this.onReaderMessage(reader, m));
    worker.on('error', (e: Error) => (reader.lastError = e.message));
    worker.on('exit', (code: number) => {
      reader.exited = true;
      if (!this.closed) this.breakPool(new MemScopeError('io', `${this.sourcePath}: the reader of the device stopped (${reader.lastError ?? `exit code ${code}`})`));
    });
    if (!this.busy()) worker.unref();
  }

  private onReaderMessage(reader: Reader, m: FromWorker): void {
    if (this.closed) return;
    if (m.type === 'ready') {
      reader.ready = true;
      if (this.allReady()) this.wakeReadyWaiters();
    } else if (m.type === 'init-error') this.breakPool(new MemScopeError(m.kind, m.message));
    else if (m.type === 'chunk-error' || m.type === 'done') this.onMessage(null, m);
  }

  private start(): void {
    const state = new SharedArrayBuffer(WORKER_STATE_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    // a fed pool's workers open nothing (its reader holds the device); an image pool's open the file
    const feed = this.fed ? { feed: { bell: this.bell.buffer as SharedArrayBuffer } } : {};
    const worker = spawnScanWorker({ ref: this.ref, state, ...feed });
    const slot: Slot = { worker, state: new Int32Array(state), ready: false, exited: false, lastError: null };
    this.slots.push(slot);
    worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
    worker.on('error', (e: Error) => (slot.lastError = e.message));
    worker.on('messageerror', (e: Error) => (slot.lastError = `unreadable message: ${e.message}`));
    worker.on('exit', (code: number) => this.onExit(slot, code));
    if (!this.busy()) worker.unref();
  }

  private busy(): boolean {
    return this.jobs.length > 0 || this.readyWaiters.length > 0;
  }

  /** Workers keep the process alive only while a scan runs or warm() is awaited: an idle open pool never holds up exit. */
  private updateRef(): void {
    const on = this.busy();
    for (const s of this.slots) if (!s.exited) (on ? s.worker.ref() : s.worker.unref());
    if (this.reader && !this.reader.exited) (on ? this.reader.worker.ref() : this.reader.worker.unref());
  }

  /** The job a message is about, if it is still running (a finished job's late results are dropped). */
  private liveJob(id: number): Job<ScanHit> | null {
    const j = this.jobs.find((x) => x.id === id);
    return j && !j.fatal ? j : null;
  }

  /** A worker's message (slot), or a chunk error from a fed pool's reader (null). */
  private onMessage(slot: Slot | null, m: FromWorker): void {
    if (this.closed) return;
    switch (m.type) {
      case 'ready':
        if (!slot) return;
        slot.ready = true;
        if (this.allReady()) this.wakeReadyWaiters();
        for (const j of this.jobs) this.hand(slot, j);
        return;
      case 'init-error':
        this.breakPool(new MemScopeError(m.kind, m.message));
        return;
      case 'scanner-error':
        this.liveJob(m.job)?.fail(new MemScopeError(m.kind, m.message));
        return;
      case 'done': {
        const job = this.liveJob(m.job);
        if (!job || job.isSettled(m.id)) return;
        if (m.absentBytes > 0) job.absent(m.id, m.absentBytes, this.fed);
        for (const hit of m.hits) job.events.push({ type: 'hit', hit });
        job.settle(m.id);
        return;
      }
      case 'chunk-error': {
        const job = this.liveJob(m.job);
        if (!job || job.isSettled(m.id)) return;
        job.chunkError(m.id, m.message);
        job.settle(m.id);
      }
    }
  }

  private onExit(slot: Slot, code: number): void {
    slot.exited = true;
    for (const j of this.jobs) j.workers.delete(slot);
    if (this.closed) return;
    const reason = slot.lastError ?? `exit code ${code}`;
    if (!slot.ready) {
      // Died before it could scan anything (cannot load its module, tsx missing…): every worker would.
      this.breakPool(new MemScopeError('io', `${this.sourcePath}: scan worker failed to start: ${reason}`));
      return;
    }
    // What it was doing when it died, as it last wrote it (a chunk whose result arrived is settled already).
    const scanJob = this.liveJob(slot.state[STATE_SCAN_JOB]!);
    const chunk = slot.state[STATE_SCAN_CHUNK]! - 1;
    if (scanJob && chunk >= 0) {
      if (scanJob.ring) {
        // the reader must not wait for this chunk's slots forever: give the chunk up and free them
        abandonChunk(scanJob.ring, this.bell, chunk);
      }
      if (!scanJob.isSettled(chunk)) {
        scanJob.chunkError(chunk, `scan worker crashed: ${reason}`);
        scanJob.settle(chunk);
      }
    } else {
      // died while building a job's scanner: the scanner cannot start in a worker
      this.liveJob(slot.state[STATE_BUILD_JOB]!)?.fail(new MemScopeError('io', `${this.sourcePath}: scan worker failed to start: ${reason}`));
    }
    if (this.jobs.some((j) => j.wantsWork)) this.fill(); // the new worker gets the jobs when ready
    if (this.slots.every((s) => s.exited)) {
      for (const j of this.jobs) {
        if (j.wantsWork) {
          j.fail(new MemScopeError('analysis', `${this.sourcePath}: scan workers keep crashing (last: ${reason}); ${j.chunks.length - j.taken} chunks not scanned`));
        }
      }
    }
  }

  private breakPool(err: MemScopeError): void {
    if (this.broken) return;
    this.broken = err;
    this.wakeReadyWaiters();
    for (const j of this.jobs) j.fail(err);
    for (const s of this.slots) if (!s.exited) void s.worker.terminate();
    if (this.reader && !this.reader.exited) void this.reader.worker.terminate();
  }
}
