/**
 * The hex widget: 16 bytes a row, offset column, ASCII column, over a space of up to 2^44 rows. It
 * never builds a tall element (browsers cap element heights near 33M px): it renders the rows that
 * fit, and a scroll position (the top row) maps wheel, keys and its own scrollbar to rows. It knows
 * `byteAt` (the bytes, or why unreadable, or loading), highlight and tooltip providers, and a
 * selection — nothing about structures. A row is a few text runs (bytes of one look share a span),
 * not 32 elements, and a row whose text and looks did not change is not rendered again: a scroll
 * frame touches a few hundred nodes, not thousands.
 */
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent, type WheelEvent } from 'react';
import { BYTES_PER_ROW, formatRowAddress } from './address.js';
import type { ByteView } from './page-cache.js';
import type { HighlightProvider, Selection, TooltipProvider } from './providers.js';

export const ROW_HEIGHT = 18;

export interface HexGridProps {
  readonly label: string;
  readonly rows: number;
  readonly top: number;
  readonly onTop: (row: number) => void;
  readonly addressOf: (row: number) => bigint;
  readonly virtual: boolean;
  readonly byteAt: (a: bigint) => ByteView;
  /** Called with the address range on screen (the view fetches those pages). */
  readonly onVisible: (start: bigint, end: bigint) => void;
  readonly highlights: readonly HighlightProvider[];
  readonly tooltips: readonly TooltipProvider[];
  readonly selection: Selection | null;
  readonly onSelect: (s: Selection | null) => void;
  readonly onHover: (a: bigint | null) => void;
  /** Re-render when this changes (pages arrived). */
  readonly version: number;
  /** Marks on the scrollbar (fractions of the whole space, from < to): where mapped memory is. */
  readonly marks?: readonly { readonly from: number; readonly to: number }[];
  /** Keys the grid does not handle itself (the view's own: next / previous mapped range). */
  readonly onOtherKey?: (e: KeyboardEvent<HTMLDivElement>) => void;
}

/** A run of bytes of one look in one half of a row: `n` bytes from byte `i` of the screen. */
interface Run { readonly cls: string; readonly text: string; readonly i: number; readonly n: number; readonly title: string | undefined }
interface RowModel { readonly sig: string; readonly addr: string; readonly hex: readonly Run[]; readonly ascii: readonly Run[] }

/** One row; rendered again only when its text or looks changed (the signature). */
const Row = memo(function Row({ m }: { m: RowModel }) {
  return (
    <div className="hex-row" role="row">
      <span className="hex-offset" role="rowheader">{m.addr}</span>
      <span className="hex-bytes" role="gridcell">{m.hex.map((r) => <span key={r.i} data-i={r.i} data-n={r.n} className={r.cls} title={r.title}>{r.text}</span>)}</span>
      <span className="hex-ascii" role="gridcell">{m.ascii.map((r) => <span key={r.i} data-i={r.i} data-n={r.n} className={r.cls} title={r.title}>{r.text}</span>)}</span>
    </div>
  );
}, (a, b) => a.m.sig === b.m.sig);

type Look = { kind: 'loading' } | { kind: 'unreadable'; why: string } | { kind: 'byte'; value: number };

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const ascii = (b: number): string => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.');

export function HexGrid(p: HexGridProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [visible, setVisible] = useState(24);
  const dragging = useRef(false);
  const hoverRef = useRef<bigint | null>(null);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = (): void => setVisible(Math.max(1, Math.floor((el.clientHeight - 4) / ROW_HEIGHT)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const maxTop = Math.max(0, p.rows - visible);
  const top = Math.min(Math.max(0, p.top), maxTop);
  const start = p.addressOf(top);
  const end = p.addressOf(Math.min(p.rows - 1, top + visible - 1)) + BigInt(BYTES_PER_ROW);
  useEffect(() => { p.onVisible(start, end); });

  const scrollBy = (rows: number): void => p.onTop(Math.min(Math.max(0, top + rows), maxTop));
  const onWheel = (e: WheelEvent<HTMLDivElement>): void => {
    const rows = Math.round(e.deltaY / ROW_HEIGHT) || Math.sign(e.deltaY);
    scrollBy(rows);
  };
  const onKey = (e: KeyboardEvent<HTMLDivElement>): void => {
    const step: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: visible - 1, PageUp: -(visible - 1) };
    if (e.key in step) { e.preventDefault(); scrollBy(step[e.key]!); }
    else if (e.key === 'Home' && e.ctrlKey) { e.preventDefault(); p.onTop(0); }
    else if (e.key === 'End' && e.ctrlKey) { e.preventDefault(); p.onTop(maxTop); }
    else p.onOtherKey?.(e);
  };

  /** The byte under the pointer: its run, and the share of the run's width left of the pointer (bytes are equal widths). */
  const addrOfEvent = (e: PointerEvent<HTMLElement>): bigint | null => {
    const cell = (e.target as Element).closest<HTMLElement>('[data-i]');
    if (!cell) return null;
    const n = Number(cell.dataset['n'] ?? 1);
    const box = cell.getBoundingClientRect();
    const k = box.width > 0 ? Math.min(n - 1, Math.max(0, Math.floor(((e.clientX - box.left) / box.width) * n))) : 0;
    return start + BigInt(Number(cell.dataset['i']) + k);
  };
  const onDown = (e: PointerEvent<HTMLDivElement>): void => {
    const a = addrOfEvent(e);
    if (a === null) return;
    dragging.current = true;
    p.onSelect(e.shiftKey && p.selection ? { anchor: p.selection.anchor, focus: a } : { anchor: a, focus: a });
  };
  const onMove = (e: PointerEvent<HTMLDivElement>): void => {
    const a = addrOfEvent(e);
    if (a === null && hoverRef.current === null) return;
    if (a !== null) tipFor((e.target as Element).closest<HTMLElement>('[data-i]')!, a);
    if (a !== hoverRef.current) { hoverRef.current = a; p.onHover(a); }
    if (dragging.current && a !== null && p.selection) p.onSelect({ anchor: p.selection.anchor, focus: a });
  };
  const onUp = (): void => { dragging.current = false; };

  // the highlights on screen, asked once per render and spread into one class string per byte on
  // screen (numbers relative to the first byte: no bigint work per cell)
  const span = visible * BYTES_PER_ROW;
  const classes: string[] = new Array<string>(span).fill('');
  for (const h of p.highlights.flatMap((hp) => hp(start, end))) {
    const from = h.start <= start ? 0 : Number(h.start - start);
    const to = h.end >= end ? span : Number(h.end - start);
    for (let i = from; i < Math.min(to, span); i++) classes[i] += ` ${h.className}`;
  }
  // tooltips are asked on hover only (the title of the cell under the pointer)
  const tipFor = (el: HTMLElement, a: bigint): void => {
    if (el.classList.contains('unreadable') || el.classList.contains('loading')) return;
    let tip = '';
    for (const t of p.tooltips) { const s2 = t(a); if (s2) { tip = s2; break; } }
    if (el.title !== tip) el.title = tip;
  };

  const rows = [];
  /** Why the `??` on screen are unreadable, said once under the bytes (each run's tooltip says it too). */
  const reasons = new Set<string>();
  for (let r = 0; r < visible && top + r < p.rows; r++) {
    const rowAddr = p.addressOf(top + r);
    const looks: Look[] = [];
    for (let i = 0; i < BYTES_PER_ROW; i++) {
      const b = p.byteAt(rowAddr + BigInt(i));
      looks.push(b === null ? { kind: 'loading' } : 'unreadable' in b ? { kind: 'unreadable', why: b.unreadable } : { kind: 'byte', value: b.value });
      if (b !== null && 'unreadable' in b) reasons.add(b.unreadable);
    }
    const hex: Run[] = [];
    const asc: Run[] = [];
    let sig = '';
    // runs of one look; a run never crosses the middle of the row (the wider gap after byte 8)
    for (let i = 0; i < BYTES_PER_ROW;) {
      const idx = r * BYTES_PER_ROW + i;
      const l = looks[i]!;
      const cls = classes[idx]!;
      let j = i + 1;
      const same = (x: Look): boolean => x.kind === l.kind && (x.kind !== 'unreadable' || l.kind !== 'unreadable' || x.why === l.why);
      while (j < BYTES_PER_ROW && j !== BYTES_PER_ROW / 2 && classes[r * BYTES_PER_ROW + j] === cls && same(looks[j]!)) j++;
      let h = '';
      let a = '';
      for (let k = i; k < j; k++) {
        const x = looks[k]!;
        h += x.kind === 'loading' ? '·· ' : x.kind === 'unreadable' ? '?? ' : `${HEX[x.value]} `;
        a += x.kind === 'loading' ? ' ' : x.kind === 'unreadable' ? '?' : ascii(x.value);
      }
      const state = l.kind === 'loading' ? ' loading' : l.kind === 'unreadable' ? ' unreadable' : '';
      const mid = j === BYTES_PER_ROW / 2 ? ' mid' : '';
      const title = l.kind === 'unreadable' ? `unreadable: ${l.why}` : undefined;
      hex.push({ cls: `hb${state}${cls}${mid}`, text: h, i: idx, n: j - i, title });
      asc.push({ cls: `ab${state}${cls}`, text: a, i: idx, n: j - i, title });
      sig += `${state}${cls}${mid}|${h}|${title ?? ''};`;
      i = j;
    }
    const addr = formatRowAddress(rowAddr, p.virtual);
    rows.push(<Row key={r} m={{ sig: `${addr}:${r}:${sig}`, addr, hex, ascii: asc }} />);
  }

  // where mapped memory is, on the track (the same elements every frame of a scroll)
  const markEls = useMemo(() => p.marks?.map((m, i) => <div key={i} className="hex-mark" style={{ top: `${(m.from * 100).toFixed(4)}%`, height: `max(2px, ${((m.to - m.from) * 100).toFixed(4)}%)` }} />), [p.marks]);

  // the scrollbar: a track whose thumb stands for the top row's place in the whole space
  const thumbTop = maxTop === 0 ? 0 : top / maxTop;
  const onTrack = (e: PointerEvent<HTMLDivElement>): void => {
    if (e.buttons !== 1) return;
    const box = e.currentTarget.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (e.clientY - box.top) / box.height));
    p.onTop(Math.round(f * maxTop));
  };

  return (
    <div className="hex-grid-wrap">
      <div className="hex-grid-col">
        <div
          ref={ref} className="hex-grid mono" role="grid" aria-label={p.label} tabIndex={0}
          onWheel={onWheel} onKeyDown={onKey} onPointerDown={onDown} onPointerMove={onMove} onPointerUp={onUp}
          onPointerLeave={() => { hoverRef.current = null; p.onHover(null); dragging.current = false; }}
        >
          {rows}
        </div>
        {reasons.size > 0 ? (
          <p className="hex-reasons" role="note" title={[...reasons].join('\n')}>?? = unreadable: {[...reasons].slice(0, 3).join('; ')}{reasons.size > 3 ? ` (and ${reasons.size - 3} more)` : ''}</p>
        ) : <p className="hex-reasons" aria-hidden="true">{'\u00a0'}</p>}
      </div>
      <div className="hex-track" onPointerDown={onTrack} onPointerMove={onTrack} aria-hidden="true">
        {markEls}
        <div className="hex-thumb" style={{ top: `calc(${(thumbTop * 100).toFixed(4)}% - ${thumbTop * 24}px)` }} />
      </div>
    </div>
  );
}
