/**
 * What a writer writes: the present physical ranges and a callback that produces their bytes on
 * demand, so an image of any size streams through a fixed-size buffer instead of living in memory.
 */
import * as fs from 'node:fs';

export interface MemoryRun {
  /** First physical address. */
  readonly start: number;
  /** Length in bytes. */
  readonly length: number;
}

export interface MemoryContent {
  /** Present physical ranges, in any order; they must not overlap (adjacent ranges are merged). */
  readonly runs: readonly MemoryRun[];
  /**
   * Fill `out` with the physical bytes at `pa` .. `pa + out.length`. Writers call it run by run in
   * ascending address order with chunks of at most `chunkBytes` (default 1 MiB) that never cross a
   * run boundary. `out` arrives zeroed; leave zero pages alone.
   */
  fill(pa: number, out: Uint8Array): void;
}

/** Content backed by in-memory buffers (tests and small fixtures): one run per buffer. */
export function memoryFromBuffers(segments: readonly { readonly start: number; readonly data: Uint8Array }[]): MemoryContent {
  const sorted = [...segments].sort((a, b) => a.start - b.start);
  return {
    runs: sorted.map((s) => ({ start: s.start, length: s.data.length })),
    fill(pa, out) {
      for (const s of sorted) {
        if (pa >= s.start && pa + out.length <= s.start + s.data.length) {
          out.set(s.data.subarray(pa - s.start, pa - s.start + out.length));
          return;
        }
      }
      throw new RangeError(`memoryFromBuffers: no buffer holds 0x${pa.toString(16)}+0x${out.length.toString(16)}`);
    },
  };
}

/** Content from a page callback: `pageAt(pa)` returns the 4 KiB page at page-aligned `pa`, or null for zeros. */
export function memoryFromPages(runs: readonly MemoryRun[], pageAt: (pa: number) => Uint8Array | null): MemoryContent {
  return {
    runs,
    fill(pa, out) {
      for (let off = 0; off < out.length; ) {
        const page = Math.floor((pa + off) / 4096) * 4096;
        const inPage = pa + off - page;
        const take = Math.min(4096 - inPage, out.length - off);
        const bytes = pageAt(page);
        if (bytes) out.set(bytes.subarray(inPage, inPage + take), off);
        off += take;
      }
    },
  };
}

/** Runs sorted by start with adjacent ones merged; overlaps and bad numbers are the caller's bug. */
export function normalizeRuns(runs: readonly MemoryRun[]): MemoryRun[] {
  const sorted = runs.filter((r) => r.length > 0).sort((a, b) => a.start - b.start);
  const out: MemoryRun[] = [];
  for (const r of sorted) {
    if (!Number.isSafeInteger(r.start) || !Number.isSafeInteger(r.length) || r.start < 0 || r.length < 0) {
      throw new RangeError(`writer: bad run start ${r.start} length ${r.length}`);
    }
    const last = out[out.length - 1];
    if (last && r.start < last.start + last.length) {
      throw new RangeError(`writer: runs overlap at 0x${r.start.toString(16)}`);
    }
    if (last && r.start === last.start + last.length) out[out.length - 1] = { start: last.start, length: last.length + r.length };
    else out.push({ start: r.start, length: r.length });
  }
  return out;
}

/** Stream `run` from `content` into `fd` at `fileOffset` in chunks of `chunkBytes`. */
export function streamRun(fd: number, fileOffset: number, run: MemoryRun, content: MemoryContent, chunkBytes: number): void {
  const buf = new Uint8Array(Math.min(chunkBytes, run.length));
  for (let done = 0; done < run.length; ) {
    const n = Math.min(buf.length, run.length - done);
    const chunk = buf.subarray(0, n);
    chunk.fill(0);
    content.fill(run.start + done, chunk);
    writeAll(fd, chunk, fileOffset + done);
    done += n;
  }
}

export function writeAll(fd: number, data: Uint8Array, position: number): void {
  for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off, position + off);
}

export const DEFAULT_CHUNK = 1 << 20;
