/**
 * Pool-tag scanner (psscan's `Proc`, thrdscan's `Thre`, …). On x64 every pool block starts with a
 * 16-byte _POOL_HEADER on a 16-byte boundary (the pool granularity); its ULONG PoolTag is at +4,
 * after PreviousSize/PoolIndex/BlockSize/PoolType (one byte each). So a hit is a tag at an address
 * ≡ 4 (mod 16). Windows sets bit 31 of a protected tag (e.g. `Pro\xe3` on Windows 7): callers that
 * want it pass that variant as a separate tag. Everything else (BlockSize, PoolType, object header)
 * is validated by the plugin.
 *
 * One pass per window whatever the tag set: a walk over the tag dword of every 16-byte slot (see
 * slotSearch), chosen by measurement against native Buffer.indexOf, one search per 3-byte prefix
 * (one thread, 512 KiB windows, CPU ms per GiB searched, medians):
 *
 *   data                                   psscan (`Pro`)      psxview (`Pro` + `Thr`)
 *                                          indexOf   walk      indexOf   walk
 *   random-filled bench pages                 35       36         86       46
 *   a real triage dump (60% zero bytes)       26       36         37       44
 *   pages dense in `P` (a `P` every 8 bytes)  1621     36       1598       43
 *
 * indexOf is memchr on the needle's FIRST byte, restarted at every `P`: fast over zeros, but its
 * cost follows the data (45x on the last row, which text or a table of repeated records can be);
 * the walk's does not, and one walk serves every prefix where indexOf pays once per prefix.
 */
import { usageError } from '../../errors.js';
import type { Emit, ScanHit, Scanner, ScannerSpec } from '../types.js';
import { asBuffer, paramsObject } from './util.js';

export const POOL_HEADER_SIZE = 16;
const TAG_OFFSET = 4;
/** Up to this many distinct 3-byte prefixes the walk compares with each; beyond, a first-byte table (~105 ms/GiB). */
export const MAX_PREFIX_COMPARES = 2;

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

/** The bytes as this machine's Uint32Array reads them (native byte order). */
const nativeWord = (bytes: readonly number[]): number => new Uint32Array(Uint8Array.from(bytes).buffer)[0]!;
const tagWord = (tag: string): number => nativeWord([...Buffer.from(tag, 'latin1')]);
/** A tag dword's first three bytes (the prefix tags share: `Pro` of `Proc` and `Pro\xe3`). */
const PREFIX_MASK = nativeWord([0xff, 0xff, 0xff, 0]);
/** Shift that brings a tag dword's first byte to bits 0..7, whatever the byte order. */
const FIRST_BYTE_SHIFT = nativeWord([0xff, 0, 0, 0]) === 0xff ? 0 : 24;

type Found = (header: number, tag: string) => void;

/*
 * The hot loops take everything as parameters (registers to the JIT), not as closure variables:
 * measured, the same loop reading its prefixes from a closure ran ~2x slower. Each returns the
 * index (into u32) of the first group of four slots at or after `from` that may hold a hit or,
 * when none does, where the whole groups end (the last slots, fewer than four, are the caller's).
 */

/** One prefix (psscan's `Pro`): one masked compare per slot. */
function nextOne(u32: Uint32Array, from: number, len: number, mask: number, p0: number): number {
  let i = from;
  for (; i + 12 < len; i += 16) {
    if ((u32[i]! & mask) === p0 || (u32[i + 4]! & mask) === p0 || (u32[i + 8]! & mask) === p0 || (u32[i + 12]! & mask) === p0) return i;
  }
  return i;
}

/** Two prefixes (psxview's `Pro`, `Thr`): two masked compares per slot. */
function nextFew(u32: Uint32Array, from: number, len: number, mask: number, p0: number, p1: number): number {
  let i = from;
  for (; i + 12 < len; i += 16) {
    const a = u32[i]! & mask, b = u32[i + 4]! & mask, c = u32[i + 8]! & mask, d = u32[i + 12]! & mask;
    if (a === p0 || a === p1 || b === p0 || b === p1 || c === p0 || c === p1 || d === p0 || d === p1) return i;
  }
  return i;
}

/** Any number of prefixes: a table of the tags' first bytes. */
function nextMany(u32: Uint32Array, from: number, len: number, shift: number, firstByte: Uint8Array): number {
  let i = from;
  for (; i + 12 < len; i += 16) {
    if ((firstByte[(u32[i]! >>> shift) & 0xff]! | firstByte[(u32[i + 4]! >>> shift) & 0xff]! | firstByte[(u32[i + 8]! >>> shift) & 0xff]! | firstByte[(u32[i + 12]! >>> shift) & 0xff]!) !== 0) return i;
  }
  return i;
}

/**
 * One walk over the tag dword (+4) of every 16-byte slot, four slots per step: for up to
 * MAX_PREFIX_COMPARES distinct prefixes the masked dword is compared with each (nextOne, nextFew),
 * beyond that a first-byte table decides (nextMany); a group that passes has each of its slots compared with every tag in
 * full. Slots are visited in order, so hits come out sorted by address.
 */
function slotSearch(tags: readonly string[]): (buf: Buffer, chunkPa: number, found: Found) => void {
  const words = Uint32Array.from(tags.map(tagWord));
  const prefixes = [...new Set([...words].map((w) => w & PREFIX_MASK))]; // signed, as `u32[i] & PREFIX_MASK` is
  const few = prefixes.length <= MAX_PREFIX_COMPARES;
  const p0 = prefixes[0]!;
  const p1 = prefixes[1] ?? p0;
  const firstByte = new Uint8Array(256);
  for (const t of tags) firstByte[t.charCodeAt(0)] = 1;
  const n = words.length;
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
    // u32[4k] is the tag of the k-th slot
    const u32 = new Uint32Array(buf.buffer, buf.byteOffset + first + TAG_OFFSET, ((lastHeader - first) >>> 2) + 1);
    const len = u32.length;
    const check = (i: number): void => {
      const w = u32[i]!;
      for (let k = 0; k < n; k++) {
        if (w === words[k]) {
          found(first + i * 4, tags[k]!);
          return;
        }
      }
    };
    let i = 0;
    for (;;) {
      i = prefixes.length === 1 ? nextOne(u32, i, len, PREFIX_MASK, p0) : few ? nextFew(u32, i, len, PREFIX_MASK, p0, p1) : nextMany(u32, i, len, FIRST_BYTE_SHIFT, firstByte);
      if (i + 12 >= len) break;
      check(i); check(i + 4); check(i + 8); check(i + 12);
      i += 16;
    }
    for (; i < len; i += 4) check(i); // the last slots, fewer than a group
  };
}

export function createScanner(params: unknown): Scanner<PoolTagHit> {
  const tags = parse(params);
  const search = slotSearch(tags);
  return {
    overlap: POOL_HEADER_SIZE - 1,
    scan(chunk: Uint8Array, chunkPa: number, emit: Emit<PoolTagHit>): void {
      search(asBuffer(chunk), chunkPa, (header, tag) => {
        emit({ pa: chunkPa + header, tag, header: chunk.slice(header, header + POOL_HEADER_SIZE) });
      });
    },
  };
}

/** Test hook: the search alone (header offset and tag per hit). */
export const searchTags = slotSearch;
