/**
 * Messages between the scan pool (main side, scan-pool.ts) and scan-worker.ts. All structured-clone
 * safe. A worker opens the image once and serves many scans ("jobs"): it builds a job's scanner when
 * told (`scanner`), scans that job's chunks one at a time, and drops the scanner on `forget`.
 */
import type { OpenOptions } from '../sources/detect.js';
import type { ErrorKind } from '../errors.js';
import type { ScanChunk, ScanHit, ScannerSpec } from './types.js';

export interface WorkerInit {
  readonly sourcePath: string;
  readonly openOptions: OpenOptions;
}

export type ToWorker =
  | { readonly type: 'scanner'; readonly job: number; readonly spec: ScannerSpec }
  | { readonly type: 'chunk'; readonly job: number; readonly id: number; readonly chunk: ScanChunk }
  | { readonly type: 'forget'; readonly job: number };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly kind: ErrorKind; readonly message: string }
  | { readonly type: 'scanner-ready'; readonly job: number }
  | { readonly type: 'scanner-error'; readonly job: number; readonly kind: ErrorKind; readonly message: string }
  | { readonly type: 'done'; readonly job: number; readonly id: number; readonly hits: readonly ScanHit[]; readonly absentBytes: number }
  | { readonly type: 'chunk-error'; readonly job: number; readonly id: number; readonly message: string };
