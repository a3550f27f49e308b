/**
 * worker_thread entry for acquisition: opens the source reference itself (importing the live
 * opener module first, as scan workers do), runs runAcquisition — reads, SHA-256 and writes all on
 * this thread — and posts progress and the result. A shared flag cancels between chunks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MemScopeError } from '../errors.js';
import { runAcquisition, type AcquireJob } from './acquire.js';
import type { AcquireFromWorker } from './in-worker.js';

const port = parentPort;
if (!port) throw new Error('acquire-worker.ts must run as a worker_thread');
const init = workerData as { job: AcquireJob; openerModule?: string; cancel: SharedArrayBuffer };
const cancel = new Int32Array(init.cancel);
const post = (m: AcquireFromWorker): void => port.postMessage(m);
let last = 0;
try {
  if (init.openerModule !== undefined) await import(init.openerModule);
  const sidecar = await runAcquisition(init.job, {
    cancelled: () => Atomics.load(cancel, 0) !== 0,
    progress: (p) => {
      const now = Date.now();
      if (now - last >= 100 || p.bytesDone === p.bytesTotal) {
        last = now;
        post({ type: 'progress', progress: p });
      }
    },
  });
  post({ type: 'done', sidecar });
} catch (e) {
  post({ type: 'failed', kind: e instanceof MemScopeError ? e.kind : 'io', message: e instanceof Error ? e.message : String(e) });
}
