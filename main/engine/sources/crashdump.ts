/**
 * Windows 64-bit kernel crash dumps ("PAGEDU64"): full dumps (DumpType 1) and bitmap dumps
 * (DumpType 5, and 6 for the live-kernel kind), which is what "complete", "active" and "automatic"
 * memory dumps are on Windows 8 and later. A triage dump (DumpType 4) holds no physical memory and is
 * refused here, saying how little it holds (triage/ reads it for `memscope info`); so is a dump of
 * another architecture, by machine type.
 *
 * Layouts, as reverse-engineered publicly (no Microsoft spec exists): the DUMP_HEADER64 fields in
 * crashdump-header.ts; the rest from Rekall crashdump.py, kdmp-parser src/lib/kdmp-parser-structs.h
 * (HEADER64, BMP_HEADER64) and Volatility 3 layers/crash.py (WindowsCrashDump64Layer):
 *  - 0x088 PhysicalMemoryBlockBuffer: _PHYSICAL_MEMORY_DESCRIPTOR64 { NumberOfRuns u32, pad,
 *    NumberOfPages u64, Run[] { BasePage u64, PageCount u64 } } — runs from 0x098 up to the
 *    ContextRecord at 0x348, so at most 43 runs fit.
 *  - Full dump: page data from file offset 0x2000, run after run in table order (Volatility:
 *    `offset = headerpages` then `offset += x.PageCount`).
 *  - Bitmap dump: _BMP_DUMP_HEADER64 at 0x2000 (kdmp-parser BMP_HEADER64): Signature "SDMP" or
 *    "FDMP", ValidDump "DUMP", 0x20 FirstPage (file offset of the first stored page), 0x28
 *    TotalPresentPages, 0x30 Pages (bits in the bitmap), 0x38 Bitmap. Bit i (byte i/8, bit i%8,
 *    least significant first) set means physical page i is stored; stored pages follow each other
 *    from FirstPage in page-number order.
 */
import { formatError } from '../errors.js';
import { DUMP_HEADER_SIZE, DUMP_TYPE, headerHints, PAGE_FILL, readDumpHeader, requireX64 } from './crashdump-header.js';
import { ImageFile } from './image-file.js';
import type { AbsentRange, PhysicalRun, PhysicalSource, ReadResult, SourceHints } from './physical-source.js';
import { checkReadRequest, pushAbsent, SegmentedSource, type FileSegment } from './segmented.js';
import { notPhysicalMemory, TriageDump } from './triage/triage-dump.js';

const PAGE = 0x1000;
const HEADER_SIZE = DUMP_HEADER_SIZE;
const RUNS_AT = 0x98;
const CONTEXT_AT = 0x348;
const MAX_RUNS = (CONTEXT_AT - RUNS_AT) / 16; // 43
const BMP_HEADER_SIZE = 0x38;
/** 2^40 pages would be 2^52 bytes: the x64 physical address limit (Intel SDM vol. 3A, 4.1.4). */
const MAX_PAGES = 2 ** 40;
/** The bitmap is read in chunks of this many bytes. */
const BITMAP_CHUNK = 1 << 20;

const h = (v: number | bigint): string => '0x' + v.toString(16);

export type CrashDumpType = 1 | 5 | 6;

/** Header facts beyond SourceHints that `info` shows. */
export interface CrashDumpDetails {
  readonly dumpType: CrashDumpType;
  readonly bugCheckCode: number;
  readonly pfnDataBase: bigint;
  /** "SDMP" or "FDMP" for bitmap dumps. */
  readonly bitmapSignature?: string;
  /** Header SystemTime (FILETIME of the dump), when recorded: the image-time cross-check. */
  readonly systemTime?: bigint;
}

export interface CrashDumpSource extends PhysicalSource {
  readonly crash: CrashDumpDetails;
}

export function isCrashDumpSource(s: PhysicalSource): s is CrashDumpSource {
  return (s.kind === 'crashdump-full' || s.kind === 'crashdump-bitmap') && 'crash' in s;
}

function safe(v: bigint, path: string, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw formatError(path, `crash dump ${field} ${h(v)} is out of range`);
  return Number(v);
}

export function openCrashDump(path: string): CrashDumpSource {
  return crashDumpFromFile(ImageFile.open(path));
}

/** Parse the header of an open file and serve it; the file is closed on failure. */
export function crashDumpFromFile(file: ImageFile): CrashDumpSource {
  try {
    return parse(file);
  } catch (err) {
    file.close();
    throw err;
  }
}

function parse(file: ImageFile): CrashDumpSource {
  const path = file.path;
  const header = readDumpHeader(file);
  requireX64(path, header);
  const hints = headerHints(header);
  const { dumpType } = header;
  const base = { bugCheckCode: header.bugCheckCode, pfnDataBase: header.pfnDataBase, ...(header.systemTime !== undefined ? { systemTime: header.systemTime } : {}) };

  if (dumpType === DUMP_TYPE.full) {
    const segments = fullDumpSegments(file, file.readAt(0, HEADER_SIZE));
    const source = new SegmentedSource('crashdump-full', file, segments, hints) as SegmentedSource & { crash: CrashDumpDetails };
    Object.defineProperty(source, 'crash', { value: { ...base, dumpType: 1 }, enumerable: true });
    return source;
  }
  if (dumpType === DUMP_TYPE.bitmapFull || dumpType === DUMP_TYPE.bitmapKernel) return BitmapDumpSource.parse(file, hints, { ...base, dumpType });
  if (dumpType === DUMP_TYPE.triage) throw notPhysicalMemory(TriageDump.fromFile(file, header)); // the caller closes the file
  if (dumpType === DUMP_TYPE.summary) throw formatError(path, 'crash dump DumpType 2 (legacy kernel summary dump) is not supported; only full (1) and bitmap (5, 6) dumps hold physical memory runs MemScope reads');
  if (dumpType === PAGE_FILL) throw formatError(path, 'crash dump DumpType is unset (PAGE filler); the header is incomplete');
  throw formatError(path, `unsupported crash dump DumpType ${dumpType} (supported: 1 full, 5 and 6 bitmap; 4 triage in \`memscope info\` only)`);
}

function fullDumpSegments(file: ImageFile, hdr: Buffer): FileSegment[] {
  const path = file.path;
  const numberOfRuns = hdr.readUInt32LE(0x88);
  if (numberOfRuns === PAGE_FILL) throw formatError(path, 'full crash dump has no PhysicalMemoryBlock (NumberOfRuns holds the PAGE filler)');
  if (numberOfRuns === 0) throw formatError(path, 'full crash dump has NumberOfRuns 0');
  if (numberOfRuns > MAX_RUNS) {
    throw formatError(path, `crash dump NumberOfRuns ${numberOfRuns} is absurd: the header's PhysicalMemoryBlockBuffer holds at most ${MAX_RUNS} runs`);
  }
  const runs: (FileSegment & { index: number })[] = [];
  let fileOffset = HEADER_SIZE;
  for (let i = 0; i < numberOfRuns; i++) {
    const at = RUNS_AT + i * 16;
    const basePage = hdr.readBigUInt64LE(at);
    const pageCount = hdr.readBigUInt64LE(at + 8);
    if (basePage + pageCount > BigInt(MAX_PAGES)) {
      throw formatError(path, `crash dump run ${i} (BasePage ${h(basePage)}, PageCount ${h(pageCount)}) lies beyond the 52-bit physical address space`);
    }
    const length = Number(pageCount) * PAGE;
    if (length === 0) continue;
    const start = Number(basePage) * PAGE;
    if (fileOffset + length > file.size) {
      throw formatError(path, `crash dump run ${i} (PA ${h(start)}, ${h(length)} bytes at file offset ${h(fileOffset)}) extends past the end of the file (${h(file.size)} bytes); the dump is truncated`);
    }
    runs.push({ start, length, fileOffset, index: i });
    fileOffset += length;
  }
  runs.sort((a, b) => a.start - b.start);
  for (let i = 1; i < runs.length; i++) {
    const prev = runs[i - 1]!;
    const cur = runs[i]!;
    if (cur.start < prev.start + prev.length) {
      throw formatError(path, `crash dump run ${prev.index} (PA ${h(prev.start)}-${h(prev.start + prev.length)}) overlaps run ${cur.index} (PA ${h(cur.start)}-${h(cur.start + cur.length)})`);
    }
  }
  return runs.map(({ start, length, fileOffset: off }) => ({ start, length, fileOffset: off }));
}

function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/**
 * Page index for bitmap dumps: the bitmap as 32-bit words plus, per word, the number of set bits
 * before it. A page's position among the stored pages is then prefix[word] + popcount of the lower
 * bits of its word: O(1), about 3 bytes of index per 32 pages instead of a map entry per page.
 */
class BitmapDumpSource implements CrashDumpSource {
  readonly kind = 'crashdump-bitmap' as const;
  readonly name: string;
  readonly size: number;
  readonly hints: SourceHints;
  readonly crash: CrashDumpDetails;
  private readonly file: ImageFile;
  private readonly words: Uint32Array;
  private readonly prefix: Float64Array;
  private readonly firstPage: number;
  private runCache: PhysicalRun[] | null = null;

  private constructor(file: ImageFile, hints: SourceHints, crash: CrashDumpDetails, words: Uint32Array, prefix: Float64Array, firstPage: number, size: number) {
    this.file = file;
    this.name = file.path;
    this.hints = hints;
    this.crash = crash;
    this.words = words;
    this.prefix = prefix;
    this.firstPage = firstPage;
    this.size = size;
  }

  static parse(file: ImageFile, hints: SourceHints, base: Omit<CrashDumpDetails, 'bitmapSignature'>): BitmapDumpSource {
    const path = file.path;
    const bh = file.readAt(HEADER_SIZE, BMP_HEADER_SIZE);
    if (bh.length < BMP_HEADER_SIZE) throw formatError(path, `truncated bitmap dump header at ${h(HEADER_SIZE)} (${bh.length} of ${BMP_HEADER_SIZE} bytes)`);
    const signature = bh.subarray(0, 4).toString('latin1');
    if (signature !== 'SDMP' && signature !== 'FDMP') throw formatError(path, `bitmap dump header signature "${printable(bh.subarray(0, 4))}" is neither SDMP nor FDMP`);
    if (bh.subarray(4, 8).toString('latin1') !== 'DUMP') throw formatError(path, `bitmap dump header ValidDump "${printable(bh.subarray(4, 8))}" is not DUMP`);
    const firstPage = safe(bh.readBigUInt64LE(0x20), path, 'bitmap FirstPage');
    const pagesBig = bh.readBigUInt64LE(0x30);
    if (pagesBig === 0n) throw formatError(path, 'bitmap dump has an empty bitmap (Pages = 0)');
    if (pagesBig > BigInt(MAX_PAGES)) throw formatError(path, `bitmap dump Pages ${h(pagesBig)} is absurd (beyond the 52-bit physical address space)`);
    const pages = Number(pagesBig);
    const bitmapBytes = Math.ceil(pages / 8);
    const bitmapAt = HEADER_SIZE + BMP_HEADER_SIZE;
    if (bitmapAt + bitmapBytes > file.size) {
      throw formatError(path, `bitmap dump bitmap (${h(bitmapBytes)} bytes for ${h(pages)} pages) extends past the end of the file (${h(file.size)} bytes)`);
    }
    if (firstPage < bitmapAt + bitmapBytes) {
      throw formatError(path, `bitmap dump FirstPage ${h(firstPage)} lies inside its own header/bitmap (which ends at ${h(bitmapAt + bitmapBytes)})`);
    }

    // Bitmap → little-endian 32-bit words, read in bounded chunks.
    const wordCount = Math.ceil(bitmapBytes / 4);
    const words = new Uint32Array(wordCount);
    const bytes = new Uint8Array(words.buffer);
    for (let off = 0; off < bitmapBytes; off += BITMAP_CHUNK) {
      const n = Math.min(BITMAP_CHUNK, bitmapBytes - off);
      if (file.readInto(bitmapAt + off, bytes, off, n) < n) throw formatError(path, 'bitmap dump bitmap is truncated');
    }
    if (!littleEndianHost) for (let i = 0; i < wordCount; i++) words[i] = new DataView(words.buffer).getUint32(i * 4, true);
    // Bits at or above Pages are not part of the bitmap.
    const tailBits = pages % 32;
    if (tailBits !== 0) words[wordCount - 1]! &= 0xffffffff >>> (32 - tailBits);
    for (let b = bitmapBytes; b < wordCount * 4; b++) bytes[b] = 0;

    const prefix = new Float64Array(wordCount + 1);
    let lastWord = -1;
    for (let i = 0; i < wordCount; i++) {
      const w = words[i]!;
      prefix[i + 1] = prefix[i]! + popcount32(w);
      if (w !== 0) lastWord = i;
    }
    const present = prefix[wordCount]!;
    if (present === 0) throw formatError(path, 'bitmap dump bitmap has no page marked present');
    if (firstPage + present * PAGE > file.size) {
      throw formatError(path, `bitmap dump holds ${h(present)} pages from file offset ${h(firstPage)} but the file ends at ${h(file.size)}; the dump is truncated`);
    }
    const top = lastWord * 32 + (31 - Math.clz32(words[lastWord]!)) + 1;
    return new BitmapDumpSource(file, hints, { ...base, bitmapSignature: signature }, words, prefix, firstPage, top * PAGE);
  }

  /** File offset of physical page `pfn`, or -1 when the page is not stored. */
  private pageOffset(pfn: number): number {
    const wi = Math.floor(pfn / 32);
    if (wi >= this.words.length) return -1;
    const w = this.words[wi]!;
    const bit = pfn % 32;
    if (((w >>> bit) & 1) === 0) return -1;
    const below = bit === 0 ? 0 : popcount32(w & (0xffffffff >>> (32 - bit)));
    return this.firstPage + (this.prefix[wi]! + below) * PAGE;
  }

  runs(): readonly PhysicalRun[] {
    if (this.runCache) return this.runCache;
    const runs: PhysicalRun[] = [];
    let runStart = -1;
    const words = this.words;
    for (let wi = 0; wi < words.length; wi++) {
      const w = words[wi]!;
      // Whole-word fast paths: most of a real bitmap is all-ones or all-zeros.
      if (w === 0xffffffff && runStart >= 0) continue;
      if (w === 0 && runStart < 0) continue;
      for (let bit = 0; bit < 32; bit++) {
        const set = ((w >>> bit) & 1) === 1;
        const pfn = wi * 32 + bit;
        if (set && runStart < 0) runStart = pfn;
        else if (!set && runStart >= 0) {
          runs.push({ start: runStart * PAGE, length: (pfn - runStart) * PAGE });
          runStart = -1;
        }
      }
    }
    if (runStart >= 0) runs.push({ start: runStart * PAGE, length: words.length * 32 * PAGE - runStart * PAGE });
    this.runCache = runs;
    return runs;
  }

  read(address: number, length: number): ReadResult {
    checkReadRequest(this.name, address, length);
    const data = new Uint8Array(length);
    const absent: AbsentRange[] = [];
    const end = address + length;
    let cursor = address;
    // Coalesce stored pages that are contiguous in the file into one positioned read.
    let spanPa = -1;
    let spanFile = 0;
    let spanLen = 0;
    const flush = (): void => {
      if (spanLen === 0) return;
      const got = this.file.readInto(spanFile, data, spanPa - address, spanLen);
      if (got < spanLen) pushAbsent(absent, spanPa + got, spanLen - got);
      spanLen = 0;
    };
    while (cursor < end) {
      const pfn = Math.floor(cursor / PAGE);
      const inPage = cursor - pfn * PAGE;
      const take = Math.min(PAGE - inPage, end - cursor);
      const off = this.pageOffset(pfn);
      if (off < 0) {
        flush();
        pushAbsent(absent, cursor, take);
      } else if (spanLen > 0 && spanFile + spanLen === off + inPage) {
        spanLen += take;
      } else {
        flush();
        spanPa = cursor;
        spanFile = off + inPage;
        spanLen = take;
      }
      cursor += take;
    }
    flush();
    absent.sort((a, b) => a.start - b.start);
    return { data, absent: mergeAbsent(absent) };
  }

  close(): void {
    this.file.close();
  }
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Short-read ranges can be pushed out of order relative to holes; merge after sorting. */
function mergeAbsent(sorted: AbsentRange[]): AbsentRange[] {
  const out: AbsentRange[] = [];
  for (const r of sorted) pushAbsent(out, r.start, r.length);
  return out;
}

function printable(b: Buffer): string {
  return [...b].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join('');
}
