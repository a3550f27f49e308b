/**
 * worker_thread entry: the reader of a fed scan pool (feed.ts). It alone opens the source (the live
 * device, through the opener module the pool names) and fills each job's ring slots with whole
 * chunks, in plan order, one job's chunk after another's in turn; the scan workers scan the slots.
 * It never blocks on one job: when no job has a free slot it waits on the doorbell (asynchronously,
 * so messages still land), which workers ring as they free slots.
 *
 * A chunk whose read throws (the device disappeared, a handle closed under it) is reported as that
 * chunk's error here and its slot marked failed so its worker moves on; unreadable pages are not
 * errors: the source zero-fills them and the slot carries how many owned bytes were absent.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { MemScopeError } from '../errors.js';
import { openSourceRef } from '../sources/source-ref.js';
import { readIntoTarget, type PhysicalSource } from '../sources/physical-source.js';
import { ownedAbsentBytes } from './chunk-loop.js';
import { failedWord, SLOT_EMPTY, type FeedRing } from './feed.js';
import { CTRL_CANCEL, planChunk, type FromWorker, type ReaderInit, type ToReader } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('feed-reader.ts must run as a worker_thread');
const post = (m: FromWorker): void => port.postMessage(m);
const init = workerData as ReaderInit;
const bell = new Int32Array(init.bell);
/** How long the reader sleeps on the doorbell before looking again (a missed ring costs this much). */
const IDLE_WAIT_MS = 50;
/** Chunks filled between two turns of the event loop. */
const YIELD_EVERY = 8;
/** Atomics.waitAsync (V8, Node >= 16; not in TypeScript's ES2022 lib): wait without blocking the event loop. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

interface FedJob {
  readonly id: number;
  readonly plan: Float64Array;
  readonly chunks: number;
  readonly control: Int32Array;
  readonly ring: FeedRing;
  readonly words: Int32Array;
  readonly absent: Float64Array;
  readonly abandoned: Uint8Array;
  readonly data: Uint8Array;
  /** Next chunk to fill. */
  next: number;
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

  const readChunk = (start: number, end: number, into: Uint8Array): number => ownedAbsentBytes(readIntoTarget(src, start, into), start, end);

  /** Fill the job's next chunk if its slot is free; true when the job moved on. */
  const fillOne = (job: FedJob): boolean => {
    const k = job.next;
    if (Atomics.load(job.abandoned, k) !== 0) {
      job.next++;
      return true;
    }
    const s = k % job.ring.slots;
    if (Atomics.load(job.words, s) !== SLOT_EMPTY) return false;
    const c = planChunk(job.plan, k);
    const at = s * job.ring.slotBytes;
    try {
      job.absent[s] = readChunk(c.start, c.end, job.data.subarray(at, at + (c.readEnd - c.start)));
      Atomics.store(job.words, s, k);
    } catch (err) {
      post({ type: 'chunk-error', job: job.id, id: k, message: err instanceof Error ? err.message : String(err) });
      Atomics.store(job.words, s, failedWord(k));
    }
    Atomics.notify(job.words, s);
    // the pool gave this chunk up while it was being read (its worker died): free the slot again
    if (Atomics.load(job.abandoned, k) !== 0) {
      Atomics.compareExchange(job.words, s, k, SLOT_EMPTY);
      Atomics.compareExchange(job.words, s, failedWord(k), SLOT_EMPTY);
    }
    job.next++;
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
          if (job.next >= job.chunks || Atomics.load(job.control, CTRL_CANCEL) !== 0) {
            jobs.splice(i, 1); // filled to the end, or given up
            continue;
          }
          if (fillOne(job)) moved = true;
        }
        if (moved) {
          // let 'feed' and 'forget' messages land every few reads (a turn per 1 MiB read cost the
          // reader, the one thread every chunk waits for, a few percent)
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
      const plan = new Float64Array(m.plan);
      jobs.unshift({
        id: m.job, plan, chunks: plan.length / 3, control: new Int32Array(m.control), ring: r,
        words: new Int32Array(r.words), absent: new Float64Array(r.absent), abandoned: new Uint8Array(r.abandoned), data: new Uint8Array(r.data), next: 0,
      });
      if (!running) void run();
      return;
    }
    const i = jobs.findIndex((j) => j.id === m.job);
    if (i >= 0) jobs.splice(i, 1);
  });
  post({ type: 'ready' });
}
