import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { ioError, usageError } from '../errors.js';
import { buildImage } from './image.js';
import { resolveSampleProfile } from './profile-source.js';
import { PAGE_SIZE, type SparsePhysicalMemory } from './physmem.js';
import type { GroundTruth } from './truth.js';
import type { DirBaseFaults } from './dirbase-faults.js';
import { memoryFromPages, writeImage, type WriterFormat } from '../acquire/writers/index.js';

export type { GroundTruth, TruthProcess } from './truth.js';
export { DIRBASE_FAULTS, type DirBaseFault, type DirBaseFaults } from './dirbase-faults.js';

export type SampleFormat = GroundTruth['format'];
export const SAMPLE_FORMATS: readonly SampleFormat[] = ['raw', 'elf', 'crashdump', 'crashdump-bitmap'];

export interface SampleOptions {
  /** GUIDAGE, build number ("19041") or version ("10.0.19041.508"). */
  readonly build: string;
  readonly format: SampleFormat;
  readonly out: string;
  readonly sizeMiB?: number; // default 256
  readonly processes?: number; // extra processes beyond the standard set, default 8
  readonly seed?: number; // default 1
  readonly lowStub?: boolean; // default true
  readonly selfRefIndex?: number;
  readonly kernelBase?: bigint;
  /** Bad DirBases on named running processes, for the DTB inspector's tests (see dirbase-faults.ts). */
  readonly dirBaseFaults?: DirBaseFaults;
  /**
   * crashdump-bitmap only: the bitmap marks only the pages that hold data, as a kernel or active
   * memory dump leaves free pages out, so even a 256 GiB machine is a file of a few MiB whose runs
   * cover only populated memory (a raw image of it would be a 256 GiB sparse file, read back as
   * zeros at page-cache speed).
   */
  readonly populatedOnly?: boolean;
}

const WRITER: Record<SampleFormat, WriterFormat> = {
  raw: 'raw',
  elf: 'elf-core',
  crashdump: 'crashdump-full',
  'crashdump-bitmap': 'crashdump-bitmap',
};

/**
 * Build a sample Windows x64 memory image for `build` and write `<out>` plus `<out>.truth.json`.
 * Deterministic: the same options give a byte-identical image.
 */
export async function buildSample(opts: SampleOptions): Promise<GroundTruth> {
  if (!SAMPLE_FORMATS.includes(opts.format)) {
    throw usageError(`--format must be one of ${SAMPLE_FORMATS.join(', ')} (got "${String(opts.format)}")`);
  }
  if (opts.populatedOnly && opts.format !== 'crashdump-bitmap') {
    throw usageError(`populated-only images are bitmap crash dumps (format crashdump-bitmap), not ${opts.format}`);
  }
  const seed = opts.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw usageError(`--seed must be a non-negative integer (got ${seed})`);
  const { profile, version, buildNumber } = await resolveSampleProfile(opts.build);
  const image = buildImage(profile, buildNumber, version, {
    sizeMiB: opts.sizeMiB ?? 256,
    processes: opts.processes ?? 8,
    seed,
    lowStub: opts.lowStub ?? true,
    ...(opts.selfRefIndex !== undefined ? { selfRefIndex: opts.selfRefIndex } : {}),
    ...(opts.kernelBase !== undefined ? { kernelBase: opts.kernelBase } : {}),
    ...(opts.dirBaseFaults !== undefined ? { dirBaseFaults: opts.dirBaseFaults } : {}),
  });
  const { mem, truth: t } = image;
  const content = memoryFromPages(opts.populatedOnly ? populatedRuns(mem) : mem.runs, (pa) => mem.storedPage(pa / PAGE_SIZE));
  const dtb = BigInt(t.dtb);
  const activeHead = BigInt(t.symbols['PsActiveProcessHead'] ?? '0');
  try {
    if (opts.format === 'raw') writeSparseRaw(opts.out, mem);
    else writeImage(opts.out, WRITER[opts.format], content, {
      elf: { cpus: [{ cr3: dtb }] },
      crash: {
        header: {
          directoryTableBase: dtb,
          psActiveProcessHead: activeHead,
          minorVersion: buildNumber,
        },
      },
    });
  } catch (e) {
    if (e instanceof RangeError) throw e;
    throw ioError(opts.out, e);
  }
  const truth: GroundTruth = { format: opts.format, ...t };
  try {
    await writeFile(`${opts.out}.truth.json`, JSON.stringify(truth, null, 2) + '\n');
  } catch (e) {
    throw ioError(`${opts.out}.truth.json`, e);
  }
  return truth;
}

/** Runs of the pages the builder wrote (adjacent pages merged), in ascending order. */
function populatedRuns(mem: SparsePhysicalMemory): { start: number; length: number }[] {
  const runs: { start: number; length: number }[] = [];
  for (const [pfn] of mem.storedPages()) {
    const pa = pfn * PAGE_SIZE;
    const last = runs[runs.length - 1];
    if (last && last.start + last.length === pa) last.length += PAGE_SIZE;
    else runs.push({ start: pa, length: PAGE_SIZE });
  }
  return runs;
}

/**
 * Raw image (file offset = physical address, holes as zeros) written sparsely: the file is sized with
 * ftruncate and only the pages the builder touched are written, so a 4 GiB sample costs a few MiB of
 * disk and milliseconds instead of streaming gigabytes of zeros.
 */
function writeSparseRaw(path: string, mem: SparsePhysicalMemory): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, mem.endAddress);
    for (const [pfn, page] of mem.storedPages()) {
      for (let off = 0; off < page.length; ) off += writeSync(fd, page, off, page.length - off, pfn * PAGE_SIZE + off);
    }
  } finally {
    closeSync(fd);
  }
}
