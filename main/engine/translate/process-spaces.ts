/**
 * The per-process address spaces of one source, owned by whoever owns the source (the analysis
 * session), as a process owns its memory view in memflow: one X64AddressSpace per DirBase, kept in a
 * bounded LRU so a hostile image with thousands of bogus DirBases cannot grow it without limit, and
 * dropped with the session (no module-level cache outliving the source).
 */
import type { PhysicalSource } from '../sources/physical-source.js';
import { BoundedLru } from './lru.js';
import { X64AddressSpace } from './x64/address-space.js';

/** Spaces kept (one per process DirBase; a few hundred processes on a busy host). */
const DEFAULT_SPACES = 256;

export class ProcessSpaces {
  private readonly spaces: BoundedLru<bigint, X64AddressSpace>;

  constructor(readonly source: PhysicalSource, capacity = DEFAULT_SPACES) {
    this.spaces = new BoundedLru(capacity);
  }

  /** The address space of a raw DirBase (low bits kept; the walker masks them). */
  of(dtbRaw: bigint): X64AddressSpace {
    let s = this.spaces.get(dtbRaw);
    if (!s) {
      // small private caches: a process's user tables are not shared with the others
      s = new X64AddressSpace(this.source, dtbRaw, { tlbEntries: 256, tableCachePages: 64 });
      this.spaces.set(dtbRaw, s);
    }
    return s;
  }
}
