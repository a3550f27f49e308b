/**
 * Image writers: turn physical memory content into the files MemScope reads — raw, ELF64 core
 * (QEMU dump-guest-memory style) and Windows PAGEDU64 crash dumps (full and bitmap). Used by the
 * reader tests and by the sample-image builder. Each writer is written from the published layout,
 * independently of the engine's readers (no shared parsing code), so a round trip checks both.
 *
 * Streaming: content is described by its runs plus a `fill(pa, out)` callback the writer calls in
 * ascending order with chunks of at most `chunkBytes` (1 MiB default) inside one run. Nothing holds
 * the whole image, so a 4 GiB image writes in constant memory; untouched ranges stay sparse.
 *
 *   import { writeImage, memoryFromPages } from '…/acquire/writers/index.js';
 *   const content = memoryFromPages(
 *     [{ start: 0, length: 0x9f000 }, { start: 0x100000, length: 0xbff00000 }],
 *     (pa) => pages.get(pa) ?? null,          // 4 KiB page at page-aligned pa, null = zeros
 *   );
 *   const written = writeImage('/tmp/x.dmp', 'crashdump-bitmap', content, {
 *     crash: { header: { directoryTableBase: 0x1aa000n, minorVersion: 19041, psActiveProcessHead: 0xfffff80…n } },
 *   });
 *   written.runs   // the physical runs a reader reports for this file (raw: one run [0, size))
 *
 * Format rules: crash dumps need page-aligned runs; a full dump holds at most 43 runs (the header's
 * PhysicalMemoryBlockBuffer size); a bitmap dump also records runs in the header when ≤ 43 (Windows
 * fills it; readers ignore it). Raw images store holes as zeros, so their single run is [0, end).
 */
import * as fs from 'node:fs';
import type { MemoryContent, MemoryRun } from './content.js';
import { writeCrashDumpBitmap, writeCrashDumpFull, type CrashWriteOptions } from './crashdump.js';
import { writeElfCore, type ElfWriteOptions } from './elf-core.js';
import { writeRaw, type RawWriteOptions } from './raw.js';

export type { MemoryContent, MemoryRun } from './content.js';
export { memoryFromBuffers, memoryFromPages } from './content.js';
export type { CrashHeaderFields, CrashWriteOptions } from './crashdump.js';
export type { ElfWriteOptions, FileLayout } from './elf-core.js';
export { elfLayout } from './elf-core.js';
export { rawLayout } from './raw.js';
export type { RawWriteOptions } from './raw.js';
export { writeCrashDumpBitmap, writeCrashDumpFull, writeElfCore, writeRaw };

export type WriterFormat = 'raw' | 'elf-core' | 'crashdump-full' | 'crashdump-bitmap';

export interface WriteImageOptions {
  readonly raw?: RawWriteOptions;
  readonly elf?: ElfWriteOptions;
  /** Used by 'crashdump-full' and 'crashdump-bitmap'. */
  readonly crash?: CrashWriteOptions;
}

export interface WrittenImage {
  readonly path: string;
  readonly format: WriterFormat;
  readonly fileSize: number;
  /** The physical runs a reader reports for this file, sorted, adjacent ones merged. */
  readonly runs: readonly MemoryRun[];
}

export function writeImage(path: string, format: WriterFormat, content: MemoryContent, options: WriteImageOptions = {}): WrittenImage {
  let runs: MemoryRun[];
  switch (format) {
    case 'raw':
      runs = writeRaw(path, content, options.raw);
      break;
    case 'elf-core':
      runs = writeElfCore(path, content, options.elf);
      break;
    case 'crashdump-full':
      runs = writeCrashDumpFull(path, content, options.crash);
      break;
    case 'crashdump-bitmap':
      runs = writeCrashDumpBitmap(path, content, options.crash);
      break;
  }
  return { path, format, fileSize: fs.statSync(path).size, runs };
}
