/**
 * Chunk planning: which physical bytes a scan covers and how they are cut into units of work.
 * Only the source's runs are scanned (holes between ELF PT_LOADs / crash-dump runs are skipped);
 * touching runs are merged first so a hit straddling two adjacent runs is still seen. Chunk
 * boundaries sit on absolute multiples of chunkSize (so they are page aligned whatever the run
 * starts), each chunk owns [start, end) and reads `overlap` more bytes, clipped to its run.
 */
import { usageError } from '../errors.js';
import { hex } from '../util/hex.js';
import { MAX_READ, type PhysicalRun } from '../sources/physical-source.js';
import type { ScanChunk } from './types.js';

const PAGE = 4096;
export const MIN_CHUNK_SIZE = 64 * 1024;

/** Sort, drop empties, and merge runs that touch or overlap. */
export function coalesceRuns(runs: readonly PhysicalRun[]): PhysicalRun[] {
  const sorted = runs.filter((r) => r.length > 0).map((r) => ({ start: r.start, length: r.length }));
  sorted.sort((a, b) => a.start - b.start);
  const out: { start: number; length: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.start + last.length) {
      last.length = Math.max(last.length, r.start + r.length - last.start);
    } else out.push({ ...r });
  }
  return out;
}

/** The parts of `runs` inside `ranges` (both coalesced first). A range touching no run is a usage error. */
export function intersectRuns(runs: readonly PhysicalRun[], ranges: readonly PhysicalRun[], what: string): PhysicalRun[] {
  const a = coalesceRuns(runs);
  const out: PhysicalRun[] = [];
  for (const r of ranges) {
    if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.length) || r.start < 0 || r.length <= 0) {
      throw usageError(`${what}: bad scan range start=${r.start} length=${r.length}`);
    }
  }
  for (const r of coalesceRuns(ranges)) {
    const rEnd = r.start + r.length;
    let touched = false;
    for (const s of a) {
      const start = Math.max(s.start, r.start);
      const end = Math.min(s.start + s.length, rEnd);
      if (start < end) {
        out.push({ start, length: end - start });
        touched = true;
      }
    }
    if (!touched) throw usageError(`${what}: scan range ${hex(r.start)}-${hex(rEnd)} holds no physical memory`);
  }
  return coalesceRuns(out);
}

export function checkChunkGeometry(chunkSize: number, overlap: number): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize % PAGE !== 0) {
    throw usageError(`scan chunk size ${chunkSize}: must be a multiple of 4096 and at least ${MIN_CHUNK_SIZE}`);
  }
  if (!Number.isSafeInteger(overlap) || overlap < 0 || overlap > chunkSize || chunkSize + overlap > MAX_READ) {
    throw usageError(`scan overlap ${overlap}: must be between 0 and the chunk size (${chunkSize}), chunk + overlap <= ${MAX_READ}`);
  }
}

/** Cut coalesced runs into chunks. */
export function planChunks(runs: readonly PhysicalRun[], chunkSize: number, overlap: number): ScanChunk[] {
  checkChunkGeometry(chunkSize, overlap);
  const chunks: ScanChunk[] = [];
  for (const r of coalesceRuns(runs)) {
    const runEnd = r.start + r.length;
    let start = r.start;
    while (start < runEnd) {
      const end = Math.min(runEnd, (Math.floor(start / chunkSize) + 1) * chunkSize);
      chunks.push({ start, end, readEnd: Math.min(runEnd, end + overlap) });
      start = end;
    }
  }
  return chunks;
}

export const totalBytes = (chunks: readonly ScanChunk[]): number => chunks.reduce((n, c) => n + (c.end - c.start), 0);
