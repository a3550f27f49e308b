/**
 * worker_thread entry: open the image by path once, then serve the pool: build a job's scanner from
 * its spec when asked, scan that job's chunks one at a time (pull model: the pool sends the next
 * chunk when this one reports, so a slow worker never holds a queue), drop the scanner when the job
 * ends. A failure inside one chunk is reported and the worker carries on; failing to build a
 * scanner fails that job only; only failing to open the source ends the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MemScopeError } from '../errors.js';
import { openSource } from '../sources/detect.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import { ChunkScanner, ReadBuffer } from './chunk-loop.js';
import { DEFAULT_CHUNK_SIZE } from './types.js';

/** Room for a scanner's overlap past the chunk (overlaps are small: a header, a needle). */
const READ_SLACK = 64 * 1024;
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { loadScanner, preloadBuiltinScanners } from './registry.js';
import type { ScanHit } from './types.js';

const port = parentPort;
if (!port) throw new Error('scan-worker.ts must run as a worker_thread');
const post = (m: FromWorker): void => port.postMessage(m);
const init = workerData as WorkerInit;
const kindOf = (err: unknown) => (err instanceof MemScopeError ? err.kind : 'io');
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

let source: PhysicalSource | undefined;
try {
  source = openSource(init.sourcePath, init.openOptions);
} catch (err) {
  post({ type: 'init-error', kind: kindOf(err), message: messageOf(err) });
}

if (source) {
  const src = source;
  const jobs = new Map<number, ChunkScanner<ScanHit>>();
  const buffer = new ReadBuffer(); // one read buffer for every job this worker serves
  // Fault the buffer's pages in now (a fresh 8 MiB allocation costs tens of ms of page faults on
  // first touch), so a warmed pool's first chunk reads at full speed.
  buffer.get(DEFAULT_CHUNK_SIZE + READ_SLACK).fill(0);
  // terminate() runs 'exit' handlers in the worker: close the fd, which is process-wide, not per thread
  process.once('exit', () => src.close());
  const handle = async (m: ToWorker): Promise<void> => {
    switch (m.type) {
      case 'scanner':
        try {
          jobs.set(m.job, new ChunkScanner(src, await loadScanner(m.spec), buffer));
          post({ type: 'scanner-ready', job: m.job });
        } catch (err) {
          post({ type: 'scanner-error', job: m.job, kind: kindOf(err), message: messageOf(err) });
        }
        return;
      case 'forget':
        jobs.delete(m.job);
        return;
      case 'chunk': {
        const scanner = jobs.get(m.job);
        try {
          if (!scanner) throw new Error(`no scanner built for scan ${m.job}`);
          const r = scanner.scan(m.chunk);
          post({ type: 'done', job: m.job, id: m.id, hits: r.hits, absentBytes: r.absentBytes });
        } catch (err) {
          post({ type: 'chunk-error', job: m.job, id: m.id, message: messageOf(err) });
        }
      }
    }
  };
  // Building a scanner is async (module import): handle messages strictly in order.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (m: ToWorker) => {
    queue = queue.then(() => handle(m));
  });
  // Load every built-in scanner module before reporting ready, so a warmed pool's first scan does
  // not pay for module loading.
  preloadBuiltinScanners().then(
    () => post({ type: 'ready' }),
    () => post({ type: 'ready' }), // a broken module is reported when a scan asks for it
  );
}
