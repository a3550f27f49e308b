/**
 * worker_thread entry: reopen the image by path, build the scanner from its spec, then scan the
 * chunks the pool hands over one at a time (pull model: the pool sends the next chunk when this one
 * reports, so a slow worker never holds a queue). A failure inside one chunk is reported and the
 * worker carries on; only failing to open the source or build the scanner ends it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MemScopeError } from '../errors.js';
import { openSource } from '../sources/detect.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import { ChunkScanner } from './chunk-loop.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { loadScanner } from './registry.js';
import type { Scanner } from './types.js';

const port = parentPort;
if (!port) throw new Error('scan-worker.ts must run as a worker_thread');
const post = (m: FromWorker): void => port.postMessage(m);
const init = workerData as WorkerInit;

let source: PhysicalSource | undefined;
let scanner: Scanner | undefined;
try {
  source = openSource(init.sourcePath, init.openOptions);
  scanner = await loadScanner(init.scanner);
} catch (err) {
  source?.close();
  const kind = err instanceof MemScopeError ? err.kind : 'io';
  post({ type: 'init-error', kind, message: err instanceof Error ? err.message : String(err) });
}

if (source && scanner) {
  const src = source;
  const chunks = new ChunkScanner(src, scanner);
  // terminate() runs 'exit' handlers in the worker: close the fd, which is process-wide, not per thread
  process.once('exit', () => src.close());
  port.on('message', (m: ToWorker) => {
    try {
      const r = chunks.scan(m.chunk);
      post({ type: 'done', id: m.id, hits: r.hits, absentBytes: r.absentBytes });
    } catch (err) {
      post({ type: 'chunk-error', id: m.id, message: err instanceof Error ? err.message : String(err) });
    }
  });
  post({ type: 'ready' });
}
