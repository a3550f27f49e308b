/**
 * The Timeline tab: every process as a bar from create to exit (or to the capture time), on a UTC time
 * axis (d3-scale) that zooms (Ctrl+wheel, + / −) and pans (drag, Shift+wheel, ← / →). Rows are
 * virtualized (only the visible ~40 are in the DOM), so 10,000 processes draw like 40. Status is in
 * words on every label and reinforced by colour; undated processes have their own lane; implausible
 * times are flagged. An incident time (typed, or `I` at the selected process's start) highlights the
 * processes created within the chosen window. A bar selects its process in the shared selection (the
 * table and details follow), and a selection made elsewhere scrolls here.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { scaleUtc } from 'd3-scale';
import { useEffect, useMemo, useRef, useState, type PointerEvent as ReactPointerEvent, type WheelEvent as ReactWheelEvent } from 'react';
import { DetailsPanel } from '../processes/DetailsPanel.js';
import { useApp } from '../../store/context.js';
import { relativeToCapture } from '../../components/capture-time.js';
import { buildTimeline, createdNear, describeBar, type Bar } from './timeline-model.js';

export const TL_ROW_HEIGHT = 22;
const LABEL_WIDTH = 230;
const WINDOWS: readonly [string, number][] = [['±1 min', 60_000], ['±5 min', 300_000], ['±15 min', 900_000], ['±1 h', 3_600_000], ['±6 h', 21_600_000]];
const MIN_SPAN_MS = 1000;
/** Room (px) the end label needs beside its bar. */
const END_ROOM = 190;

type Line = { kind: 'dated'; bar: Bar } | { kind: 'undated-head'; count: number } | { kind: 'undated'; bar: Bar };

function parseIncident(text: string): number | null {
  const t = text.trim();
  if (!t) return null;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`); // a time without a zone is UTC, as every time here
  return Number.isNaN(ms) ? null : ms;
}

export function TimelineScreen() {
  const rows = useApp((s) => s.rows);
  const order = useApp((s) => s.order);
  const time = useApp((s) => s.session?.time);
  const selectedKey = useApp((s) => s.ui.selectedKey);
  const setUi = useApp((s) => s.setUi);
  const data = useMemo(() => buildTimeline(rows, order, time), [rows, order, time]);

  const lines = useMemo<Line[]>(() => [
    ...data.dated.map((bar) => ({ kind: 'dated' as const, bar })),
    ...(data.undated.length ? [{ kind: 'undated-head' as const, count: data.undated.length }, ...data.undated.map((bar) => ({ kind: 'undated' as const, bar }))] : []),
  ], [data]);

  const [view, setView] = useState<readonly [number, number]>(data.domain);
  const domainKey = `${data.domain[0]}:${data.domain[1]}`;
  const fitted = useRef(domainKey);
  useEffect(() => { // a new image (or the scan widening the extent) fits the view again
    if (fitted.current !== domainKey) { fitted.current = domainKey; setView(data.domain); }
  }, [domainKey, data.domain]);

  const [incidentText, setIncidentText] = useState('');
  const [windowMs, setWindowMs] = useState(300_000);
  const incident = parseIncident(incidentText);
  const near = useMemo(() => createdNear(data.dated, incident, windowMs), [data.dated, incident, windowMs]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(200, el.clientWidth - LABEL_WIDTH - 8)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const x = useMemo(() => scaleUtc().domain([new Date(view[0]), new Date(view[1])]).range([0, width]), [view, width]);
  const ticks = x.ticks(Math.max(2, Math.floor(width / 110)));
  const tickFormat = x.tickFormat();

  // initialRect: the first commit already draws a screenful of rows (not an empty frame before the box is measured)
  const virtualizer = useVirtualizer({ count: lines.length, getScrollElement: () => scrollRef.current, estimateSize: () => TL_ROW_HEIGHT, overscan: 10, initialRect: { width: 1000, height: 600 } });
  const selectedIndex = useMemo(() => lines.findIndex((l) => l.kind !== 'undated-head' && l.bar.key === selectedKey), [lines, selectedKey]);
  useEffect(() => { if (selectedIndex >= 0) virtualizer.scrollToIndex(selectedIndex, { align: 'auto' }); }, [selectedIndex, virtualizer]);

  const zoomAt = (factor: number, atPx: number): void => {
    setView(([a, b]) => {
      const at = a + ((b - a) * atPx) / width;
      const span = Math.max(MIN_SPAN_MS, (b - a) * factor);
      const frac = (at - a) / (b - a);
      return [at - span * frac, at - span * frac + span];
    });
  };
  const pan = (px: number): void => setView(([a, b]) => { const d = ((b - a) * px) / width; return [a + d, b + d]; });

  const onWheel = (e: ReactWheelEvent<HTMLDivElement>): void => {
    const plotX = e.clientX - e.currentTarget.getBoundingClientRect().left - LABEL_WIDTH;
    if (e.ctrlKey || e.metaKey) { e.preventDefault(); zoomAt(e.deltaY > 0 ? 1.25 : 0.8, Math.min(width, Math.max(0, plotX))); }
    else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) pan(e.deltaX || e.deltaY);
  };
  const drag = useRef<{ x: number; moved: boolean } | null>(null);
  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>): void => { if (e.button === 0) drag.current = { x: e.clientX, moved: false }; };
  const onPointerMove = (e: ReactPointerEvent<HTMLDivElement>): void => {
    const d = drag.current;
    if (!d || !(e.buttons & 1)) return;
    const dx = e.clientX - d.x;
    if (!d.moved && Math.abs(dx) < 4) return;
    d.moved = true;
    d.x = e.clientX;
    pan(-dx);
  };
  const selectBar = (key: string): void => { if (!drag.current?.moved) setUi({ selectedKey: key }); };

  const onKey = (e: React.KeyboardEvent<HTMLDivElement>): void => {
    const k = e.key;
    if (k === '+' || k === '=') zoomAt(0.8, width / 2);
    else if (k === '-' || k === '_') zoomAt(1.25, width / 2);
    else if (k === '0') setView(data.domain);
    else if (k === 'ArrowLeft') pan(-width / 10);
    else if (k === 'ArrowRight') pan(width / 10);
    else if (k === 'ArrowDown' || k === 'ArrowUp') {
      const step = k === 'ArrowDown' ? 1 : -1;
      let i = selectedIndex;
      do i += step; while (i >= 0 && i < lines.length && lines[i]!.kind === 'undated-head');
      const l = lines[i];
      if (l && l.kind !== 'undated-head') setUi({ selectedKey: l.bar.key });
    } else if (k === 'i' || k === 'I') {
      const l = lines[selectedIndex];
      if (l && l.kind === 'dated' && l.bar.start !== null) setIncidentText(new Date(l.bar.start).toISOString());
    } else if (k === '[' || k === ']') {
      if (incident !== null) setIncidentText(new Date(incident + (k === ']' ? windowMs : -windowMs)).toISOString());
    } else return;
    e.preventDefault();
  };

  const px = (t: number): number => x(new Date(t));
  const endText = (b: Bar): string => (b.running ? '' : b.end !== null ? `exited ${relativeToCapture(b.end, data.capture)}` : '');
  const marker = (t: number | null, cls: string, label: string) => (t === null || px(t) < 0 || px(t) > width ? null : (
    <div className={`tl-marker ${cls}`} style={{ left: LABEL_WIDTH + px(t) }} title={`${label} ${new Date(t).toISOString()}`}><span>{label}</span></div>
  ));

  return (
    <div className="timeline-screen">
      <section className="timeline-main" aria-label="Process timeline">
        <div className="tl-controls">
          <label className="tl-incident">
            <span className="field-name">Incident time (UTC)</span>
            <input
              type="text" className="mono" placeholder="2023-01-12T17:40:00Z" value={incidentText} spellCheck={false}
              aria-invalid={incidentText.trim() !== '' && incident === null}
              onChange={(e) => setIncidentText(e.target.value)}
            />
          </label>
          <label>
            <span className="field-name">Window</span>
            <select value={windowMs} onChange={(e) => setWindowMs(Number(e.target.value))}>
              {WINDOWS.map(([name, ms]) => <option key={ms} value={ms}>{name}</option>)}
            </select>
          </label>
          <span className="tl-near" role="status">
            {incidentText.trim() === '' ? 'Set an incident time (or select a process and press I)'
              : incident === null ? 'Not a time: use ISO 8601, e.g. 2023-01-12T17:40:00Z'
                : `${near.size} process${near.size === 1 ? '' : 'es'} created within ${WINDOWS.find(([, ms]) => ms === windowMs)?.[0] ?? ''} of ${new Date(incident).toISOString()} (${relativeToCapture(incident, data.capture)})`}
          </span>
          <span className="tl-zoom">
            <button type="button" onClick={() => zoomAt(0.8, width / 2)} aria-label="Zoom in">+</button>
            <button type="button" onClick={() => zoomAt(1.25, width / 2)} aria-label="Zoom out">−</button>
            <button type="button" onClick={() => setView(data.domain)}>Fit</button>
          </span>
        </div>
        <div className="tl-summary muted">
          {data.dated.length} dated, {data.undated.length} undated ·
          {data.boot !== null ? ` booted ${new Date(data.boot).toISOString()}` : ' boot time unknown'} ·
          {data.capture !== null ? ` captured ${new Date(data.capture).toISOString()}` : ' capture time unknown'} ·
          {' '}Ctrl+wheel or +/− zoom, drag or ←/→ pan, ↑/↓ select, I sets the incident, [ ] move it
        </div>
        <div className="tl-axis" style={{ paddingLeft: LABEL_WIDTH }}>
          <svg width={width} height={22} aria-hidden="true">
            {ticks.map((t) => (
              <g key={t.getTime()} transform={`translate(${x(t)},0)`}>
                <line y1={16} y2={22} stroke="currentColor" />
                <text y={12} textAnchor="middle">{tickFormat(t)}</text>
              </g>
            ))}
          </svg>
        </div>
        <div className="tl-viewport">
          <div
            ref={scrollRef} className="tl-body" tabIndex={0} role="grid" aria-label="Processes on the time axis" aria-rowcount={lines.length}
            onWheel={onWheel} onPointerDown={onPointerDown} onPointerMove={onPointerMove} onPointerUp={() => { setTimeout(() => { drag.current = null; }, 0); }} onKeyDown={onKey}
          >
            <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
              {virtualizer.getVirtualItems().map((vi) => {
                const l = lines[vi.index]!;
                if (l.kind === 'undated-head') {
                  return <div key="undated-head" className="tl-lane-head" style={{ top: vi.start }} role="row">Undated: {l.count} process{l.count === 1 ? '' : 'es'} with no readable create time (kept, not placed on the axis)</div>;
                }
                const b = l.bar;
                const x0 = b.start === null ? 0 : Math.max(-4, px(b.start));
                const x1 = b.start === null ? 0 : Math.min(width + 4, Math.max(x0 + 3, px(b.end ?? b.start)));
                const visible = b.start !== null && x1 >= 0 && x0 <= width;
                const cls = `tl-row status-row-${b.status}${b.key === selectedKey ? ' selected' : ''}${near.has(b.key) ? ' near' : ''}${b.implausible ? ' implausible' : ''}`;
                const label = describeBar(b, data.capture);
                return (
                  <div key={b.key} className={cls} style={{ top: vi.start }} role="row" aria-rowindex={vi.index + 1} aria-selected={b.key === selectedKey} aria-label={label} data-key={b.key}>
                    <div className="tl-label" onClick={() => selectBar(b.key)} title={label}>
                      {b.status !== 'normal' && <span className={`status-word status-${b.status}`}>{b.status}</span>}
                      <span className="tl-name">{b.name}</span> <span className="mono muted">{b.pid ?? '?'}</span>
                      {b.implausible && <span className="tl-flag" title={`implausible: ${b.implausible}`}>⚠ implausible</span>}
                    </div>
                    <div className="tl-plot">
                      {b.start === null ? <span className="tl-undated">undated</span> : visible && (
                        <>
                          <div
                            className={`tl-bar tl-bar-${b.status}${b.running ? ' running' : ''}`} role="button" aria-label={`bar: ${label}`}
                            data-x0={Math.round(x0)} data-x1={Math.round(x1)}
                            style={{ left: x0, width: x1 - x0 }} onClick={() => selectBar(b.key)}
                          />
                          {endText(b) !== '' && (x1 + END_ROOM < width || x0 > END_ROOM) && (
                            // right of the bar when there is room, else left of it (a bar ending at capture)
                            <span className="tl-end" style={x1 + END_ROOM < width ? { left: x1 + 6 } : { left: x0 - 6, transform: 'translateX(-100%)' }}>{endText(b)}</span>
                          )}
                        </>
                      )}
                    </div>
                  </div>
                );
              })}
            </div>
          </div>
          <div className="tl-overlay" aria-hidden="true">
            {incident !== null && (
              <div className="tl-window" style={{ left: LABEL_WIDTH + Math.max(0, px(incident - windowMs)), width: Math.max(0, Math.min(width, px(incident + windowMs)) - Math.max(0, px(incident - windowMs))) }} />
            )}
            {marker(data.boot, 'boot', 'boot')}
            {marker(data.capture, 'capture', 'capture')}
            {marker(incident, 'incident', 'incident')}
          </div>
        </div>
      </section>
      <DetailsPanel />
    </div>
  );
}
