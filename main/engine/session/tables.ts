/**
 * The one rendering of each exported table as CSV and JSON: the CLI (`memscope <table> --format
 * csv|json`) and the session's export (the app's Export CSV / Export JSON) both call these, so the
 * app's export of a table in its default order is byte for byte the CLI's output.
 */
import { toCsv, toJson } from '../export/index.js';
import { toJsonl } from '../export/jsonl.js';
import type { DtbInspectRow } from '../plugins/dtb-inspect/index.js';
import { comparePsxRows, type PsxViewRow } from '../plugins/psxview/index.js';
import type { ProcessRow } from '../windows/eprocess.js';

export type ExportFormat = 'csv' | 'json' | 'jsonl';

export const PSXVIEW_COLUMNS = ['offset', 'pid', 'name', 'pslist', 'psscan', 'thrdscan', 'cidtable', 'csrss', 'session', 'exitTime', 'verdict'] as const;

export const PROCESS_COLUMNS = [
  'pid', 'ppid', 'name', 'imagePath', 'commandLine', 'offset', 'physicalOffset', 'dtb', 'userDtb',
  'createTime', 'exitTime', 'threads', 'sessionId', 'wow64', 'missing', 'warnings',
] as const;

export function renderPsxview(format: ExportFormat, rows: readonly PsxViewRow[]): string {
  return format === 'json' ? toJson(rows) : format === 'jsonl' ? toJsonl(rows) : toCsv(rows, { columns: PSXVIEW_COLUMNS });
}

export function renderProcesses(format: ExportFormat, rows: readonly ProcessRow[]): string {
  return format === 'json' ? toJson(rows) : format === 'jsonl' ? toJsonl(rows) : toCsv(rows, { columns: PROCESS_COLUMNS });
}

/** The per-process DirBase table (`memscope dtb --processes --format csv`; JSON: the rows alone). */
export function renderDtbRows(format: ExportFormat, rows: readonly DtbInspectRow[]): string {
  return format === 'json' ? toJson(rows) : format === 'jsonl' ? toJsonl(rows) : toCsv(rows);
}

/** psscan's default order: by PID, scan order within a PID (a stable sort). */
export function psscanOrder<R extends { readonly pid: number | null }>(rows: readonly R[]): R[] {
  return [...rows].sort((a, b) => (a.pid ?? 0) - (b.pid ?? 0));
}

/** psxview's default order (PID, then offset). */
export function psxviewOrder<R extends { readonly row: PsxViewRow }>(rows: readonly R[]): R[] {
  return [...rows].sort((a, b) => comparePsxRows(a.row, b.row));
}

/** Stable key of a process row: its EPROCESS VA, or `pa:0x…` for a remnant in an unmapped page. */
export const processKey = (r: Pick<ProcessRow, 'offset' | 'physicalOffset'>): string => r.offset ?? `pa:${r.physicalOffset}`;
