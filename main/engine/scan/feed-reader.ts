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
import { failedWord, freeSlot, NO_WANT, PROGRESS_FILLED, PROGRESS_WANT, ringPiece, SLOT_EMPTY, WAKE_LEAD, type FeedRing } from './feed.js';
import { CTRL_CANCEL, CTRL_NEXT, CTRL_PAUSE, type FromWorker, type ReaderInit, type ToReader } from './protocol.js';
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

interface FedJob {
  readonly id: number;
  readonly control: Int32Array;
  readonly ring: FeedRing;
  readonly words: Int32Array;
  readonly absent: Float64Array;
  readonly abandoned: Uint8Array;
  readonly pieces: Float64Array;
  readonly pieceChunk: Int32Array;
  readonly firstPiece: Int32Array;
  readonly progress: Int32Array;
  readonly data: Uint8Array;
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

  /** Read piece `p` into `into`: the owned bytes the device could not serve, or null when the read failed (reported). */
  const readPiece = (job: FedJob, p: number, c: ScanChunk, into: Uint8Array): number | null => {
    const k = job.pieceChunk[p]!;
    try {
      return ownedAbsentBytes(readIntoTarget(src, c.start, into), c.start, c.end);
    } catch (err) {
      if (job.failedChunk !== k) post({ type: 'chunk-error', job: job.id, id: k, message: err instanceof Error ? err.message : String(err) });
      job.failedChunk = k;
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
      const c = ringPiece(job.pieces, p);
      const at = s * job.ring.slotBytes;
      const absent = readPiece(job, p, c, job.data.subarray(at, at + (c.readEnd - c.start)));
      if (absent !== null) job.absent[s] = absent;
      Atomics.store(job.words, s, absent !== null ? p : failedWord(p));
      // the pool gave this chunk up while its piece was being read (its worker died): free the slot again
      if (Atomics.load(job.abandoned, k) !== 0) {
        Atomics.compareExchange(job.words, s, p, SLOT_EMPTY);
        Atomics.compareExchange(job.words, s, failedWord(p), SLOT_EMPTY);
      }
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
    const hits: ScanHit[] = [];
    let absentBytes = 0;
    let failed = false;
    // a scanner that throws: the rest of the chunk is still taken off the ring (a piece left in its
    // slot, or a piece of this chunk filled for nobody, would stop the reader) but not scanned
    const thrown: unknown[] = [];
    const scan = (c: ScanChunk, data: Uint8Array, absent: number): void => {
      if (thrown.length > 0) return;
      try {
        const r = scanner.scanFilled(c, data, absent);
        for (const h of r.hits) hits.push(h);
        absentBytes += r.absentBytes;
      } catch (err) {
        thrown.push(err);
      }
    };
    for (let p = job.firstPiece[k]!; p < job.firstPiece[k + 1]!; p++) {
      const c = ringPiece(job.pieces, p);
      if (p < job.next) {
        const s = p % job.ring.slots;
        const at = s * job.ring.slotBytes;
        if (Atomics.load(job.words, s) === p) scan(c, job.data.subarray(at, at + (c.readEnd - c.start)), job.absent[s]!);
        else failed = true; // its read failed (reported)
        freeSlot(job.ring, job.words, bell, p);
        continue;
      }
      // p === job.next: fill order goes on past it without a slot
      if (thrown.length === 0) {
        const data = readBuffer.get(c.readEnd - c.start);
        const absent = readPiece(job, p, c, data);
        if (absent === null) failed = true;
        else scan(c, data, absent);
      }
      job.next++;
      Atomics.store(job.progress, PROGRESS_FILLED, job.next);
    }
    if (thrown.length > 0) {
      const err = thrown[0];
      if (job.failedChunk !== k) post({ type: 'chunk-error', job: job.id, id: k, message: err instanceof Error ? err.message : String(err) });
      job.failedChunk = k;
      return true;
    }
    if (!failed) post({ type: 'done', job: job.id, id: k, hits, absentBytes });
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
      const r = m.ring;
      const pieceChunk = new Int32Array(r.pieceChunk);
      const job: FedJob = {
        id: m.job, control: new Int32Array(m.control), ring: r,
        words: new Int32Array(r.words), absent: new Float64Array(r.absent), abandoned: new Uint8Array(r.abandoned),
        pieces: new Float64Array(r.pieces), pieceChunk, firstPiece: new Int32Array(r.firstPiece), progress: new Int32Array(r.progress),
        data: new Uint8Array(r.data), count: pieceChunk.length, next: 0, failedChunk: -1, scanner: null,
      };
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
