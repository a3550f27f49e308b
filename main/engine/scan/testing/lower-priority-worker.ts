/** Test-only worker: lowers its own thread's priority as a fed scan worker does, says so, and stays alive until terminated. */
import { parentPort } from 'node:worker_threads';
import { lowerThreadPriority } from '../thread-priority.js';

parentPort?.postMessage(lowerThreadPriority());
setInterval(() => undefined, 60_000);
