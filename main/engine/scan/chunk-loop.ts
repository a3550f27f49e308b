/**
 * The one place bytes meet a scanner: read a chunk (owned range + overlap) and keep only hits the
 * chunk owns. Ownership by hit address is the dedup rule: a hit in the overlap region belongs to the
 * next chunk, so whatever the chunk size or worker count, each hit is reported exactly once.
 */
import { hex } from '../util/hex.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import type { ScanChunk, ScanHit, Scanner } from './types.js';

export const describeChunk = (c: { start: number; end: number }): string => `chunk ${hex(c.start)}-${hex(c.end)}`;

export function scanChunk<H extends ScanHit>(source: PhysicalSource, scanner: Scanner<H>, chunk: ScanChunk): H[] {
  const { data } = source.read(chunk.start, chunk.readEnd - chunk.start);
  const hits: H[] = [];
  scanner.scan(data, chunk.start, (hit) => {
    if (hit.pa >= chunk.start && hit.pa < chunk.end) hits.push(hit);
  });
  return hits;
}
