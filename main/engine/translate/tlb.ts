/**
 * A software TLB: the finished translation of each 4 KiB virtual page (including negative answers
 * such as "PDE not present"), so repeated reads in one page skip the walk entirely. Direct-mapped,
 * like a hardware TLB set: slot = low bits of the virtual page number, so a hit is two array reads
 * (no Map churn, no bigint) and memory is fixed at `capacity` slots. Keyed by the page number of the
 * low 48 bits of the canonical VA. Static images only (clear() for live memory).
 */
import type { PageSize, WalkStep } from './types.js';

export interface TlbEntry {
  /** Physical address of the 4 KiB frame holding the page's first byte, or null when not resident. */
  readonly frame: number | null;
  readonly page: PageSize | null;
  readonly reason: string;
  /** The walk, shared by every translation in the page. */
  readonly walk: readonly WalkStep[];
}

export const DEFAULT_TLB_ENTRIES = 4096;

export class Tlb {
  private readonly keys: Float64Array;
  private readonly entries: (TlbEntry | undefined)[];
  private readonly mask: number;

  /** `capacity` is rounded up to a power of two (at most 2^20 slots). */
  constructor(capacity = DEFAULT_TLB_ENTRIES) {
    if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity > 1 << 20) {
      throw new RangeError(`TLB capacity must be 1..${1 << 20} (got ${capacity})`);
    }
    let slots = 1;
    while (slots < capacity) slots <<= 1;
    this.mask = slots - 1;
    this.keys = new Float64Array(slots).fill(-1);
    this.entries = new Array<TlbEntry | undefined>(slots).fill(undefined);
  }

  /** `vpn` = (VA bits 47..12); `slotHint` any int mixing those bits (the caller has them as int32s). */
  get(vpn: number, slotHint: number): TlbEntry | undefined {
    const s = slotHint & this.mask;
    return this.keys[s] === vpn ? this.entries[s] : undefined;
  }

  set(vpn: number, slotHint: number, entry: TlbEntry): void {
    const s = slotHint & this.mask;
    this.keys[s] = vpn;
    this.entries[s] = entry;
  }

  clear(): void {
    this.keys.fill(-1);
    this.entries.fill(undefined);
  }
}
