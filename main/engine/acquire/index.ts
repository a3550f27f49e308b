/** Acquisition (memory → raw / ELF file, SHA-256 while writing, JSON sidecar, resumable) and the shared image writers. */
export { CHECKPOINT, checkOutput, runAcquisition, type AcquireFormat, type AcquireJob, type AcquireProgress, type AcquireSidecar } from './acquire.js';
export { acquireInWorker, type AcquireStatus } from './in-worker.js';
