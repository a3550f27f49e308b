/**
 * Several scanners over ONE read of memory: each window is read once and handed to every part in
 * turn while it is still in cache, so N whole-memory searches (discovery's self-referencing PML4
 * and System EPROCESS scans) cost about one read of the image instead of N. A hit says which part
 * found it; ownership (chunk-loop.ts) is by the part's own hit address, so each part's hits are
 * exactly those it would report alone. Parts are built by the registry (registry.ts loadScanner,
 * kind 'any-of'), since building one may need a module import.
 */
import { usageError } from '../../errors.js';
import type { Emit, ScanHit, Scanner, ScannerSpec } from '../types.js';

export interface AnyOfHit<H extends ScanHit = ScanHit> extends ScanHit {
  /** The part's own hit address. */
  readonly pa: number;
  /** Index of the part (in the order given to anyOfScan) that found it. */
  readonly part: number;
  readonly hit: H;
}

export const MAX_PARTS = 16;

export const anyOfScan = (parts: readonly ScannerSpec[]): ScannerSpec<AnyOfHit> => ({ kind: 'any-of', params: { parts } });

/** The part specs in `params`, checked (their own params are checked when each part is built). */
export function anyOfParts(params: unknown): ScannerSpec[] {
  const parts = (params as { parts?: unknown } | null)?.parts;
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > MAX_PARTS) {
    throw usageError(`scanner 'any-of': parts must be a list of 1..${MAX_PARTS} scanner specs`);
  }
  for (const p of parts) {
    if (typeof p !== 'object' || p === null || typeof (p as { kind?: unknown }).kind !== 'string') {
      throw usageError(`scanner 'any-of': part ${JSON.stringify(p)} is not a scanner spec`);
    }
    if ((p as ScannerSpec).kind === 'any-of') throw usageError(`scanner 'any-of': parts cannot nest`);
  }
  return parts as ScannerSpec[];
}

/** One scanner running every part over each window; overlap is the largest part's. */
export function combineScanners(parts: readonly Scanner[]): Scanner<AnyOfHit> {
  return {
    overlap: Math.max(...parts.map((p) => p.overlap)),
    scan(chunk: Uint8Array, chunkPa: number, emit: Emit<AnyOfHit>): void {
      parts.forEach((p, part) => p.scan(chunk, chunkPa, (hit) => emit({ pa: hit.pa, part, hit })));
    },
  };
}
