/**
 * The one rendering of each exported table as CSV and JSON: the CLI (`memscope <table> --format
 * csv|json`) and the session's export (the app's Export CSV / Export JSON) both call these, so the
 * app's export of a table in its default order is byte for byte the CLI's output.
 */
import { toCsv, toJson } from '../export/index.js';
import { toJsonl } from '../export/jsonl.js';
import type { DtbInspectRow } from '../plugins/dtb-inspect/index.js';
import { comparePsxRows, type PsxViewEntry, type PsxViewRow } from '../plugins/psxview/index.js';
import type { ProcessRow } from '../windows/eprocess.js';
import { pidIndex, withParentName } from '../windows/process-parents.js';
import { hex } from '../util/hex.js';
import { processRowWire, psxRowWire } from './wire.js';

export type ExportFormat = 'csv' | 'json' | 'jsonl';

/** What a responder pastes into a report beside the process, appended after the original columns. */
const REPORT_COLUMNS = ['parentName', 'kernelImagePath', 'currentDirectory', 'whyAbsent'] as const;

/**
 * psxview's CSV columns; later additions go last so earlier columns keep their places: `status`
 * (the verdict's first word), then the process's PPID, parent, kernel image path, current directory,
 * WoW64 and why any of those is absent.
 */
export const PSXVIEW_COLUMNS = [
  'offset', 'pid', 'name', 'pslist', 'psscan', 'thrdscan', 'cidtable', 'csrss', 'session', 'exitTime', 'verdict', 'status',
  'ppid', 'parentName', 'kernelImagePath', 'currentDirectory', 'wow64', 'whyAbsent',
] as const;

export const PROCESS_COLUMNS = [
  'pid', 'ppid', 'name', 'imagePath', 'commandLine', 'offset', 'physicalOffset', 'dtb', 'userDtb',
  'createTime', 'exitTime', 'threads', 'sessionId', 'wow64', 'missing', 'warnings', ...REPORT_COLUMNS,
] as const;

/** A psxview row as exported: the row, then what the process adds for a report. */
export function psxviewExportRow(e: PsxViewEntry) {
  const p = e.process;
  return { ...psxRowWire(e.row), ppid: p.ppid, parentName: p.parentName, kernelImagePath: p.kernelImagePath, currentDirectory: p.currentDirectory, wow64: p.wow64, whyAbsent: p.whyAbsent };
}

/** In CSV, the reasons read "field: reason; field: reason" (JSON keeps them an object). */
const csvReasons = <R extends { readonly whyAbsent: Readonly<Record<string, string>> }>(r: R) =>
  ({ ...r, whyAbsent: Object.entries(r.whyAbsent).map(([field, why]) => `${field}: ${why}`) });

export function renderPsxview(format: ExportFormat, entries: readonly PsxViewEntry[]): string {
  const rows = entries.map(psxviewExportRow);
  return format === 'json' ? toJson(rows) : format === 'jsonl' ? toJsonl(rows) : toCsv(rows.map(csvReasons), { columns: PSXVIEW_COLUMNS });
}

export function renderProcesses(format: ExportFormat, engineRows: readonly ProcessRow[]): string {
  const rows = engineRows.map(processRowWire);
  return format === 'json' ? toJson(rows) : format === 'jsonl' ? toJsonl(rows) : toCsv(rows.map(csvReasons), { columns: PROCESS_COLUMNS });
}

/** Kept process rows with each parent's name resolved against all of them (the rows stream before their parents are known). */
export function withParents(rows: ReadonlyMap<string, ProcessRow>): Map<string, ProcessRow> {
  const byPid = pidIndex(rows.values());
  return new Map([...rows].map(([k, r]) => [k, withParentName(r, byPid)]));
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
export const processKey = (r: Pick<ProcessRow, 'offset' | 'physicalOffset'>): string =>
  r.offset !== null ? hex(r.offset) : `pa:${r.physicalOffset === null ? 'null' : hex(r.physicalOffset)}`;
