/**
 * What the hex view asks of the engine besides bytes, asked once and kept: a type laid at a place
 * (so a pointer jump can ask for it together with the target's page, before navigating, and Back
 * finds it answered), and a space's mapped ranges (the scrollbar's marks, next / previous mapped
 * range). Keyed by session and space; bounded.
 */
import type { Envelope, MemScopeApi, SpaceRef, StructDump } from '../../../common/contract.js';
import type { HexPlace } from '../../store/views-store.js';
import { spaceKey } from './page-cache.js';

const MAX_LAYS = 64;
const lays = new Map<string, Promise<Envelope<StructDump>>>();
/** Answers already in, for a synchronous look (the first render of a place shows its fields at once). */
const laid = new Map<string, Envelope<StructDump>>();

export const placeKey = (sessionId: string, p: HexPlace): string => `${sessionId}|${spaceKey(p.space)}|${p.type ?? ''}|${p.address}`;

/** The place's type laid over its address (asked once; a failed answer is kept too: it names why). */
export function layAt(api: MemScopeApi, sessionId: string, p: HexPlace & { readonly type: string }): Promise<Envelope<StructDump>> {
  const key = placeKey(sessionId, p);
  let q = lays.get(key);
  if (!q) {
    q = api.layStruct({ sessionId, space: p.space, type: p.type, address: p.address }).then((r) => {
      laid.set(key, r);
      return r;
    });
    lays.set(key, q);
    while (lays.size > MAX_LAYS) {
      const old = lays.keys().next().value!;
      lays.delete(old);
      laid.delete(old);
    }
  }
  return q;
}

/** The answer for the place, if it is in. */
export const laidNow = (sessionId: string, p: HexPlace): Envelope<StructDump> | undefined => laid.get(placeKey(sessionId, p));

export interface Range { readonly start: bigint; readonly end: bigint }
export interface SpaceRanges {
  readonly ranges: readonly Range[];
  /** Some half had more ranges than were listed (past the last one listed there). */
  readonly truncated: boolean;
}

const MAX_RANGES = 4096;
const rangeAsks = new Map<string, Promise<SpaceRanges | string>>();

/**
 * The mapped ranges of a space, asked once per (session, space): both canonical halves of a virtual
 * space (the engine walks the page tables, translate/x64/leaves.ts), the image's runs of physical memory.
 * A string: why they could not be listed.
 */
export function mappedRangesOf(api: MemScopeApi, sessionId: string, space: SpaceRef, physicalSize: number): Promise<SpaceRanges | string> {
  const key = `${sessionId}|${spaceKey(space)}`;
  let q = rangeAsks.get(key);
  if (q) return q;
  const halves: [string, string][] = space.kind === 'physical'
    ? [['0x0', `0x${Math.max(physicalSize, 1).toString(16)}`]]
    : [['0x0', '0x800000000000'], ['0xffff800000000000', '0x10000000000000000']];
  q = Promise.all(halves.map(([from, to]) => api.mappedRanges({ sessionId, space, from, to, max: MAX_RANGES }))).then((rs) => {
    const bad = rs.find((r) => !r.ok);
    if (bad && !bad.ok) return bad.error.message;
    const ranges: Range[] = [];
    let truncated = false;
    for (const r of rs) {
      if (!r.ok) continue;
      truncated ||= r.value.truncated;
      for (const x of r.value.ranges) ranges.push({ start: BigInt(x.start), end: BigInt(x.end) });
    }
    return { ranges, truncated };
  });
  rangeAsks.set(key, q);
  return q;
}

/** The range holding `a`, or the gap around it: [previous range's end, next range's start). */
export function whereIn(rs: readonly Range[], a: bigint): { inside: Range | null; prev: Range | null; next: Range | null } {
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i]!;
    if (a >= r.start && a < r.end) return { inside: r, prev: rs[i - 1] ?? null, next: rs[i + 1] ?? null };
    if (r.start > a) return { inside: null, prev: rs[i - 1] ?? null, next: r };
  }
  return { inside: null, prev: rs[rs.length - 1] ?? null, next: null };
}
