/**
 * Pool-tag scanner (psscan's `Proc`, thrdscan's `Thre`, …). On x64 every pool block starts with a
 * 16-byte _POOL_HEADER on a 16-byte boundary (the pool granularity); its ULONG PoolTag is at +4,
 * after PreviousSize/PoolIndex/BlockSize/PoolType (one byte each). So a hit is a tag at an address
 * ≡ 4 (mod 16). Windows sets bit 31 of a protected tag (e.g. `Pro\xe3` on Windows 7): callers that
 * want it pass that variant as a separate tag. Everything else (BlockSize, PoolType, object header)
 * is validated by the plugin.
 *
 * One pass per chunk whatever the tag set, chosen by measurement (8 MiB chunks of a random-filled
 * image, one thread; per GiB: read ≈ 65 ms, native Buffer.indexOf of a 3-byte needle ≈ 40–60 ms,
 * a JS loop over every 16th dword ≈ 110–140 ms):
 *  - tags grouped by their first 3 bytes: one indexOf per PREFIX, then the 4th byte decides which
 *    tag (psscan's `Proc` + `Pro\xe3` share `Pro`: one search, where one per tag doubled the cost);
 *  - more than MAX_PREFIX_SEARCHES distinct prefixes: one stride-16 walk over the tag dwords with a
 *    first-byte table in front of the exact compare (cost independent of the tag count).
 */
import { usageError } from '../../errors.js';
import type { Emit, ScanHit, Scanner, ScannerSpec } from '../types.js';
import { asBuffer, paramsObject } from './util.js';

export const POOL_HEADER_SIZE = 16;
const TAG_OFFSET = 4;
/** Up to this many distinct 3-byte prefixes, native indexOf per prefix beats one JS stride walk. */
export const MAX_PREFIX_SEARCHES = 2;

export interface PoolTagParams {
  /** 4-character tags, latin1 (one char = one byte), e.g. 'Proc', 'Thre', 'Pro\xe3'. */
  readonly tags: readonly string[];
}

export interface PoolTagHit extends ScanHit {
  /** Physical address of the _POOL_HEADER. */
  readonly pa: number;
  readonly tag: string;
  /** The 16 header bytes as found. */
  readonly header: Uint8Array;
}

export const poolTagScan = (params: PoolTagParams): ScannerSpec<PoolTagHit> => ({ kind: 'pool-tag', params });

function parse(params: unknown): string[] {
  const p = paramsObject('pool-tag', params);
  const tags = p.tags;
  if (!Array.isArray(tags) || tags.length === 0 || tags.length > 64) throw usageError(`scanner 'pool-tag': tags must be a list of 1..64 tags`);
  for (const t of tags) {
    if (typeof t !== 'string' || t.length !== 4 || !/^[\x00-\xff]{4}$/.test(t)) {
      throw usageError(`scanner 'pool-tag': tag ${JSON.stringify(t)} is not 4 latin1 characters`);
    }
  }
  return [...new Set(tags as string[])];
}

/** The tag as this machine's Uint32Array reads it (the same bytes, native byte order). */
const tagWord = (tag: string): number => new Uint32Array(Uint8Array.from(Buffer.from(tag, 'latin1')).buffer)[0]!;

type Found = (header: number, tag: string) => void;

/** One native search per distinct 3-byte prefix; the 4th byte picks the tag. */
function prefixSearch(tags: readonly string[]): (buf: Buffer, chunkPa: number, found: Found) => void {
  const groups = new Map<string, Map<number, string>>();
  for (const t of tags) {
    const prefix = t.slice(0, 3);
    let g = groups.get(prefix);
    if (!g) groups.set(prefix, (g = new Map()));
    g.set(t.charCodeAt(3), t);
  }
  const plan = [...groups].map(([prefix, byLast]) => ({ needle: Buffer.from(prefix, 'latin1'), byLast }));
  return (buf, chunkPa, found) => {
    for (const { needle, byLast } of plan) {
      let pos = buf.indexOf(needle, TAG_OFFSET);
      while (pos !== -1) {
        const header = pos - TAG_OFFSET;
        if ((chunkPa + header) % POOL_HEADER_SIZE === 0) {
          if (header + POOL_HEADER_SIZE > buf.length) break; // cut off: the next chunk sees it whole
          const tag = byLast.get(buf[pos + 3]!);
          if (tag !== undefined) found(header, tag);
          pos = buf.indexOf(needle, pos + POOL_HEADER_SIZE);
        } else {
          pos = buf.indexOf(needle, pos + 1);
        }
      }
    }
  };
}

/** One walk over the dword at +4 of every 16-byte slot: first-byte table, then exact compare. */
function strideSearch(tags: readonly string[]): (buf: Buffer, chunkPa: number, found: Found) => void {
  const words = Uint32Array.from(tags.map(tagWord));
  const firstByte = new Uint8Array(256);
  for (const t of tags) firstByte[t.charCodeAt(0)] = 1;
  const lowByte = new Uint32Array(Uint8Array.of(0xff, 0, 0, 0).buffer)[0]!; // the dword's first byte, whatever the byte order
  const shift = lowByte === 0xff ? 0 : 24;
  return (buf, chunkPa, found) => {
    // first header offset in this buffer on a 16-byte physical boundary
    const first = (POOL_HEADER_SIZE - (chunkPa % POOL_HEADER_SIZE)) % POOL_HEADER_SIZE;
    const lastHeader = buf.length - POOL_HEADER_SIZE; // a header must fit whole
    if (lastHeader < first) return;
    if ((buf.byteOffset + first + TAG_OFFSET) % 4 !== 0) {
      // unaligned view (never for the scan loop's own buffers): byte-wise, same rule
      for (let h = first; h <= lastHeader; h += POOL_HEADER_SIZE) {
        if (firstByte[buf[h + TAG_OFFSET]!] === 0) continue;
        const tag = buf.toString('latin1', h + TAG_OFFSET, h + TAG_OFFSET + 4);
        if (tags.includes(tag)) found(h, tag);
      }
      return;
    }
    const u32 = new Uint32Array(buf.buffer, buf.byteOffset + first + TAG_OFFSET, ((lastHeader - first) >>> 2) + 1);
    const n = words.length;
    for (let i = 0; i < u32.length; i += 4) {
      const w = u32[i]!;
      if (firstByte[(w >>> shift) & 0xff] === 0) continue;
      for (let k = 0; k < n; k++) {
        if (w === words[k]) {
          found(first + i * 4, tags[k]!);
          break;
        }
      }
    }
  };
}

export function createScanner(params: unknown): Scanner<PoolTagHit> {
  const tags = parse(params);
  const prefixes = new Set(tags.map((t) => t.slice(0, 3))).size;
  const search = prefixes <= MAX_PREFIX_SEARCHES ? prefixSearch(tags) : strideSearch(tags);
  const sortNeeded = prefixes > 1;
  return {
    overlap: POOL_HEADER_SIZE - 1,
    scan(chunk: Uint8Array, chunkPa: number, emit: Emit<PoolTagHit>): void {
      const found: PoolTagHit[] = [];
      search(asBuffer(chunk), chunkPa, (header, tag) => {
        found.push({ pa: chunkPa + header, tag, header: chunk.slice(header, header + POOL_HEADER_SIZE) });
      });
      if (sortNeeded) found.sort((a, b) => a.pa - b.pa);
      for (const h of found) emit(h);
    },
  };
}

/** Test hook: both strategies over the same bytes (they must agree). */
export const searchStrategies = { prefixSearch, strideSearch } as const;
