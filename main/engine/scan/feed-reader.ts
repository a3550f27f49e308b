/**
 * worker_thread entry: the reader of a fed scan pool (feed.ts). It alone opens the source (the live
 * device, through the opener module the pool names) and fills each job's ring slots with its
 * chunks' pieces, in plan order, one job's piece after another's in turn; the scan workers scan them.
 * When a job's ring is full (its workers are behind) the reader scans too: it takes the job's next
 * chunk from the cursor as a worker would, scans that chunk's pieces already in the ring, reads and
 * scans the rest itself, and reports the chunk. On two cores the reader reads about as fast as the
 * workers scan (the 4 GiB bench image: ~420 ms each), so a reader that only waited would idle
 * while the second core is short of time. When it can neither fill nor scan it waits on the
 * doorbell (asynchronously, so messages still land), which workers ring as they free slots.
 *
 * A piece whose read throws (the device disappeared, a handle closed under it) is reported as its
 * chunk's error here (once per chunk) and its slot marked failed so its worker moves on; unreadable
 * pages are not errors: the source zero-fills them and the slot carries how many owned bytes were
 * absent.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { MemScopeError } from '../errors.js';
import { openSourceRef } from '../sources/source-ref.js';
import { readIntoTarget, type PhysicalSource } from '../sources/physical-source.js';
import { ChunkScanner, ownedAbsentBytes, ReadBuffer } from './chunk-loop.js';
import { ChunkTally, failedWord, freeSlot, NO_WANT, PROGRESS_FILLED, PROGRESS_WANT, ringViews, SLOT_EMPTY, slotData, WAKE_LEAD, type RingViews } from './feed.js';
import { CTRL_CANCEL, CTRL_NEXT, CTRL_PAUSE, planChunk, type FromWorker, type ReaderInit, type ToReader } from './protocol.js';
import { loadScanner, preloadBuiltinScanners } from './registry.js';
import type { ScanChunk, ScanHit } from './types.js';

const port = parentPort;
if (!port) throw new Error('feed-reader.ts must run as a worker_thread');
const post = (m: FromWorker): void => port.postMessage(m);
const init = workerData as ReaderInit;
const bell = new Int32Array(init.bell);
/** How long the reader sleeps on the doorbell before looking again (a missed ring costs this much). */
const IDLE_WAIT_MS = 50;
/** Pieces filled between two turns of the event loop ('feed' and 'forget' are rare; a turn costs ~40 µs here). */
const YIELD_EVERY = 32;
/** Atomics.waitAsync (V8, Node >= 16; not in TypeScript's ES2022 lib): wait without blocking the event loop. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

interface FedJob extends RingViews {
  readonly id: number;
  readonly control: Int32Array;
  /** Pieces in the job. */
  readonly count: number;
  /** Next piece to fill. */
  next: number;
  /** The last chunk whose error was reported (one error per chunk, however many of its pieces fail). */
  failedChunk: number;
  /** The job's scanner, once built here (until then, or if it cannot be built, the reader only fills). */
  scanner: ChunkScanner<ScanHit> | null;
}

let source: PhysicalSource | undefined;
try {
  if (init.openerModule !== undefined) await import(init.openerModule);
  source = openSourceRef(init.ref);
} catch (err) {
  post({ type: 'init-error', kind: err instanceof MemScopeError ? err.kind : 'io', message: err instanceof Error ? err.message : String(err) });
}

if (source) {
  const src = source;
  process.once('exit', () => src.close());
  const jobs: FedJob[] = [];

  /** Wake the job's sleeping workers if the piece they want is in: now (`force`), or once WAKE_LEAD more are. */
  const wake = (job: FedJob, force: boolean): void => {
    const want = Atomics.load(job.progress, PROGRESS_WANT);
    const filled = Atomics.load(job.progress, PROGRESS_FILLED);
    if (want >= filled || (!force && filled - want < WAKE_LEAD)) return;
    Atomics.store(job.progress, PROGRESS_WANT, NO_WANT);
    Atomics.notify(job.progress, PROGRESS_FILLED);
  };

  /** Report chunk `k`'s error, once however many of its pieces fail. */
  const chunkError = (job: FedJob, k: number, err: unknown): void => {
    if (job.failedChunk !== k) post({ type: 'chunk-error', job: job.id, id: k, message: err instanceof Error ? err.message : String(err) });
    job.failedChunk = k;
  };

  /** Read piece `p` into `into`: the owned bytes the device could not serve, or null when the read failed (reported). */
  const readPiece = (job: FedJob, p: number, c: ScanChunk, into: Uint8Array): number | null => {
    try {
      return ownedAbsentBytes(readIntoTarget(src, c.start, into), c.start, c.end);
    } catch (err) {
      chunkError(job, job.pieceChunk[p]!, err);
      return null;
    }
  };

  /** Fill the job's next piece if its slot is free; true when the job moved on. */
  const fillOne = (job: FedJob): boolean => {
    const p = job.next;
    const k = job.pieceChunk[p]!;
    const s = p % job.ring.slots;
    if (Atomics.load(job.abandoned, k) === 0) {
      if (Atomics.load(job.words, s) !== SLOT_EMPTY) {
        wake(job, true); // the reader stops here: whoever waits for what is in must not wait for more
        return false;
      }
      const c = planChunk(job.pieces, p);
      const absent = readPiece(job, p, c, slotData(job, p, c));
      if (absent !== null) job.absent[s] = absent;
      Atomics.store(job.words, s, absent !== null ? p : failedWord(p));
      // the pool gave this chunk up while its piece was being read (its worker died): free the slot again
      if (Atomics.load(job.abandoned, k) !== 0) freeSlot(job.ring, job.words, bell, p);
    }
    job.next++;
    Atomics.store(job.progress, PROGRESS_FILLED, job.next);
    wake(job, job.next >= job.count);
    return true;
  };

  const readBuffer = new ReadBuffer(); // the reader's own pieces (one at a time)
  /**
   * The job's ring is full: take its next chunk as a worker would and scan it here, its pieces in
   * the ring from their slots (freeing them), the rest read straight into the reader's own buffer
   * (they are the next pieces in fill order, and nobody else waits for them). True when it took one.
   */
  const scanOne = (job: FedJob): boolean => {
    const scanner = job.scanner;
    if (!scanner || Atomics.load(job.control, CTRL_PAUSE) !== 0) return false;
    // only a chunk whose unread pieces come next in fill order (with more workers than the ring's
    // pieces cover, a worker may be waiting for a piece before it: filling that comes first)
    const k = Atomics.load(job.control, CTRL_NEXT);
    if (k >= job.firstPiece.length - 1 || job.firstPiece[k]! > job.next) return false;
    if (Atomics.compareExchange(job.control, CTRL_NEXT, k, k + 1) !== k) return false; // a worker took it first
    const tally = new ChunkTally();
    for (let p = job.firstPiece[k]!; p < job.firstPiece[k + 1]!; p++) {
      const c = planChunk(job.pieces, p);
      if (p < job.next) {
        if (Atomics.load(job.words, p % job.ring.slots) === p) tally.scan(scanner, c, slotData(job, p, c), job.absent[p % job.ring.slots]!);
        else tally.failed = true; // its read failed (reported)
        freeSlot(job.ring, job.words, bell, p);
        continue;
      }
      // p === job.next: fill order goes on past it without a slot
      if (!tally.thrown) {
        const data = readBuffer.get(c.readEnd - c.start);
        const absent = readPiece(job, p, c, data);
        if (absent === null) tally.failed = true;
        else tally.scan(scanner, c, data, absent);
      }
      job.next++;
      Atomics.store(job.progress, PROGRESS_FILLED, job.next);
    }
    if (tally.thrown) chunkError(job, k, tally.thrown.error);
    const r = tally.result();
    if (r) post({ type: 'done', job: job.id, id: k, hits: r.hits, absentBytes: r.absentBytes });
    return true;
  };

  let running = false;
  let fills = 0;
  const run = async (): Promise<void> => {
    running = true;
    try {
      while (jobs.length > 0) {
        const seen = Atomics.load(bell, 0);
        let moved = false;
        for (let i = jobs.length - 1; i >= 0; i--) {
          const job = jobs[i]!;
          if (job.next >= job.count || Atomics.load(job.control, CTRL_CANCEL) !== 0) {
            jobs.splice(i, 1); // filled to the end, or given up
            continue;
          }
          if (fillOne(job) || scanOne(job)) moved = true;
        }
        if (moved) {
          // let 'feed' and 'forget' messages land every few reads (a turn per 1 MiB read cost the
          // reader, the one thread every piece waits for, a few percent)
          if (++fills % YIELD_EVERY === 0) await nextTurn();
        } else if (jobs.length > 0) {
          const w = waitAsync(bell, 0, seen, IDLE_WAIT_MS);
          if (w.async) await w.value;
        }
      }
    } finally {
      running = false;
    }
  };

  port.on('message', (m: ToReader) => {
    if (m.type === 'feed') {
      const views = ringViews(m.ring);
      const job: FedJob = { ...views, id: m.job, control: new Int32Array(m.control), count: views.pieceChunk.length, next: 0, failedChunk: -1, scanner: null };
      jobs.unshift(job);
      // a scanner that cannot be built here only keeps the reader from scanning: the workers report it
      loadScanner(m.spec).then((sc) => (job.scanner = new ChunkScanner(null, sc)), () => undefined);
      if (!running) void run();
      return;
    }
    const i = jobs.findIndex((j) => j.id === m.job);
    if (i >= 0) jobs.splice(i, 1);
  });
  // the built-in scanner modules loaded before ready, as a worker does: the first scan's chunks that
  // the reader scans itself do not wait for a module import
  await preloadBuiltinScanners().catch(() => undefined); // a broken module is reported when a scan asks for it
  post({ type: 'ready' });
}
