/**
 * Acquisition off the calling thread: the worker reads, hashes and writes; this side only relays
 * progress (bytes, MB/s, time left) and cancellation. The Electron main process and the CLI's
 * progress line stay responsive whatever the disk or the device does.
 */
import { MemScopeError, type ErrorKind } from '../errors.js';
import { isLiveRef, liveOpenerModule } from '../sources/source-ref.js';
import { spawnModuleWorker } from '../scan/spawn-worker.js';
import { checkOutput, type AcquireJob, type AcquireProgress, type AcquireSidecar } from './acquire.js';

export type AcquireFromWorker =
  | { readonly type: 'progress'; readonly progress: AcquireProgress }
  | { readonly type: 'done'; readonly sidecar: AcquireSidecar }
  | { readonly type: 'failed'; readonly kind: ErrorKind; readonly message: string };

export interface AcquireStatus extends AcquireProgress {
  /** Throughput so far, MB/s (10^6 bytes). */
  readonly mbPerSecond: number;
  /** Seconds left at that rate (null until measurable). */
  readonly secondsLeft: number | null;
}

export async function acquireInWorker(job: AcquireJob, opts: { onProgress?: (s: AcquireStatus) => void; signal?: AbortSignal } = {}): Promise<AcquireSidecar> {
  checkOutput(job); // refuse before starting a thread
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const openerModule = isLiveRef(job.ref) ? liveOpenerModule() : undefined;
  const worker = spawnModuleWorker(import.meta.url, 'acquire-worker', { job, cancel: cancel.buffer, ...(openerModule ? { openerModule } : {}) });
  const onAbort = (): void => void Atomics.store(cancel, 0, 1);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  const t0 = performance.now();
  let first: number | null = null;
  try {
    return await new Promise<AcquireSidecar>((resolve, reject) => {
      let settled = false;
      worker.on('message', (m: AcquireFromWorker) => {
        if (m.type === 'progress') {
          first ??= m.progress.bytesDone;
          const secs = (performance.now() - t0) / 1000;
          const rate = secs > 0 ? (m.progress.bytesDone - first) / secs : 0;
          opts.onProgress?.({ ...m.progress, mbPerSecond: rate / 1e6, secondsLeft: rate > 0 ? (m.progress.bytesTotal - m.progress.bytesDone) / rate : null });
        } else if (m.type === 'done') { settled = true; resolve(m.sidecar); } else { settled = true; reject(new MemScopeError(m.kind, m.message)); }
      });
      worker.on('error', (e) => { if (!settled) { settled = true; reject(new MemScopeError('io', `acquisition worker failed: ${e.message}`)); } });
      worker.on('exit', (code) => { if (!settled) reject(new MemScopeError('io', `acquisition worker exited (code ${code}) before finishing`)); });
    });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}
