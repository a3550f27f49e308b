/**
 * Validate a pool-tag hit in a physical page that NO kernel page table maps: a remnant of a freed
 * pool page (free/zeroed/standby lists) that still holds a whole executive object. Volatility 3's
 * psscan reports these because it scans the physical layer; they are evidence of processes that ran
 * earlier.
 *
 * Without a mapping the block's kernel VA is unknown, but Windows 10+ encodes _OBJECT_HEADER.TypeIndex
 * with byte 1 (bits 8..15) of the header's VA: stored = index ^ ObHeaderCookie ^ ((va >> 8) & 0xff).
 * Bits 8..11 equal the PA's (same page offset); bits 12..15 are unknown, so each of their 16 values is
 * tried. For a given header position at most one value yields a given type index, so a position gives
 * at most one candidate. Only the hit's own 4 KiB page is read: the bytes past its end lived on an
 * unrelated physical page, so they are holes (the fields there are reported `missing`).
 */
import type { Profile } from '../profile/profile.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import { hex } from '../util/hex.js';
import {
  type ObjectTypes, type PoolHeader, classifyPoolType, decodePoolHeader, maxOptionalHeadersSize, objectBodyOffset,
  optionalHeadersSize,
} from './object-header.js';
import { StructView, type Hole } from './struct-view.js';

const PAGE = 4096;

export interface UnmappedPoolObject {
  readonly poolPa: number;
  readonly pool: PoolHeader;
  readonly headerPa: number;
  readonly bodyPa: number;
  readonly infoMask: number;
  readonly typeIndex: number;
  readonly typeName: string;
  /** VA bits 12..15 under which the TypeIndex decodes to the type; null when the build has no cookie. */
  readonly vaBits12to15: number | null;
}

export type UnmappedPoolObjectResult =
  | { readonly ok: true; readonly object: UnmappedPoolObject; readonly candidates: readonly UnmappedPoolObject[] }
  | { readonly ok: false; readonly reason: string };

export interface UnmappedPoolContext {
  readonly profile: Profile;
  readonly source: PhysicalSource;
  readonly types: ObjectTypes;
}

/** The 4 KiB physical page holding `pa`, with its unreadable ranges as holes relative to the page. */
function readPage(source: PhysicalSource, pa: number): { base: number; data: Uint8Array; absent: Hole[] } {
  const base = pa - (pa % PAGE);
  const r = source.read(base, PAGE);
  return { base, data: r.data, absent: r.absent.map((a) => ({ offset: a.start - base, length: a.length })) };
}

const overlaps = (holes: readonly Hole[], off: number, len: number) => holes.some((h) => off < h.offset + h.length && h.offset < off + len);

/**
 * Is the pool block whose header is at physical `poolPa` (in an unmapped page) an object of type
 * `wantType` with a body of at least `bodySize` bytes? Same rules as validatePoolObject (pool type,
 * block size, InfoMask-consistent header position, cookie-decoded type), with the VA bits guessed.
 */
export function validateUnmappedPoolObject(ctx: UnmappedPoolContext, poolPa: number, wantType: string, bodySize: number): UnmappedPoolObjectResult {
  const { profile, types } = ctx;
  const page = readPage(ctx.source, poolPa);
  const at = poolPa - page.base;
  const poolHdrSize = profile.sizeOf('_POOL_HEADER');
  const ohSize = profile.sizeOf('_OBJECT_HEADER');
  const bodyOff = objectBodyOffset(profile);
  const inPage = (off: number, len: number) => at + off + len <= PAGE && !overlaps(page.absent, at + off, len);
  if (!inPage(0, poolHdrSize)) return { ok: false, reason: `pool header at PA ${hex(poolPa)} is not readable` };
  const pool = decodePoolHeader(profile, page.data, at);
  const kind = classifyPoolType(pool.poolType);
  if (kind === 'free') return { ok: false, reason: `pool block at PA ${hex(poolPa)} is free (PoolType 0)` };
  if (kind === 'paged') return { ok: false, reason: `pool block at PA ${hex(poolPa)} is paged pool (PoolType ${pool.poolType}); ${wantType} objects are non-paged` };
  const minBytes = poolHdrSize + bodyOff + bodySize;
  if (pool.blockBytes < minBytes) return { ok: false, reason: `pool block at PA ${hex(poolPa)} is ${pool.blockBytes} bytes, too small for ${wantType} (${minBytes})` };
  const infoMaskOff = profile.offsetOf('_OBJECT_HEADER', 'InfoMask');
  const typeIndexOff = profile.offsetOf('_OBJECT_HEADER', 'TypeIndex');
  const maxOpt = maxOptionalHeadersSize(profile);
  const guesses = types.cookie === null ? [null] : Array.from({ length: 16 }, (_, i) => i);
  let lastWhy = 'no _OBJECT_HEADER whose InfoMask matches its position';
  const found: UnmappedPoolObject[] = [];
  for (let d = 0; d <= maxOpt; d += 8) {
    const ohOff = poolHdrSize + d;
    if (!inPage(ohOff, ohSize)) { lastWhy = `object header at PA ${hex(poolPa + ohOff)} is not in the page`; break; }
    const infoMask = page.data[at + ohOff + infoMaskOff] ?? 0;
    const opt = optionalHeadersSize(profile, infoMask);
    if (!(opt.size === d || (opt.padding && opt.size <= d))) continue;
    if (pool.blockBytes < poolHdrSize + d + bodyOff + bodySize) continue;
    const headerPa = poolPa + ohOff;
    const stored = page.data[at + ohOff + typeIndexOff] ?? 0;
    let matched = false;
    for (const hi of guesses) {
      // only bits 8..15 of the VA enter the decode; the rest of this stand-in VA is irrelevant
      const vaByte1 = hi === null ? 0 : (hi << 4) | ((headerPa >> 8) & 0xf);
      const typeIndex = types.cookie === null ? stored : (stored ^ types.cookie ^ vaByte1) & 0xff;
      if (types.name(typeIndex) !== wantType) continue;
      found.push({ poolPa, pool, headerPa, bodyPa: headerPa + bodyOff, infoMask, typeIndex, typeName: wantType, vaBits12to15: hi });
      matched = true;
      break;
    }
    if (!matched) lastWhy = `object header at PA ${hex(headerPa)} is not a ${wantType} under any value of VA bits 12..15 (stored TypeIndex ${hex(stored)})`;
  }
  if (found.length === 0) return { ok: false, reason: lastWhy };
  found.reverse(); // farthest consistent header first, as validatePoolObject does
  return { ok: true, object: found[0]!, candidates: found };
}

/**
 * A profile-typed view of `typeName` at physical `pa`, from `pa`'s own page only: bytes past the page
 * end (or absent in the source) are holes, so fields there read as null and are named in `missing`.
 */
export function viewInUnmappedPage(profile: Profile, source: PhysicalSource, typeName: string, pa: number): StructView {
  const size = profile.sizeOf(typeName);
  const page = readPage(source, pa);
  const at = pa - page.base;
  const bytes = new Uint8Array(size);
  const avail = Math.max(0, Math.min(size, PAGE - at));
  bytes.set(page.data.subarray(at, at + avail));
  const holes: Hole[] = page.absent
    .map((h) => ({ offset: h.offset - at, length: h.length }))
    .filter((h) => h.offset + h.length > 0 && h.offset < avail)
    .map((h) => ({ offset: Math.max(0, h.offset), length: Math.min(avail, h.offset + h.length) - Math.max(0, h.offset) }));
  if (avail < size) holes.push({ offset: avail, length: size - avail });
  return StructView.fromBytes(profile, typeName, bytes, BigInt(pa), holes);
}
