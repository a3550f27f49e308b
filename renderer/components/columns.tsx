/**
 * The process table's columns: identity (PID, PPID, name, EPROCESS address), one tick per psxview source
 * (its tooltip says what the source saw), process details, and the verdict (status word, then why).
 */
import { createColumnHelper, type ColumnDef, type SortingFn } from '@tanstack/react-table';
import { PSXVIEW_SOURCES, type ProcessStatus, type PsxSource } from '../../common/contract.js';
import type { ProcessNode } from '../store/process-tree.js';
import { dash } from './format.js';

const col = createColumnHelper<ProcessNode>();

export interface ColumnMeta {
  readonly label: string;
  /** Pixels; a `grow` column takes what the window has left beyond this minimum. */
  readonly width: number;
  readonly grow?: boolean;
  readonly align?: 'right' | 'center';
  readonly mono?: boolean;
}

/** Nulls last in either direction; numbers numerically; strings by code unit (addresses are fixed-width hex). */
const nullsLast: SortingFn<ProcessNode> = (a, b, id) => {
  const x = a.getValue<string | number | boolean | null>(id);
  const y = b.getValue<string | number | boolean | null>(id);
  if (x === y) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  return x < y ? -1 : 1;
};

export const STATUS_RANK: Record<ProcessStatus, number> = { hidden: 0, suspicious: 1, exited: 2, remnant: 3, normal: 4 };

const SOURCE_LABEL: Record<PsxSource, string> = { pslist: 'pslist', psscan: 'psscan', thrdscan: 'thrd', cidtable: 'cid', csrss: 'csrss', session: 'sess' };

/** ISO 8601 to the second for the cell (the full value, milliseconds included, is in the title and the export). */
const shortTime = (iso: string | null): React.ReactNode => (iso ? <span title={iso}>{iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')}</span> : '-');
const SOURCE_TITLE: Record<PsxSource, string> = {
  pslist: 'pslist: the active process list (PsActiveProcessHead)',
  psscan: 'psscan: a pool scan of all physical memory for EPROCESS allocations',
  thrdscan: 'thrdscan: a pool scan for ETHREADs, grouped by owning process',
  cidtable: 'cidtable: the client ID handle table (PspCidTable)',
  csrss: 'csrss: process handles held by csrss.exe',
  session: 'session: the session process lists (MM_SESSION_SPACE)',
};

function sourceColumn(source: PsxSource): ColumnDef<ProcessNode, boolean> {
  return col.accessor((n) => n.row.psxview[source], {
    id: source,
    header: () => <span title={SOURCE_TITLE[source]}>{SOURCE_LABEL[source]}</span>,
    sortingFn: nullsLast,
    meta: { label: SOURCE_TITLE[source], width: 44, align: 'center' } satisfies ColumnMeta,
    cell: (c) => {
      const seen = c.getValue();
      const evidence = c.row.original.row.evidence[source] ?? (seen ? `${source}: seen` : `${source}: not seen`);
      return (
        <span className={seen ? 'tick seen' : 'tick unseen'} title={evidence}>
          <span aria-hidden="true">{seen ? '✓' : '·'}</span>
          <span className="sr-only">{seen ? `${source} yes` : `${source} no`}</span>
        </span>
      );
    },
  });
}

export const columns = [
  col.accessor((n) => n.row.psxview.pid, {
    id: 'pid', header: 'PID', sortingFn: nullsLast,
    meta: { label: 'PID', width: 64, align: 'right', mono: true } satisfies ColumnMeta,
    cell: (c) => dash(c.getValue()),
  }),
  col.accessor((n) => n.row.process?.ppid ?? null, {
    id: 'ppid', header: 'PPID', sortingFn: nullsLast,
    meta: { label: 'PPID', width: 56, align: 'right', mono: true } satisfies ColumnMeta,
    cell: (c) => dash(c.getValue()),
  }),
  col.accessor((n) => n.row.psxview.name, {
    id: 'name', header: 'Name', sortingFn: nullsLast,
    meta: { label: 'Name', width: 190 } satisfies ColumnMeta,
    cell: (c) => (
      <span className="name-cell" style={{ paddingLeft: Math.min(c.row.depth, 16) * 14 }} title={c.row.original.row.process?.imagePath ?? undefined}>
        {c.row.depth > 0 && <span className="tree-mark" aria-hidden="true">└ </span>}{dash(c.getValue())}
      </span>
    ),
  }),
  col.accessor((n) => `${STATUS_RANK[n.row.status]} ${n.row.psxview.verdict}`, {
    id: 'verdict', header: 'Verdict', sortingFn: nullsLast,
    meta: { label: 'Verdict', width: 340, grow: true } satisfies ColumnMeta,
    cell: (c) => {
      const r = c.row.original.row;
      return (
        <span className="verdict" title={r.psxview.verdict}>
          <span className={`status-word status-${r.status}`}>{r.status}</span>
          <span className="verdict-reason">{r.psxview.verdict}</span>
        </span>
      );
    },
  }),
  ...PSXVIEW_SOURCES.map(sourceColumn),
  col.accessor((n) => n.row.psxview.offset, {
    id: 'offset', header: 'EPROCESS', sortingFn: nullsLast,
    meta: { label: 'EPROCESS address', width: 156, mono: true } satisfies ColumnMeta,
    cell: (c) => c.getValue() ?? <span className="muted" title={`physical ${c.row.original.row.process?.physicalOffset ?? 'unknown'}`}>unmapped</span>,
  }),
  col.accessor((n) => n.row.process?.threads ?? null, {
    id: 'threads', header: 'Thr', sortingFn: nullsLast,
    meta: { label: 'Threads', width: 48, align: 'right', mono: true } satisfies ColumnMeta,
    cell: (c) => dash(c.getValue()),
  }),
  col.accessor((n) => n.row.process?.createTime ?? null, {
    id: 'createTime', header: 'Created (UTC)', sortingFn: nullsLast,
    meta: { label: 'Created (UTC)', width: 162, mono: true } satisfies ColumnMeta,
    cell: (c) => shortTime(c.getValue()),
  }),
  col.accessor((n) => n.row.psxview.exitTime, {
    id: 'exitTime', header: 'Exited (UTC)', sortingFn: nullsLast,
    meta: { label: 'Exited (UTC)', width: 162, mono: true } satisfies ColumnMeta,
    cell: (c) => shortTime(c.getValue()),
  }),
  col.accessor((n) => n.row.process?.sessionId ?? null, {
    id: 'sessionId', header: 'Sess', sortingFn: nullsLast,
    meta: { label: 'Session ID', width: 48, align: 'right', mono: true } satisfies ColumnMeta,
    cell: (c) => dash(c.getValue()),
  }),
  col.accessor((n) => n.row.process?.wow64 ?? null, {
    id: 'wow64', header: 'WoW64', sortingFn: nullsLast,
    meta: { label: 'WoW64 (32-bit)', width: 56, align: 'center' } satisfies ColumnMeta,
    cell: (c) => dash(c.getValue() === null ? null : c.getValue() ? 'yes' : 'no'),
  }),
  col.accessor((n) => n.row.process?.physicalOffset ?? null, {
    id: 'physicalOffset', header: 'Physical', sortingFn: nullsLast,
    meta: { label: 'EPROCESS physical address', width: 120, mono: true } satisfies ColumnMeta,
    cell: (c) => dash(c.getValue()),
  }),
  col.accessor((n) => n.row.process?.dtb ?? null, {
    id: 'dtb', header: 'DirBase', sortingFn: nullsLast,
    meta: { label: 'DirectoryTableBase', width: 110, mono: true } satisfies ColumnMeta,
    cell: (c) => dash(c.getValue()),
  }),
  col.accessor((n) => n.row.process?.imagePath ?? null, {
    id: 'imagePath', header: 'Image path', sortingFn: nullsLast,
    meta: { label: 'Image path', width: 260 } satisfies ColumnMeta,
    cell: (c) => <span title={c.getValue() ?? undefined}>{dash(c.getValue())}</span>,
  }),
  col.accessor((n) => n.row.process?.commandLine ?? null, {
    id: 'commandLine', header: 'Command line', sortingFn: nullsLast,
    meta: { label: 'Command line', width: 300 } satisfies ColumnMeta,
    cell: (c) => <span title={c.getValue() ?? undefined}>{dash(c.getValue())}</span>,
  }),
];

/** Columns the user can hide (identity and verdict always show). */
export const CHOOSABLE = columns.map((c) => c.id!).filter((id) => !['pid', 'name', 'verdict'].includes(id));

export const metaOf = (c: { columnDef: { meta?: unknown } }): ColumnMeta => c.columnDef.meta as ColumnMeta;
