/**
 * A bounded LRU cache of 4 KiB physical pages in front of any PhysicalSource, for callers that make
 * many small reads of the same pages (page-table walks read 8 bytes at a time from a few hundred
 * table pages; pool scanners re-read headers). Large reads bypass the cache so one bulk scan does
 * not evict the page tables everyone else needs.
 */
import type { AbsentRange, PhysicalRun, PhysicalSource, ReadResult, SourceHints, SourceKind } from './physical-source.js';
import { checkReadRequest, pushAbsent } from './segmented.js';

const PAGE = 4096;

export interface PageCacheOptions {
  /** Pages kept (default 4096 = 16 MiB). */
  readonly maxPages?: number;
  /** Reads longer than this go straight to the inner source (default 16 pages). */
  readonly bypassBytes?: number;
}

interface CachedPage {
  readonly data: Uint8Array;
  /** Absent ranges inside this page, absolute addresses. */
  readonly absent: readonly AbsentRange[];
}

export class PageCachedSource implements PhysicalSource {
  readonly kind: SourceKind;
  readonly name: string;
  readonly size: number;
  readonly hints: SourceHints;
  readonly inner: PhysicalSource;
  hits = 0;
  misses = 0;
  private readonly maxPages: number;
  private readonly bypassBytes: number;
  /** Map iteration order is insertion order: re-inserting on a hit makes the first key the LRU. */
  private readonly pages = new Map<number, CachedPage>();

  constructor(inner: PhysicalSource, options: PageCacheOptions = {}) {
    this.inner = inner;
    this.kind = inner.kind;
    this.name = inner.name;
    this.size = inner.size;
    this.hints = inner.hints;
    this.maxPages = Math.max(1, options.maxPages ?? 4096);
    this.bypassBytes = options.bypassBytes ?? 16 * PAGE;
  }

  runs(): readonly PhysicalRun[] {
    return this.inner.runs();
  }

  /** Pages currently cached. */
  get cachedPages(): number {
    return this.pages.size;
  }

  private page(pfn: number): CachedPage {
    const hit = this.pages.get(pfn);
    if (hit) {
      this.hits++;
      this.pages.delete(pfn);
      this.pages.set(pfn, hit);
      return hit;
    }
    this.misses++;
    const r = this.inner.read(pfn * PAGE, PAGE);
    const entry: CachedPage = { data: r.data, absent: r.absent };
    this.pages.set(pfn, entry);
    if (this.pages.size > this.maxPages) {
      const oldest = this.pages.keys().next().value as number;
      this.pages.delete(oldest);
    }
    return entry;
  }

  read(address: number, length: number): ReadResult {
    checkReadRequest(this.name, address, length);
    if (length > this.bypassBytes) return this.inner.read(address, length);
    const data = new Uint8Array(length);
    const absent: AbsentRange[] = [];
    const end = address + length;
    let cursor = address;
    while (cursor < end) {
      const pfn = Math.floor(cursor / PAGE);
      const inPage = cursor - pfn * PAGE;
      const take = Math.min(PAGE - inPage, end - cursor);
      const p = this.page(pfn);
      data.set(p.data.subarray(inPage, inPage + take), cursor - address);
      for (const a of p.absent) {
        const s = Math.max(a.start, cursor);
        const e = Math.min(a.start + a.length, cursor + take);
        if (e > s) pushAbsent(absent, s, e - s);
      }
      cursor += take;
    }
    return { data, absent };
  }

  /** Large reads (scans) go straight to the inner source's buffer; small ones through the cache. */
  readInto(address: number, target: Uint8Array): readonly AbsentRange[] {
    if (target.length > this.bypassBytes && this.inner.readInto) return this.inner.readInto(address, target);
    const r = this.read(address, target.length);
    target.set(r.data);
    return r.absent;
  }

  /** Drop the cached pages over [address, address + length): their copy proved stale (a page torn while live memory was read). */
  forget(address: number, length: number): void {
    for (let pfn = Math.floor(address / PAGE); pfn * PAGE < address + length; pfn++) this.pages.delete(pfn);
  }

  /** Drop every cached page (e.g. after the inner source changed: a live device). */
  clear(): void {
    this.pages.clear();
  }

  close(): void {
    this.pages.clear();
    this.inner.close();
  }
}

export function withPageCache(source: PhysicalSource, options?: PageCacheOptions): PageCachedSource {
  return new PageCachedSource(source, options);
}
