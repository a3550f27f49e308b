/**
 * The process table's columns: identity (PID, PPID, name, EPROCESS address), one tick per psxview source
 * (its tooltip says what the source saw), process details, and the verdict (status word, then why).
 */
import { createColumnHelper } from '@tanstack/react-table';
import { PSXVIEW_SOURCES, type ImageTime, type ProcessStatus, type PsxSource } from '../../common/contract.js';
import type { ProcessNode } from '../store/process-tree.js';
import { againstCapture } from './capture-time.js';
import { dash } from './format.js';

const col = createColumnHelper<ProcessNode>();

export interface ColumnMeta {
  readonly label: string;
  /** Pixels; a `grow` column takes what the window has left beyond this minimum. */
  readonly width: number;
  readonly grow?: boolean;
  readonly align?: 'right' | 'center';
  readonly mono?: boolean;
  /** The cell's content. The table calls this straight from the node, not through react-table's cell
   *  objects: those are built and cached per row on first render, so a scroll through 10,000 rows would
   *  leave 200,000 of them on the heap (Chromium's scavenges then stalled scroll frames). */
  readonly render: (node: ProcessNode, depth: number) => React.ReactNode;
  /** The cell's box in a row (flex: fixed width, or grow from a minimum): one object per column, so a
   *  re-rendered cell never rewrites its style. */
  readonly style: React.CSSProperties;
  /** The column's sort order over nodes (nulls last either way); shown-rows.ts applies it. */
  readonly compare: (a: ProcessNode, b: ProcessNode) => number;
  /** The cell's tooltip. ProcessTable sets it when the pointer comes over the cell, not on every row it
   *  renders: ten long unique strings per row handed to the DOM on each scroll frame made V8's external
   *  string table the longest part of its GC pauses (20-40 ms, in Chromium traces). */
  readonly tooltip?: (node: ProcessNode, time: ImageTime | null) => string | null | undefined;
  /** The cell's class names, with and without clipping (one string per column, not built per cell). */
  readonly cellClass: string;
  readonly clipClass: string;
  /** Whether the cell's content surely fits its box, so it needs no clip. A clip (overflow: hidden, for
   *  the ellipsis) is a paint property node of its own: ~600 of them in a window of rows made Chromium's
   *  layerization and paint about 1.5 ms of every scroll frame, a fifth of the frame, in traces. */
  readonly fits: (content: React.ReactNode) => boolean;
}

/** Monospace advance as a share of the font size: 0.6 em for DejaVu Sans Mono, Cascadia Mono, SF Mono
 *  and Consolas (0.55), rounded up so the estimate errs towards clipping. */
const MONO_ADVANCE_EM = 0.62;
const MONO_FONT_PX = 12.5; // styles.css .mono
const CELL_PADDING_PX = 12; // styles.css .cell, both sides

type SortValue = string | number | boolean | null;

/** Nulls last in either direction; numbers numerically; strings by code unit (addresses are fixed-width hex). */
const nullsLast = (x: SortValue, y: SortValue): number => {
  if (x === y) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  return x < y ? -1 : 1;
};

export const STATUS_RANK: Record<ProcessStatus, number> = { hidden: 0, suspicious: 1, unchecked: 2, exited: 3, remnant: 4, normal: 5 };

const SOURCE_LABEL: Record<PsxSource, string> = { pslist: 'pslist', psscan: 'psscan', thrdscan: 'thrd', cidtable: 'cid', csrss: 'csrss', session: 'sess' };

/** ISO 8601 to the second for the cell (the full value, milliseconds included, is in the title and the export). */
const shortTime = (iso: string | null): React.ReactNode => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '-');
const SOURCE_TITLE: Record<PsxSource, string> = {
  pslist: 'pslist: the active process list (PsActiveProcessHead)',
  psscan: 'psscan: a pool scan of all physical memory for EPROCESS allocations',
  thrdscan: 'thrdscan: a pool scan for ETHREADs, grouped by owning process',
  cidtable: 'cidtable: the client ID handle table (PspCidTable)',
  csrss: 'csrss: process handles held by csrss.exe',
  session: 'session: the session process lists (MM_SESSION_SPACE)',
};

/** One column: its sort value, its header, its layout and how its cell shows that value. The table
 *  sorts and renders from the node itself (shown-rows.ts, ProcessTable), not through react-table's
 *  per-row objects, so no value or cell is cached per row. */
function column<V extends SortValue>(
  id: string,
  header: string | (() => React.ReactNode),
  value: (n: ProcessNode) => V,
  meta: Omit<ColumnMeta, 'render' | 'style' | 'compare' | 'cellClass' | 'clipClass' | 'fits'> & { readonly fits?: ColumnMeta['fits'] },
  show: (v: V, n: ProcessNode, depth: number) => React.ReactNode,
  compare: (a: ProcessNode, b: ProcessNode) => number = (a, b) => nullsLast(value(a), value(b)),
) {
  const style = { flex: `${meta.grow ? 1 : 0} 0 ${meta.width}px` };
  const cellClass = ['cell', meta.align ? `align-${meta.align}` : '', meta.mono ? 'mono' : ''].filter(Boolean).join(' ');
  // A monospace text fits when its characters do; anything else (proportional text, elements) clips.
  const fitChars = meta.mono && !meta.grow ? Math.floor((meta.width - CELL_PADDING_PX) / (MONO_FONT_PX * MONO_ADVANCE_EM)) : -1;
  const fits = meta.fits ?? ((c: React.ReactNode): boolean => typeof c === 'string' && c.length <= fitChars);
  const full: ColumnMeta = { ...meta, style, compare, cellClass, clipClass: `${cellClass} clip`, fits, render: (n, depth) => show(value(n), n, depth) };
  return col.accessor(value, { id, header, meta: full });
}

const plain = (v: string | number | null): React.ReactNode => dash(v);

/** A source's tick: seen, not seen, or not checked (null: a cancelled or running scan never got to it). */
const TICK = {
  seen: { word: 'seen', glyph: '✓', className: 'tick seen' },
  unseen: { word: 'not seen', glyph: '·', className: 'tick unseen' },
  unchecked: { word: 'not checked', glyph: '?', className: 'tick unchecked' },
} as const;
const tickOf = (seen: boolean | null) => TICK[seen === null ? 'unchecked' : seen ? 'seen' : 'unseen'];

function sourceColumn(source: PsxSource) {
  return column(source, () => <span title={SOURCE_TITLE[source]}>{SOURCE_LABEL[source]}</span>, (n) => n.row.psxview[source],
    { label: SOURCE_TITLE[source], width: 38, align: 'center', fits: () => true, tooltip: (n) => n.row.evidence[source] ?? `${source}: ${tickOf(n.row.psxview[source]).word}` },
    // One element per tick (a row has six): role img carries the spoken name, the glyph is its picture
    // (one glyph in a 38 px cell: it always fits).
    (seen) => { const t = tickOf(seen); return <span role="img" aria-label={`${source}: ${t.word}`} className={t.className}>{t.glyph}</span>; });
}

/** Widths: the default columns (PID … Exited) add up to 1256 px, so a 1280-px window shows every header
 *  and the verdict's status word with its first clause (the whole verdict is the cell's tooltip). */

/** The verdict after its status word (the sentence starts with the word, which the cell shows as a badge). */
const reasonOf = (verdict: string, status: ProcessStatus): string => (verdict.startsWith(`${status}: `) ? verdict.slice(status.length + 2) : verdict);

export const columns = [
  column('pid', 'PID', (n) => n.row.psxview.pid, { label: 'PID', width: 60, align: 'right', mono: true }, plain),
  column('ppid', 'PPID', (n) => n.row.process?.ppid ?? null, { label: 'PPID', width: 52, align: 'right', mono: true }, plain),
  column('name', 'Name', (n) => n.row.psxview.name, { label: 'Name', width: 124, tooltip: (n) => n.row.process?.imagePath }, (name, _n, depth) => (
    <span className="name-cell" style={{ paddingLeft: Math.min(depth, 16) * 14 }}>
      {depth > 0 && <span className="tree-mark" aria-hidden="true">└ </span>}{dash(name)}
    </span>
  )),
  column('verdict', 'Verdict', (n) => n.row.psxview.verdict, { label: 'Verdict', width: 280, grow: true, tooltip: (n) => n.row.psxview.verdict }, (_v, n) => (
    <span className="verdict">
      <span className={`status-word status-${n.row.status}`}>{n.row.status}</span>
      <span className="verdict-reason">{reasonOf(n.row.psxview.verdict, n.row.status)}</span>
    </span>
  // Most alarming status first, then by the reason's text.
  ), (a, b) => STATUS_RANK[a.row.status] - STATUS_RANK[b.row.status] || nullsLast(a.row.psxview.verdict, b.row.psxview.verdict)),
  ...PSXVIEW_SOURCES.map(sourceColumn),
  column('offset', 'EPROCESS', (n) => n.row.psxview.offset, { label: 'EPROCESS address', width: 152, mono: true, tooltip: (n) => (n.row.psxview.offset ? null : `not mapped in kernel space; physical ${n.row.process?.physicalOffset ?? 'unknown'}`) },
    (offset) => offset ?? <span className="muted">unmapped</span>),
  column('threads', 'Thr', (n) => n.row.process?.threads ?? null, { label: 'Threads', width: 40, align: 'right', mono: true }, plain),
  column('createTime', 'Created (UTC)', (n) => n.row.process?.createTime ?? null, { label: 'Created (UTC)', width: 160, mono: true, tooltip: (n, time) => againstCapture(n.row.process?.createTime, time)?.text }, shortTime),
  column('exitTime', 'Exited (UTC)', (n) => n.row.psxview.exitTime, { label: 'Exited (UTC)', width: 160, mono: true, tooltip: (n, time) => againstCapture(n.row.psxview.exitTime, time)?.text }, shortTime),
  column('sessionId', 'Sess', (n) => n.row.process?.sessionId ?? null, { label: 'Session ID', width: 48, align: 'right', mono: true }, plain),
  column('wow64', 'WoW64', (n) => n.row.process?.wow64 ?? null, { label: 'WoW64 (32-bit)', width: 56, align: 'center' }, (v) => dash(v === null ? null : v ? 'yes' : 'no')),
  column('physicalOffset', 'Physical', (n) => n.row.process?.physicalOffset ?? null, { label: 'EPROCESS physical address', width: 120, mono: true }, plain),
  column('dtb', 'DirBase', (n) => n.row.process?.dtb ?? null, { label: 'DirectoryTableBase', width: 110, mono: true }, plain),
  column('imagePath', 'Image path', (n) => n.row.process?.imagePath ?? null, { label: 'Image path', width: 260, tooltip: (n) => n.row.process?.imagePath }, plain),
  column('commandLine', 'Command line', (n) => n.row.process?.commandLine ?? null, { label: 'Command line', width: 300, tooltip: (n) => n.row.process?.commandLine }, plain),
];

/** Columns the user can hide (identity and verdict always show). */
export const CHOOSABLE = columns.map((c) => c.id!).filter((id) => !['pid', 'name', 'verdict'].includes(id));

export const metaOf = (c: { columnDef: { meta?: unknown } }): ColumnMeta => c.columnDef.meta as ColumnMeta;
