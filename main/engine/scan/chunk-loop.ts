/**
 * The one place bytes meet a scanner: read a chunk (owned range + overlap) and keep only hits the
 * chunk owns. Ownership by hit address is the dedup rule: a hit in the overlap region belongs to the
 * next chunk, so whatever the chunk size or worker count, each hit is reported exactly once.
 */
import { hex } from '../util/hex.js';
import type { AbsentRange, PhysicalSource } from '../sources/physical-source.js';
import type { ScanChunk, ScanHit, Scanner } from './types.js';

export const describeChunk = (c: { start: number; end: number }): string => `chunk ${hex(c.start)}-${hex(c.end)}`;

export interface ChunkResult<H extends ScanHit> {
  readonly hits: H[];
  /**
   * Bytes of the chunk's owned range the source could not serve. Chunks lie inside the source's
   * runs, so this is never a hole: it is a file that ended early (shrank, cut) or a device that
   * refused; those bytes were scanned as zeros and the caller should say so.
   */
  readonly absentBytes: number;
}

/** A growable read buffer, shareable by the ChunkScanners of one thread (one scan at a time each). */
export class ReadBuffer {
  private bytes: Uint8Array | null = null;
  get(length: number): Uint8Array {
    if (!this.bytes || this.bytes.length < length) this.bytes = new Uint8Array(length);
    return this.bytes.subarray(0, length);
  }
}

/**
 * Scans chunks of one source with one scanner, reading each chunk into the same buffer when the
 * source supports readInto (sequential large reads, no per-chunk allocation); otherwise read().
 */
export class ChunkScanner<H extends ScanHit> {
  constructor(
    private readonly source: PhysicalSource,
    private readonly scanner: Scanner<H>,
    private readonly buffer: ReadBuffer = new ReadBuffer(),
  ) {}

  private bytes(chunk: ScanChunk): { data: Uint8Array; absent: readonly AbsentRange[] } {
    const length = chunk.readEnd - chunk.start;
    if (!this.source.readInto) return this.source.read(chunk.start, length);
    const data = this.buffer.get(length);
    return { data, absent: this.source.readInto(chunk.start, data) };
  }

  scan(chunk: ScanChunk): ChunkResult<H> {
    const { data, absent } = this.bytes(chunk);
    const hits: H[] = [];
    this.scanner.scan(data, chunk.start, (hit) => {
      if (hit.pa >= chunk.start && hit.pa < chunk.end) hits.push(hit);
    });
    let absentBytes = 0;
    for (const a of absent) absentBytes += Math.max(0, Math.min(a.start + a.length, chunk.end) - Math.max(a.start, chunk.start));
    return { hits, absentBytes };
  }
}

export const absentMessage = (absentBytes: number): string =>
  `${hex(absentBytes)} bytes could not be read from the source (file shorter than its memory runs?) and were scanned as zeros`;
