/**
 * Validate a pool-tag hit in a physical page that NO kernel page table maps: a remnant of a freed
 * pool page (free/zeroed/standby lists) that still holds a whole executive object. Volatility 3's
 * psscan reports these because it scans the physical layer; they are evidence of processes that ran
 * earlier.
 *
 * Without a mapping the block's kernel VA is unknown, but Windows 10+ encodes _OBJECT_HEADER.TypeIndex
 * with byte 1 (bits 8..15) of the header's VA: stored = index ^ ObHeaderCookie ^ ((va >> 8) & 0xff).
 * This module only reads such a block (its own 4 KiB page: the bytes past its end lived on an
 * unrelated physical page, so they are holes, and fields there are reported `missing`); the pool
 * and object-header rules are windows/pool-object.ts's, the same as for a mapped block.
 */
import type { Profile } from '../profile/profile.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import { hex } from '../util/hex.js';
import type { ObjectTypes } from './object-header.js';
import { type PoolBlockBytes, type PoolObjectInfo, type PoolObjectResultOf, poolBlockSpan, poolObjectsOf, validatePoolBlock } from './pool-object.js';
import { StructView, type Hole } from './struct-view.js';

const PAGE = 4096;

export interface UnmappedPoolObject extends PoolObjectInfo {
  readonly poolPa: number;
  readonly headerPa: number;
  readonly bodyPa: number;
  /** VA bits 12..15 under which the TypeIndex decodes to the type; null when the build has no cookie. */
  readonly vaBits12to15: number | null;
}

export type UnmappedPoolObjectResult = PoolObjectResultOf<UnmappedPoolObject>;

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
 * The block at physical `poolPa`, from its own 4 KiB page only. Bits 8..11 of the header's VA equal
 * the PA's (same page offset); bits 12..15 are unknown, so all 16 values are candidates.
 */
function pageBlock(profile: Profile, source: PhysicalSource, poolPa: number): PoolBlockBytes {
  const page = readPage(source, poolPa);
  const at = poolPa - page.base;
  const span = poolBlockSpan(profile);
  const data = new Uint8Array(span);
  data.set(page.data.subarray(at, Math.min(PAGE, at + span)));
  return {
    data,
    unreadable: (off, len) => at + off + len > PAGE ? 'is not in the page' : overlaps(page.absent, at + off, len) ? 'is not readable' : null,
    vaByte1: (off) => Array.from({ length: 16 }, (_, hi) => (hi << 4) | (((poolPa + off) >> 8) & 0xf)),
    at: (off) => `PA ${hex(poolPa + off)}`,
  };
}

/**
 * Is the pool block whose header is at physical `poolPa` (in an unmapped page) an object of type
 * `wantType` with a body of at least `bodySize` bytes? The one pool-object rule (windows/pool-object.ts),
 * with VA bits 12..15 guessed; for a given header position at most one value yields a given type index.
 */
export function validateUnmappedPoolObject(ctx: UnmappedPoolContext, poolPa: number, wantType: string, bodySize: number): UnmappedPoolObjectResult {
  const r = validatePoolBlock(ctx.profile, ctx.types, pageBlock(ctx.profile, ctx.source, poolPa), wantType, bodySize);
  return poolObjectsOf(r, wantType, (m, info): UnmappedPoolObject => ({
    ...info, poolPa, headerPa: poolPa + m.headerOffset, bodyPa: poolPa + m.bodyOffset, vaBits12to15: m.vaByte1 === null ? null : m.vaByte1 >> 4,
  }));
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
