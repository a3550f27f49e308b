/**
 * Raw image writer: file offset == physical address. Holes between runs have no representation in
 * a raw image; they are left as sparse zeros (ftruncate), which is what acquisition tools such as
 * WinPmem and DumpIt write for unreadable ranges.
 */
import * as fs from 'node:fs';
import { DEFAULT_CHUNK, normalizeRuns, streamRun, type MemoryContent, type MemoryRun } from './content.js';
import type { FileLayout } from './elf-core.js';

export interface RawWriteOptions {
  /** Make the file this long (≥ the end of the last run), e.g. to end on a round size. */
  readonly totalSize?: number;
  readonly chunkBytes?: number;
}

/** The layout writeRaw writes: no headers, each run at file offset = its physical address. */
export function rawLayout(content: { readonly runs: readonly MemoryRun[] }, options: RawWriteOptions = {}): FileLayout {
  const runs = normalizeRuns(content.runs);
  const last = runs[runs.length - 1];
  const end = last ? last.start + last.length : 0;
  const size = Math.max(end, options.totalSize ?? 0);
  if (size === 0) throw new RangeError('writeRaw: no memory to write');
  return { headers: [], runs, runOffsets: runs.map((r) => r.start), fileSize: size };
}

/** Returns the run a reader will see: the whole file. */
export function writeRaw(path: string, content: MemoryContent, options: RawWriteOptions = {}): MemoryRun[] {
  const { runs, fileSize: size } = rawLayout(content, options);
  const fd = fs.openSync(path, 'w');
  try {
    fs.ftruncateSync(fd, size);
    for (const r of runs) streamRun(fd, r.start, r, content, options.chunkBytes ?? DEFAULT_CHUNK);
  } finally {
    fs.closeSync(fd);
  }
  return [{ start: 0, length: size }];
}
