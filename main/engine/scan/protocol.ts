/** Messages between scanPhysical (main side) and scan-worker.ts. All structured-clone safe. */
import type { OpenOptions } from '../sources/detect.js';
import type { ErrorKind } from '../errors.js';
import type { ScanChunk, ScanHit, ScannerSpec } from './types.js';

export interface WorkerInit {
  readonly sourcePath: string;
  readonly openOptions: OpenOptions;
  readonly scanner: ScannerSpec;
}

export type ToWorker = { readonly type: 'chunk'; readonly id: number; readonly chunk: ScanChunk };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly kind: ErrorKind; readonly message: string }
  | { readonly type: 'done'; readonly id: number; readonly hits: readonly ScanHit[]; readonly absentBytes: number }
  | { readonly type: 'chunk-error'; readonly id: number; readonly message: string };
