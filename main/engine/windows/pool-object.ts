/**
 * Validate a pool-tag hit as an executive object of a given type (the psscan / thrdscan core):
 * _POOL_HEADER sanity → optional headers per InfoMask → _OBJECT_HEADER whose TypeIndex, decoded with
 * ObHeaderCookie and byte 1 of the header's VIRTUAL address, names the wanted type in ObTypeIndexTable.
 *
 * One rule, two ways to read a block (`PoolBlockBytes`): through the kernel address space from the
 * block's kernel VA (`validatePoolObject`, so a block straddling a 4 KiB page boundary reads right:
 * its halves are on unrelated physical pages), or from one physical page no kernel page table maps
 * (windows/unmapped-pool-object.ts), where VA bits 12..15 are unknown and each value is tried.
 *
 * A free block (PoolType 0) is not rejected here: the allocator leaves a freed object's bytes in
 * place, so the block is evidence of an earlier object. The result says `freed`, and the caller
 * decides (psscan keeps an EPROCESS that still validates as a process, labelled as a remnant).
 */
import type { Profile } from '../profile/profile.js';
import type { VirtualMemory } from '../translate/types.js';
import { hex } from '../util/hex.js';
import {
  type ObjectTypes, type PoolHeader, classifyPoolType, decodePoolHeader, decodeTypeIndexWithVaByte, maxOptionalHeadersSize,
  objectBodyOffset, optionalHeadersSize,
} from './object-header.js';

/** One pool block as a reader sees it, from its _POOL_HEADER on. */
export interface PoolBlockBytes {
  /** The block's first bytes: sizeof(_POOL_HEADER) + every optional header + sizeof(_OBJECT_HEADER). */
  readonly data: Uint8Array;
  /** Why `len` bytes at block offset `off` cannot be read (e.g. "is not readable"), or null. */
  unreadable(off: number, len: number): string | null;
  /** Possible values of bits 8..15 of the VA of block offset `off`: one when the VA is known. */
  vaByte1(off: number): readonly number[];
  /** Where block offset `off` is, for reasons ("0xffff…" or "PA 0x…"). */
  at(off: number): string;
}

/** A header position in the block whose TypeIndex decodes to the wanted type. */
export interface PoolBlockMatch {
  /** _OBJECT_HEADER offset from the _POOL_HEADER. */
  readonly headerOffset: number;
  /** Object body offset from the _POOL_HEADER. */
  readonly bodyOffset: number;
  readonly infoMask: number;
  readonly typeIndex: number;
  /** The VA byte 1 under which TypeIndex decodes to the type (null when the build has no cookie). */
  readonly vaByte1: number | null;
}

/**
 * `matches` lists every header position that decodes to the wanted type, farthest from the pool
 * header first. Zeroed optional headers read as an _OBJECT_HEADER with InfoMask 0 at the first slot,
 * and its TypeIndex byte decodes to the wanted type by chance (1 in 256), so callers that can check
 * the body try each match in order.
 */
export type PoolBlockResult =
  | { readonly ok: true; readonly pool: PoolHeader; readonly freed: boolean; readonly matches: readonly PoolBlockMatch[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Is `block` an object of type `wantType` whose body is at least `bodySize` bytes? Rejections say why
 * (for the scan's debug report).
 */
export function validatePoolBlock(profile: Profile, types: ObjectTypes, block: PoolBlockBytes, wantType: string, bodySize: number): PoolBlockResult {
  const poolHdrSize = profile.sizeOf('_POOL_HEADER');
  const ohSize = profile.sizeOf('_OBJECT_HEADER');
  const bodyOff = objectBodyOffset(profile);
  const maxOpt = maxOptionalHeadersSize(profile);
  const headerWhy = block.unreadable(0, poolHdrSize);
  if (headerWhy !== null) return { ok: false, reason: `pool header at ${block.at(0)} ${headerWhy}` };
  const pool = decodePoolHeader(profile, block.data, 0);
  const kind = classifyPoolType(pool.poolType);
  if (kind === 'paged') return { ok: false, reason: `pool block at ${block.at(0)} is paged pool (PoolType ${pool.poolType}); ${wantType} objects are non-paged` };
  const freed = kind === 'free';
  const blockName = freed ? `freed pool block (PoolType 0) at ${block.at(0)}` : `pool block at ${block.at(0)}`;
  const minBytes = poolHdrSize + bodyOff + bodySize;
  if (pool.blockBytes < minBytes) return { ok: false, reason: `${blockName} is ${pool.blockBytes} bytes, too small for ${wantType} (${minBytes})` };
  const infoMaskOff = profile.offsetOf('_OBJECT_HEADER', 'InfoMask');
  const typeIndexOff = profile.offsetOf('_OBJECT_HEADER', 'TypeIndex');
  let lastWhy = 'no _OBJECT_HEADER whose InfoMask matches its position';
  const matches: PoolBlockMatch[] = [];
  // Optional headers are multiples of 8 bytes except PADDING_INFO (4), which only appears with padding
  // that restores alignment, so the object header is 8-aligned after the pool header.
  for (let d = 0; d <= maxOpt; d += 8) {
    const ohOff = poolHdrSize + d;
    const why = block.unreadable(ohOff, ohSize);
    if (why !== null) { lastWhy = `object header at ${block.at(ohOff)} ${why}`; continue; }
    const infoMask = block.data[ohOff + infoMaskOff] ?? 0;
    const opt = optionalHeadersSize(profile, infoMask);
    if (!(opt.size === d || (opt.padding && opt.size <= d))) continue;
    if (pool.blockBytes < poolHdrSize + d + bodyOff + bodySize) continue;
    const stored = block.data[ohOff + typeIndexOff] ?? 0;
    const guesses = types.cookie === null ? [null] : block.vaByte1(ohOff);
    const hit = guesses.find((b) => types.name(decodeTypeIndexWithVaByte(stored, types.cookie, b ?? 0)) === wantType);
    if (hit === undefined) {
      lastWhy = guesses.length === 1
        ? `object header at ${block.at(ohOff)} has type ${types.name(decodeTypeIndexWithVaByte(stored, types.cookie, guesses[0] ?? 0)) ?? 'unknown'} (stored TypeIndex ${hex(stored)}), not ${wantType}`
        : `object header at ${block.at(ohOff)} is not a ${wantType} under any value of VA bits 12..15 (stored TypeIndex ${hex(stored)})`;
      continue;
    }
    matches.push({ headerOffset: ohOff, bodyOffset: ohOff + bodyOff, infoMask, typeIndex: decodeTypeIndexWithVaByte(stored, types.cookie, hit ?? 0), vaByte1: hit });
  }
  if (matches.length === 0) return { ok: false, reason: freed ? `${blockName}: ${lastWhy}` : lastWhy };
  // A real header with optional headers sits past them (InfoMask != 0); a spurious one inside zeroed
  // optional headers reads InfoMask 0 at d = 0. Prefer the farthest consistent position.
  matches.reverse();
  return { ok: true, pool, freed, matches };
}

/** Bytes a reader needs from a block's start: the pool header, every optional header, the object header. */
export function poolBlockSpan(profile: Profile): number {
  return profile.sizeOf('_POOL_HEADER') + maxOptionalHeadersSize(profile) + profile.sizeOf('_OBJECT_HEADER');
}

/** What a validated pool object says about itself, wherever it was read from. */
export interface PoolObjectInfo {
  readonly pool: PoolHeader;
  readonly infoMask: number;
  readonly typeIndex: number;
  readonly typeName: string;
  /** The block is free (PoolType 0): what it holds is a remnant of an object freed earlier. */
  readonly freed: boolean;
}

/** `object` is the most plausible candidate; `candidates` every consistent header position (see PoolBlockResult). */
export type PoolObjectResultOf<T> =
  | { readonly ok: true; readonly object: T; readonly candidates: readonly T[] }
  | { readonly ok: false; readonly reason: string };

/** A block validation as objects located by `locate` (kernel VAs, physical addresses…). */
export function poolObjectsOf<T>(r: PoolBlockResult, wantType: string, locate: (m: PoolBlockMatch, info: PoolObjectInfo) => T): PoolObjectResultOf<T> {
  if (!r.ok) return r;
  const candidates = r.matches.map((m) => locate(m, { pool: r.pool, infoMask: m.infoMask, typeIndex: m.typeIndex, typeName: wantType, freed: r.freed }));
  return { ok: true, object: candidates[0]!, candidates };
}

export interface PoolObject extends PoolObjectInfo {
  /** Kernel VA of the _POOL_HEADER. */
  readonly poolVa: bigint;
  readonly headerVa: bigint;
  readonly bodyVa: bigint;
}

export type PoolObjectResult = PoolObjectResultOf<PoolObject>;

export interface PoolObjectContext {
  readonly profile: Profile;
  readonly kernel: VirtualMemory;
  readonly types: ObjectTypes;
}

/** The block at kernel VA `poolVa`, read through the kernel address space. */
function mappedBlock(ctx: PoolObjectContext, poolVa: bigint): PoolBlockBytes {
  const r = ctx.kernel.read(poolVa, poolBlockSpan(ctx.profile));
  return {
    data: r.data,
    unreadable: (off, len) => r.missing.some((m) => {
      const s = Number(m.va - poolVa);
      return off < s + m.length && s < off + len;
    }) ? 'is not readable' : null,
    vaByte1: (off) => [Number(((poolVa + BigInt(off)) >> 8n) & 0xffn)],
    at: (off) => hex(poolVa + BigInt(off)),
  };
}

/**
 * Is the pool block whose header is at kernel VA `poolVa` an object of type `wantType` whose body is
 * at least `bodySize` bytes? `freed` on the object says the block is free (PoolType 0).
 */
export function validatePoolObject(ctx: PoolObjectContext, poolVa: bigint, wantType: string, bodySize: number): PoolObjectResult {
  const r = validatePoolBlock(ctx.profile, ctx.types, mappedBlock(ctx, poolVa), wantType, bodySize);
  return poolObjectsOf(r, wantType, (m, info): PoolObject => ({
    ...info, poolVa, headerVa: poolVa + BigInt(m.headerOffset), bodyVa: poolVa + BigInt(m.bodyOffset),
  }));
}
