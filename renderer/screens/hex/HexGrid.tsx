/**
 * The hex widget: 16 bytes a row, offset column, ASCII column, over a space of up to 2^44 rows. It
 * never builds a tall element (browsers cap element heights near 33M px): it renders the rows that
 * fit, and a scroll position (the top row) maps wheel, keys and its own scrollbar to rows. It knows
 * `byteAt` (the bytes, or why unreadable, or loading), highlight and tooltip providers, and a
 * selection — nothing about structures.
 */
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type PointerEvent, type WheelEvent } from 'react';
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
}

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
  };

  const addrOfEvent = (e: PointerEvent<HTMLElement>): bigint | null => {
    const cell = (e.target as Element).closest<HTMLElement>('[data-i]');
    if (!cell) return null;
    return start + BigInt(Number(cell.dataset['i']));
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
  /** Why the `??` on screen are unreadable, said once under the bytes (each cell's tooltip says it too). */
  const reasons = new Set<string>();
  for (let r = 0; r < visible && top + r < p.rows; r++) {
    const rowAddr = p.addressOf(top + r);
    const hexCells = [];
    const asciiCells = [];
    for (let i = 0; i < BYTES_PER_ROW; i++) {
      const a = rowAddr + BigInt(i);
      const b = p.byteAt(a);
      const idx = r * BYTES_PER_ROW + i;
      const cls = classes[idx]!;
      if (b === null) {
        hexCells.push(<span key={i} data-i={idx} className={`hb loading${cls}`}>··</span>);
        asciiCells.push(<span key={i} data-i={idx} className={`ab loading${cls}`}> </span>);
      } else if ('unreadable' in b) {
        reasons.add(b.unreadable);
        hexCells.push(<span key={i} data-i={idx} className={`hb unreadable${cls}`} title={`unreadable: ${b.unreadable}`}>??</span>);
        asciiCells.push(<span key={i} data-i={idx} className={`ab unreadable${cls}`}>?</span>);
      } else {
        hexCells.push(<span key={i} data-i={idx} className={`hb${cls}`}>{HEX[b.value]}</span>);
        asciiCells.push(<span key={i} data-i={idx} className={`ab${cls}`}>{ascii(b.value)}</span>);
      }
    }
    rows.push(
      <div key={r} className="hex-row" role="row">
        <span className="hex-offset" role="rowheader">{formatRowAddress(rowAddr, p.virtual)}</span>
        <span className="hex-bytes" role="gridcell">{hexCells}</span>
        <span className="hex-ascii" role="gridcell">{asciiCells}</span>
      </div>,
    );
  }

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
        {reasons.size > 0 && (
          <p className="hex-reasons" role="note">?? = unreadable: {[...reasons].slice(0, 3).join('; ')}{reasons.size > 3 ? ` (and ${reasons.size - 3} more)` : ''}</p>
        )}
      </div>
      <div className="hex-track" onPointerDown={onTrack} onPointerMove={onTrack} aria-hidden="true">
        <div className="hex-thumb" style={{ top: `calc(${(thumbTop * 100).toFixed(4)}% - ${thumbTop * 24}px)` }} />
      </div>
    </div>
  );
}
