/**
 * The hex view's pages: 4 KiB pages of one space, fetched through readMemory only around what is on
 * screen, in aligned blocks (adjacent missing pages coalesced into one read, so a scroll costs one
 * round trip per block, not one per page), kept in a bounded LRU. One cache per (session, space),
 * kept across the view's mounts and places (Back lands on bytes already there). A page that failed to
 * read keeps its error, so the view says why instead of asking again on every frame.
 */
import type { MemScopeApi, PageSpan, SpaceRef } from '../../../common/contract.js';
import { toHex } from './address.js';

export const PAGE = 4096;
/** Pages fetched together beyond the screen: a block is asked for whole when any page of it is missing (32 KiB). */
const BLOCK_PAGES = 8;
const MAX_PAGES = 1024;
const TOP_OF_LOW_HALF = 2 ** 35; // page number of 0x800000000000
const BOTTOM_OF_HIGH_HALF = 0xffff_8000_0000_0n; // page number of 0xffff800000000000, as bigint

export type Page =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array; readonly spans: readonly PageSpan[] }
  | { readonly kind: 'error'; readonly message: string };

export type ByteView = { readonly value: number } | { readonly unreadable: string } | null;

export const spaceKey = (s: SpaceRef): string => (s.kind === 'process' ? `process:${s.dtb}` : s.kind);

/** The spans of `spans` (relative to a read's start) that cover [from, from + PAGE), made relative to `from`. */
function spansOfPage(spans: readonly PageSpan[], from: number): PageSpan[] {
  const out: PageSpan[] = [];
  for (const s of spans) {
    const a = Math.max(s.offset, from);
    const b = Math.min(s.offset + s.length, from + PAGE);
    if (a < b) out.push({ ...s, offset: a - from, length: b - a });
  }
  return out;
}

export class PageCache {
  private readonly pages = new Map<number, Page>();
  private readonly pending = new Set<number>();
  private readonly waiters = new Map<number, ((p: Page) => void)[]>();
  private readonly listeners = new Set<() => void>();
  /** Pages asked for and not yet sent: on screen first, then the margin (the server answers in order). */
  private queued: number[] = [];
  private queuedLater: number[] = [];
  /** The DTB the engine translated through (shown in the view's header). */
  dtb: string | null = null;

  constructor(
    private readonly api: MemScopeApi,
    private readonly sessionId: string,
    readonly space: SpaceRef,
    /** Bytes of physical memory (the last physical page a read may reach). */
    private readonly physicalSize: number,
  ) {}

  /** Be told when pages arrive; returns the unsubscribe. */
  subscribe(f: () => void): () => void {
    this.listeners.add(f);
    return () => { this.listeners.delete(f); };
  }

  /** The byte at `a`: its value, why it is unreadable, or null while its page loads (and ask for it). */
  byte(a: bigint): ByteView {
    const n = Number(a >> 12n);
    const p = this.pages.get(n);
    if (!p) { this.want(n); return null; }
    if (p.kind === 'error') return { unreadable: p.message };
    const off = Number(a & 0xfffn);
    for (const s of p.spans) {
      if (off >= s.offset && off < s.offset + s.length) return s.readable ? { value: p.bytes[off]! } : { unreadable: `${s.status}: ${s.reason}` };
    }
    return { unreadable: 'not read' };
  }

  /**
   * Ask for the pages of [start, end) and `margin` pages beyond either end (the next screens of a
   * scroll), whole blocks at a time; nothing on screen waits for the margin.
   */
  wantRange(start: bigint, end: bigint, margin = BLOCK_PAGES): void {
    const first = Number(start >> 12n);
    const last = Number((end - 1n) >> 12n);
    for (let n = first; n <= last; n++) this.want(n);
    const from = Math.floor(Math.max(0, first - margin) / BLOCK_PAGES) * BLOCK_PAGES;
    const to = Math.ceil((last + margin + 1) / BLOCK_PAGES) * BLOCK_PAGES;
    for (let n = from; n < to; n++) this.want(n, true);
  }

  /** The page holding `a`, once it is read (at once when it is here). */
  load(a: bigint): Promise<Page> {
    const n = Number(a >> 12n);
    const p = this.pages.get(n);
    if (p) return Promise.resolve(p);
    if (!this.inSpace(n)) {
      const why = this.space.kind === 'physical'
        ? `${toHex(a)} is past the end of physical memory (${toHex(BigInt(this.physicalSize))} bytes)`
        : `${toHex(a)} is non-canonical: no x64 address space maps it`;
      return Promise.resolve({ kind: 'error', message: why });
    }
    return new Promise<Page>((resolve) => {
      const w = this.waiters.get(n) ?? [];
      w.push(resolve);
      this.waiters.set(n, w);
      this.want(n);
    });
  }

  /** Whether page `n` lies in the space (inside the image; in a canonical half). */
  private inSpace(n: number): boolean {
    if (n < 0) return false;
    if (this.space.kind === 'physical') return n < Math.ceil(this.physicalSize / PAGE);
    return n < TOP_OF_LOW_HALF || BigInt(n) >= BOTTOM_OF_HIGH_HALF;
  }

  private want(n: number, later = false): void {
    if (this.pages.has(n) || this.pending.has(n) || !this.inSpace(n)) return;
    this.pending.add(n);
    if (this.queued.length === 0 && this.queuedLater.length === 0) queueMicrotask(() => this.flush());
    (later ? this.queuedLater : this.queued).push(n);
  }

  /** The pages on screen, then the margin's, each as one readMemory per run of adjacent pages. */
  private flush(): void {
    const now = this.queued;
    const later = this.queuedLater;
    this.queued = [];
    this.queuedLater = [];
    this.readRuns(now);
    this.readRuns(later);
  }

  /** One readMemory per run of adjacent pages (a run never leaves its canonical half or the image). */
  private readRuns(pages: readonly number[]): void {
    const q = [...new Set(pages)].sort((a, b) => a - b);
    let i = 0;
    while (i < q.length) {
      let j = i + 1;
      while (j < q.length && q[j] === q[j - 1]! + 1 && j - i < 256) j++;
      this.read(q[i]!, j - i);
      i = j;
    }
  }

  private read(first: number, count: number): void {
    const address = toHex(BigInt(first) * BigInt(PAGE));
    const length = this.space.kind === 'physical' ? Math.min(count * PAGE, this.physicalSize - first * PAGE) : count * PAGE;
    void this.api.readMemory({ sessionId: this.sessionId, space: this.space, address, length }).then((r) => {
      if (r.ok) this.dtb = r.value.dtb;
      for (let k = 0; k < count; k++) {
        const n = first + k;
        this.pending.delete(n);
        const page: Page = r.ok
          ? { kind: 'bytes', bytes: r.value.bytes.subarray(k * PAGE, (k + 1) * PAGE), spans: spansOfPage(r.value.spans, k * PAGE) }
          : { kind: 'error', message: r.error.message };
        this.pages.set(n, page);
        const w = this.waiters.get(n);
        if (w) { this.waiters.delete(n); for (const f of w) f(page); }
      }
      while (this.pages.size > MAX_PAGES) this.pages.delete(this.pages.keys().next().value!);
      for (const f of this.listeners) f();
    });
  }
}

/** The caches of the session's spaces (a handful: the view switches between a few). */
const caches = new Map<string, PageCache>();
const MAX_SPACES = 8;

export function pageCacheFor(api: MemScopeApi, sessionId: string, space: SpaceRef, physicalSize: number): PageCache {
  const key = `${sessionId}|${spaceKey(space)}`;
  let c = caches.get(key);
  if (c) { caches.delete(key); caches.set(key, c); return c; }
  c = new PageCache(api, sessionId, space, physicalSize);
  caches.set(key, c);
  while (caches.size > MAX_SPACES) caches.delete(caches.keys().next().value!);
  return c;
}
