/**
 * Generic needle scanner: `RSDS` CodeView records, `MZ` at page starts, "System\0" in an EPROCESS
 * ImageFileName… Needles are hex strings (serialisable, any bytes). With `align`, a needle only
 * counts at addresses ≡ `offset` (mod align): for coarse alignments (≥ 64, e.g. page starts) the
 * candidate positions are probed directly, for 4..32 their first dwords are compared (dwordWalk);
 * unaligned needles, and needles shorter than 4 bytes, are searched with indexOf.
 */
import { usageError } from '../../errors.js';
import type { Emit, ScanHit, Scanner, ScannerSpec } from '../types.js';
import { asBuffer, isPowerOfTwo, optionalInt, paramsObject } from './util.js';

export interface BytesParams {
  /** Needles as hex, e.g. '4d5a' for "MZ"; see asciiHex(). 1..256 bytes each. */
  readonly needles: readonly string[];
  /** Only match at pa ≡ offset (mod align); align a power of two, default 1. */
  readonly align?: number;
  readonly offset?: number;
  /** Bytes to return from the hit address (default: the needle's length; at most 4096). */
  readonly context?: number;
}

export interface BytesHit extends ScanHit {
  readonly pa: number;
  /** Index into params.needles. */
  readonly needle: number;
  /** `context` bytes from pa (shorter only where the run ends). */
  readonly bytes: Uint8Array;
}

export const bytesScan = (params: BytesParams): ScannerSpec<BytesHit> => ({ kind: 'bytes', params });
export const asciiHex = (text: string): string => Buffer.from(text, 'latin1').toString('hex');

const DIRECT_PROBE_ALIGN = 64;

/**
 * Index of the first group of four positions (`step` dwords apart) from `from` where one holds
 * `w`, or where the whole groups end. Everything a parameter, nothing from a closure: the JIT keeps
 * them in registers (measured for the pool-tag walk: a closure-reading loop ran ~1.5-2x slower).
 */
function nextDwordGroup(i32: Int32Array, from: number, words: number, step: number, w: number): number {
  let i = from;
  for (; i + 3 * step < words; i += 4 * step) {
    if (i32[i] === w || i32[i + step] === w || i32[i + 2 * step] === w || i32[i + 3 * step] === w) return i;
  }
  return i;
}

export function createScanner(params: unknown): Scanner<BytesHit> {
  const p = paramsObject('bytes', params);
  const raw = p.needles;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 64) throw usageError(`scanner 'bytes': needles must be a list of 1..64 hex strings`);
  const needles = raw.map((h) => {
    if (typeof h !== 'string' || !/^([0-9a-f]{2}){1,256}$/i.test(h)) throw usageError(`scanner 'bytes': needle ${JSON.stringify(h)} is not 1..256 bytes of hex`);
    return Buffer.from(h, 'hex');
  });
  const align = optionalInt('bytes', p, 'align', 1, 1, 1 << 30);
  if (!isPowerOfTwo(align)) throw usageError(`scanner 'bytes': align ${align} is not a power of two`);
  const offset = optionalInt('bytes', p, 'offset', 0, 0, align - 1);
  const longest = Math.max(...needles.map((n) => n.length));
  const context = optionalInt('bytes', p, 'context', longest, 1, 4096);
  const span = Math.max(longest, context);

  const firstWords = needles.map((nd) => (nd.length >= 4 ? new Int32Array(Uint8Array.from(nd.subarray(0, 4)).buffer)[0]! : null));
  /**
   * Needle n at every position ≡ offset (mod align) for align 4..32: compare the needle's first
   * dword at each such position (four per step), the whole needle only where it matches. Cost does
   * not depend on the data; indexOf restarts at every occurrence of the needle's first byte and,
   * on the bench image, ran ~5x slower for "System" + 9 zero bytes at align 8. False when the
   * geometry does not allow it (the caller then uses indexOf).
   */
  function dwordWalk(buf: Buffer, chunkPa: number, n: number, take: (pos: number, n: number) => void): boolean {
    const w = firstWords[n];
    if (w === null || w === undefined || align < 4 || offset % 4 !== 0) return false;
    const nd = needles[n]!;
    const first = (((offset - (chunkPa % align)) % align) + align) % align;
    if ((buf.byteOffset + first) % 4 !== 0) return false;
    const words = (buf.length - first) >>> 2;
    if (words <= 0) return true;
    const i32 = new Int32Array(buf.buffer, buf.byteOffset + first, words);
    const step = align >>> 2;
    const check = (i: number): void => {
      const pos = first + i * 4;
      if (i32[i] === w && pos + nd.length <= buf.length && buf.compare(nd, 0, nd.length, pos, pos + nd.length) === 0) take(pos, n);
    };
    let i = 0;
    for (;;) {
      i = nextDwordGroup(i32, i, words, step, w);
      if (i + 3 * step >= words) break;
      check(i); check(i + step); check(i + 2 * step); check(i + 3 * step);
      i += 4 * step;
    }
    for (; i < words; i += step) check(i); // the last positions, fewer than a group
    return true;
  }

  return {
    overlap: span - 1,
    scan(chunk: Uint8Array, chunkPa: number, emit: Emit<BytesHit>): void {
      const buf = asBuffer(chunk);
      const found: BytesHit[] = [];
      const take = (pos: number, n: number): void => {
        found.push({ pa: chunkPa + pos, needle: n, bytes: chunk.slice(pos, Math.min(chunk.length, pos + context)) });
      };
      if (align >= DIRECT_PROBE_ALIGN) {
        // First position ≡ offset (mod align) at or after the chunk start.
        let pos = (((offset - (chunkPa % align)) % align) + align) % align;
        for (; pos < buf.length; pos += align) {
          for (let n = 0; n < needles.length; n++) {
            const nd = needles[n]!;
            if (pos + nd.length <= buf.length && buf[pos] === nd[0] && buf.compare(nd, 0, nd.length, pos, pos + nd.length) === 0) take(pos, n);
          }
        }
      } else {
        for (let n = 0; n < needles.length; n++) {
          const nd = needles[n]!;
          if (!dwordWalk(buf, chunkPa, n, take)) {
            for (let pos = buf.indexOf(nd, 0); pos !== -1; pos = buf.indexOf(nd, pos + 1)) {
              if ((chunkPa + pos) % align === offset) take(pos, n);
            }
          }
        }
        if (needles.length > 1) found.sort((a, b) => a.pa - b.pa || a.needle - b.needle);
      }
      for (const h of found) emit(h);
    },
  };
}
