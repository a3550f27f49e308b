/**
 * Cache of 4 KiB paging-structure pages keyed by physical address, in front of one PhysicalSource.
 * A walk reads 4 entries from at most 4 table pages, and neighbouring addresses share all of them,
 * so caching whole table pages turns a million translations into a handful of source reads
 * (memflow's and Volatility's page caches do the same). Bounded LRU: memory stays at most
 * capacity × 4 KiB however many tables a hostile image points at. Static images only; call clear()
 * when the source is live memory that changes underneath.
 */
import type { PhysicalSource } from '../sources/physical-source.js';
import { BoundedLru } from './lru.js';

const TABLE_PAGE = 4096;

/** One cached table page. Entries are read as two little-endian uint32 halves (no bigint). */
export interface TablePage {
  /** Physical address of the page (4 KiB aligned). */
  readonly address: number;
  /** null when no byte of the page could be read from the source. */
  readonly view: DataView | null;
  /** Byte ranges within the page (offset, length) the source could not serve; empty when complete. */
  readonly absent: readonly { readonly start: number; readonly length: number }[];
}

/** True when the 8-byte entry at `offset` of the page was read from the source. */
export function entryPresent(page: TablePage, offset: number): boolean {
  if (page.view === null) return false;
  for (const r of page.absent) if (offset + 8 > r.start && offset < r.start + r.length) return false;
  return true;
}

export const DEFAULT_TABLE_CACHE_PAGES = 1024; // 4 MiB

export class PageTableCache {
  readonly source: PhysicalSource;
  private readonly lru: BoundedLru<number, TablePage>;
  /** Source reads issued (for tests and the throughput meter). */
  reads = 0;

  constructor(source: PhysicalSource, capacityPages = DEFAULT_TABLE_CACHE_PAGES) {
    this.source = source;
    this.lru = new BoundedLru(capacityPages);
  }

  /** The table page at `address` (must be 4 KiB aligned: callers pass masked entry addresses). */
  page(address: number): TablePage {
    const hit = this.lru.get(address);
    if (hit) return hit;
    const page = this.load(address);
    this.lru.set(address, page);
    return page;
  }

  clear(): void {
    this.lru.clear();
  }

  private load(address: number): TablePage {
    if (address < this.source.size) this.reads++;
    return readTablePage(this.source, address);
  }
}

/** Read the 4 KiB table page at `address` (4 KiB aligned) once, uncached: what the cache stores. */
export function readTablePage(source: PhysicalSource, address: number): TablePage {
  if (address >= source.size) {
    // wholly past the end of physical memory: no read needed
    return { address, view: null, absent: [{ start: 0, length: TABLE_PAGE }] };
  }
  const { data, absent } = source.read(address, TABLE_PAGE);
  const rel = absent.map((r) => ({ start: r.start - address, length: r.length }));
  const whollyAbsent = rel.length === 1 && rel[0]!.start === 0 && rel[0]!.length >= TABLE_PAGE;
  return { address, view: whollyAbsent ? null : new DataView(data.buffer, data.byteOffset, TABLE_PAGE), absent: rel };
}
