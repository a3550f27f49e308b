/**
 * The hex view's pages: 4 KiB reads through readMemory, fetched only when a row on screen (or just
 * beyond it) needs them, kept in a bounded LRU per space, and dropped with the space. A page that
 * failed to read keeps its error, so the view says why instead of asking again on every frame.
 */
import type { MemScopeApi, PageSpan, SpaceRef } from '../../../common/contract.js';
import { toHex } from './address.js';

export const PAGE = 4096;
const MAX_PAGES = 512;

export type Page =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array; readonly spans: readonly PageSpan[] }
  | { readonly kind: 'error'; readonly message: string };

export type ByteView = { readonly value: number } | { readonly unreadable: string } | null;

export const spaceKey = (s: SpaceRef): string => (s.kind === 'process' ? `process:${s.dtb}` : s.kind);

export class PageCache {
  private readonly pages = new Map<bigint, Page>();
  private readonly pending = new Set<bigint>();
  /** The DTB the engine translated through (shown in the view's header). */
  dtb: string | null = null;

  constructor(
    private readonly api: MemScopeApi,
    private readonly sessionId: string,
    readonly space: SpaceRef,
    private readonly onLoad: () => void,
  ) {}

  page(base: bigint): Page | undefined {
    const p = this.pages.get(base);
    if (p) { this.pages.delete(base); this.pages.set(base, p); }
    return p;
  }

  /** The byte at `a`: its value, why it is unreadable, or null while its page loads (and ask for it). */
  byte(a: bigint): ByteView {
    const base = a - (a % BigInt(PAGE));
    const p = this.pages.get(base);
    if (!p) { this.want(base); return null; }
    if (p.kind === 'error') return { unreadable: p.message };
    const off = Number(a - base);
    for (const s of p.spans) {
      if (off >= s.offset && off < s.offset + s.length) return s.readable ? { value: p.bytes[off]! } : { unreadable: `${s.status}: ${s.reason}` };
    }
    return { unreadable: 'not read' };
  }

  /** Ask for the pages of [start, end) not yet loaded or loading. */
  wantRange(start: bigint, end: bigint): void {
    for (let b = start - (start % BigInt(PAGE)); b < end; b += BigInt(PAGE)) this.want(b);
  }

  private want(base: bigint): void {
    if (this.pages.has(base) || this.pending.has(base)) return;
    this.pending.add(base);
    void this.api.readMemory({ sessionId: this.sessionId, space: this.space, address: toHex(base), length: PAGE }).then((r) => {
      this.pending.delete(base);
      if (r.ok) this.dtb = r.value.dtb;
      this.pages.set(base, r.ok ? { kind: 'bytes', bytes: r.value.bytes, spans: r.value.spans } : { kind: 'error', message: r.error.message });
      while (this.pages.size > MAX_PAGES) this.pages.delete(this.pages.keys().next().value!);
      this.onLoad();
    });
  }
}
