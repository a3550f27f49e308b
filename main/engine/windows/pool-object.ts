/**
 * Validate a pool-tag hit as an executive object of a given type (the psscan / thrdscan core):
 * _POOL_HEADER sanity → optional headers per InfoMask → _OBJECT_HEADER whose TypeIndex, decoded with
 * ObHeaderCookie and the header's VIRTUAL address, names the wanted type in ObTypeIndexTable.
 * Everything is read through the kernel address space from the block's kernel VA, so a block that
 * straddles a 4 KiB page boundary is read correctly (its halves are on unrelated physical pages).
 */
import type { Profile } from '../profile/profile.js';
import type { VirtualMemory } from '../translate/types.js';
import { hex } from '../util/hex.js';
import {
  type ObjectTypes, type PoolHeader, classifyPoolType, decodePoolHeader, maxOptionalHeadersSize, objectBodyOffset,
  optionalHeadersSize,
} from './object-header.js';

export interface PoolObject {
  /** Kernel VA of the _POOL_HEADER. */
  readonly poolVa: bigint;
  readonly pool: PoolHeader;
  readonly headerVa: bigint;
  readonly bodyVa: bigint;
  readonly infoMask: number;
  readonly typeIndex: number;
  readonly typeName: string;
}

/**
 * `object` is the most plausible candidate; `candidates` lists every header position that decodes
 * to the wanted type, farthest from the pool header first. Zeroed optional headers read as an
 * _OBJECT_HEADER with InfoMask 0 at the first slot, and its TypeIndex byte decodes to the wanted
 * type by chance (1 in 256), so callers that can check the body try each candidate in order.
 */
export type PoolObjectResult =
  | { readonly ok: true; readonly object: PoolObject; readonly candidates: readonly PoolObject[] }
  | { readonly ok: false; readonly reason: string };

export interface PoolObjectContext {
  readonly profile: Profile;
  readonly kernel: VirtualMemory;
  readonly types: ObjectTypes;
}

/**
 * Is the pool block whose header is at kernel VA `poolVa` a live object of type `wantType` whose
 * body is at least `bodySize` bytes? Rejections say why (for the scan's debug report).
 */
export function validatePoolObject(ctx: PoolObjectContext, poolVa: bigint, wantType: string, bodySize: number): PoolObjectResult {
  const { profile, kernel, types } = ctx;
  const poolHdrSize = profile.sizeOf('_POOL_HEADER');
  const ohSize = profile.sizeOf('_OBJECT_HEADER');
  const bodyOff = objectBodyOffset(profile);
  const maxOpt = maxOptionalHeadersSize(profile);
  const span = poolHdrSize + maxOpt + ohSize;
  const r = kernel.read(poolVa, span);
  const unreadable = (off: number, len: number) => r.missing.some((m) => {
    const s = Number(m.va - poolVa);
    return off < s + m.length && s < off + len;
  });
  if (unreadable(0, poolHdrSize)) return { ok: false, reason: `pool header at ${hex(poolVa)} is not readable` };
  const pool = decodePoolHeader(profile, r.data, 0);
  const kind = classifyPoolType(pool.poolType);
  if (kind === 'free') return { ok: false, reason: `pool block at ${hex(poolVa)} is free (PoolType 0)` };
  if (kind === 'paged') return { ok: false, reason: `pool block at ${hex(poolVa)} is paged pool (PoolType ${pool.poolType}); ${wantType} objects are non-paged` };
  const minBytes = poolHdrSize + bodyOff + bodySize;
  if (pool.blockBytes < minBytes) {
    return { ok: false, reason: `pool block at ${hex(poolVa)} is ${pool.blockBytes} bytes, too small for ${wantType} (${minBytes})` };
  }
  const infoMaskOff = profile.offsetOf('_OBJECT_HEADER', 'InfoMask');
  const typeIndexOff = profile.offsetOf('_OBJECT_HEADER', 'TypeIndex');
  let lastWhy = 'no _OBJECT_HEADER whose InfoMask matches its position';
  const found: PoolObject[] = [];
  // Optional headers are multiples of 8 bytes except PADDING_INFO (4), which only appears with padding
  // that restores alignment, so the object header is 8-aligned after the pool header.
  for (let d = 0; d <= maxOpt; d += 8) {
    const ohOff = poolHdrSize + d;
    if (unreadable(ohOff, ohSize)) { lastWhy = `object header at ${hex(poolVa + BigInt(ohOff))} is not readable`; continue; }
    const infoMask = r.data[ohOff + infoMaskOff] ?? 0;
    const opt = optionalHeadersSize(profile, infoMask);
    if (!(opt.size === d || (opt.padding && opt.size <= d))) continue;
    if (pool.blockBytes < poolHdrSize + d + bodyOff + bodySize) continue;
    const headerVa = poolVa + BigInt(ohOff);
    const stored = r.data[ohOff + typeIndexOff] ?? 0;
    const typeName = types.typeOf(stored, headerVa);
    if (typeName !== wantType) {
      lastWhy = `object header at ${hex(headerVa)} has type ${typeName ?? 'unknown'} (stored TypeIndex ${hex(stored)}), not ${wantType}`;
      continue;
    }
    const typeIndex = stored ^ (types.cookie ?? 0) ^ (types.cookie === null ? 0 : Number((headerVa >> 8n) & 0xffn));
    found.push({ poolVa, pool, headerVa, bodyVa: headerVa + BigInt(bodyOff), infoMask, typeIndex: typeIndex & 0xff, typeName });
  }
  if (found.length === 0) return { ok: false, reason: lastWhy };
  // A real header with optional headers sits past them (InfoMask != 0); a spurious one inside zeroed
  // optional headers reads InfoMask 0 at d = 0. Prefer the farthest consistent position.
  found.reverse();
  return { ok: true, object: found[0]!, candidates: found };
}
