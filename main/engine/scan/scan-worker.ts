/**
 * worker_thread entry: open the source (its SourceRef: an image file, or the live device through the
 * opener module the pool names) once, then serve the pool. For each job it is given,
 * build the job's scanner from its spec, then take the job's chunks itself (an atomic add on the
 * job's shared cursor, protocol.ts) and post each chunk's hits back; with several jobs, one chunk
 * of each in turn. Between chunks the event loop runs, so new jobs, resumes and forgets land. A
 * failure inside one chunk is reported and the worker carries on; failing to build a scanner fails
 * that job only; only failing to open the source ends the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MemScopeError } from '../errors.js';
import { openSourceRef } from '../sources/source-ref.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import { ChunkScanner, READ_WINDOW, ReadBuffer, type ChunkResult } from './chunk-loop.js';
import { ChunkTally, failedWord, freeSlot, PROGRESS_FILLED, PROGRESS_WANT, ringViews, slotData, type RingViews } from './feed.js';
import {
  CTRL_CANCEL, CTRL_NEXT, CTRL_PAUSE, planChunk, STATE_BUILD_JOB, STATE_SCAN_CHUNK, STATE_SCAN_JOB,
  type FromWorker, type ToWorker, type WorkerInit,
} from './protocol.js';
import { loadScanner, preloadBuiltinScanners } from './registry.js';
import { lowerThreadPriority } from './thread-priority.js';
import type { ScanHit } from './types.js';

/** Room for a scanner's overlap past a window (overlaps are small: a header, a needle, a page). */
const READ_SLACK = 64 * 1024;

const port = parentPort;
if (!port) throw new Error('scan-worker.ts must run as a worker_thread');
const post = (m: FromWorker): void => port.postMessage(m);
const init = workerData as WorkerInit;
const state = new Int32Array(init.state);
const kindOf = (err: unknown) => (err instanceof MemScopeError ? err.kind : 'io');
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

interface ActiveJob {
  readonly id: number;
  readonly scanner: ChunkScanner<ScanHit>;
  readonly plan: Float64Array;
  readonly chunks: number;
  readonly control: Int32Array;
  /** The cursor has passed the last chunk: nothing more to take. */
  exhausted: boolean;
  /** Fed pool: the ring the reader fills with this job's chunks. */
  readonly fed: RingViews | null;
}

/** How long a worker sleeps waiting for a piece before checking the job was not cancelled. */
const SLOT_WAIT_MS = 50;

// a fed pool's reader, the thread every piece waits for, keeps its CPU when it wakes a worker
if (init.feed) lowerThreadPriority();

let source: PhysicalSource | null | undefined;
try {
  // a fed pool's reader alone holds the (live) source; an image pool's worker opens the file
  source = init.feed ? null : openSourceRef(init.ref);
} catch (err) {
  post({ type: 'init-error', kind: kindOf(err), message: messageOf(err) });
}

if (source !== undefined) {
  const src = source;
  const bell = init.feed ? new Int32Array(init.feed.bell) : null;
  const jobs: ActiveJob[] = [];
  const building = new Set<number>(); // received, scanner not built yet
  const forgotten = new Set<number>(); // forgotten while its scanner was still being built
  let turn = 0;
  const buffer = new ReadBuffer(); // one read buffer for every job this worker serves
  // Fault the buffer's pages in now, so a warmed pool's first chunk reads at full speed.
  if (src) buffer.get(READ_WINDOW + READ_SLACK).fill(0);
  // terminate() runs 'exit' handlers in the worker: close the fd, which is process-wide, not per thread
  process.once('exit', () => src?.close());

  /**
   * Wait until the reader has put piece `p` in its slot: true when it is there, false when the
   * reader could not read it; null when the job was cancelled meanwhile (or the piece skipped).
   */
  const awaitPiece = (job: ActiveJob, fed: RingViews, p: number): boolean | null => {
    const s = p % fed.ring.slots;
    for (;;) {
      const w = Atomics.load(fed.words, s);
      if (w === p) return true;
      if (w === failedWord(p)) return false;
      if (Atomics.load(job.control, CTRL_CANCEL) !== 0) return null;
      const filled = Atomics.load(fed.progress, PROGRESS_FILLED);
      if (filled > p) {
        if (Atomics.load(fed.words, s) === w) return null; // passed without filling its slot: not ours to scan
        continue;
      }
      // ask to be woken when p is in (the reader does so a few pieces later, feed.ts WAKE_LEAD)
      for (let want = Atomics.load(fed.progress, PROGRESS_WANT); want > p; want = Atomics.load(fed.progress, PROGRESS_WANT)) {
        if (Atomics.compareExchange(fed.progress, PROGRESS_WANT, want, p) === want) break;
      }
      Atomics.wait(fed.progress, PROGRESS_FILLED, filled, SLOT_WAIT_MS);
    }
  };

  /**
   * A fed job's chunk: scan its pieces as the reader puts them in their slots, freeing each slot
   * once scanned. Null when there is nothing to report from here (the reader reported the chunk's
   * failure, or the job was cancelled meanwhile). A scanner that throws has the rest of the chunk's
   * pieces freed unscanned before its error is thrown: a piece left in its slot would stop the reader.
   */
  const scanFed = (job: ActiveJob, fed: RingViews, id: number): ChunkResult<ScanHit> | null => {
    const tally = new ChunkTally();
    for (let p = fed.firstPiece[id]!; p < fed.firstPiece[id + 1]!; p++) {
      const there = awaitPiece(job, fed, p);
      if (there === null) return null;
      if (!there) tally.failed = true;
      else {
        const c = planChunk(fed.pieces, p);
        tally.scan(job.scanner, c, slotData(fed, p, c), fed.absent[p % fed.ring.slots]!);
      }
      freeSlot(fed.ring, fed.words, bell!, p);
    }
    if (tally.thrown) throw tally.thrown.error;
    return tally.result();
  };

  /** The next chunk of some job, the jobs taken in turn; null when none has one to give now. */
  const take = (): { job: ActiveJob; id: number } | null => {
    for (let k = 0; k < jobs.length; k++) {
      const i = (turn + k) % jobs.length;
      const job = jobs[i]!;
      if (job.exhausted || Atomics.load(job.control, CTRL_CANCEL) !== 0) continue;
      if (Atomics.load(job.control, CTRL_PAUSE) !== 0) continue; // the pool posts 'resume'
      const id = Atomics.add(job.control, CTRL_NEXT, 1);
      if (id >= job.chunks) {
        job.exhausted = true;
        continue;
      }
      turn = i + 1;
      return { job, id };
    }
    return null;
  };

  let scheduled = false;
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(pump);
  };
  /** Scan one chunk, then yield to the event loop (messages) before the next. */
  function pump(): void {
    scheduled = false;
    const next = take();
    if (!next) return; // idle until a message brings work
    const { job, id } = next;
    state[STATE_SCAN_JOB] = job.id;
    state[STATE_SCAN_CHUNK] = id + 1;
    try {
      const r = job.fed ? scanFed(job, job.fed, id) : job.scanner.scan(planChunk(job.plan, id));
      if (r) post({ type: 'done', job: job.id, id, hits: r.hits, absentBytes: r.absentBytes });
    } catch (err) {
      post({ type: 'chunk-error', job: job.id, id, message: messageOf(err) });
    }
    state[STATE_SCAN_CHUNK] = 0;
    state[STATE_SCAN_JOB] = 0;
    schedule();
  }

  const build = async (m: Extract<ToWorker, { type: 'job' }>): Promise<void> => {
    state[STATE_BUILD_JOB] = m.job;
    try {
      const scanner = new ChunkScanner(src, await loadScanner(m.spec), buffer);
      if (forgotten.delete(m.job)) return;
      const plan = new Float64Array(m.plan);
      const fed = m.ring ? ringViews(m.ring) : null;
      jobs.push({ id: m.job, scanner, plan, chunks: plan.length / 3, control: new Int32Array(m.control), exhausted: false, fed });
      schedule();
    } catch (err) {
      if (!forgotten.delete(m.job)) post({ type: 'scanner-error', job: m.job, kind: kindOf(err), message: messageOf(err) });
    } finally {
      building.delete(m.job);
      state[STATE_BUILD_JOB] = 0;
    }
  };

  // Building a scanner is async (module import): build one at a time, in order; chunks of jobs
  // already built go on meanwhile.
  let builds: Promise<void> = Promise.resolve();
  port.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'job':
        building.add(m.job);
        builds = builds.then(() => build(m));
        return;
      case 'resume':
        schedule();
        return;
      case 'forget': {
        const i = jobs.findIndex((j) => j.id === m.job);
        if (i >= 0) jobs.splice(i, 1);
        else if (building.has(m.job)) forgotten.add(m.job);
      }
    }
  });
  // Load every built-in scanner module before reporting ready, so a warmed pool's first scan does
  // not pay for module loading.
  preloadBuiltinScanners().then(
    () => post({ type: 'ready' }),
    () => post({ type: 'ready' }), // a broken module is reported when a scan asks for it
  );
}
