/**
 * A session's table export: a kept (or in-flight) plugin table rendered as the CLI writes it, so the
 * app's Export CSV / JSON of a table in its default order is byte for byte `memscope <table> --format`.
 */
import { basename } from 'node:path';
import { usageError } from '../errors.js';
import type { KeptPlugin, KeptRun, PluginRuns } from './runs.js';
import { psscanOrder, psxviewOrder, renderDtbRows, renderProcesses, renderPsxview, withParents, type ExportFormat } from './tables.js';

export interface ExportedTable { readonly fileName: string; readonly mime: string; readonly text: string }

/**
 * A kept table as the CLI writes it: `keys` null = every row in the default order (byte for byte
 * `memscope <table> --format csv|json`); otherwise exactly those rows in that order.
 */
export function exportTable(runs: PluginRuns, sourcePath: string, table: KeptPlugin, format: ExportFormat, keys: readonly string[] | null): ExportedTable {
  // a run in flight exports what it has found so far (what is on screen); else the kept result
  const kept = runs.current(table);
  if (!kept) throw usageError(`${table} has not been run in this session; run it before exporting`);
  const pick = <R>(rows: ReadonlyMap<string, R>, order: (all: R[]) => R[]): R[] => {
    if (keys === null) return order([...rows.values()]);
    const out: R[] = [];
    for (const k of keys) {
      const r = rows.get(k);
      if (r === undefined) throw usageError(`${table} has no row with key ${JSON.stringify(k)}`);
      out.push(r);
    }
    return out;
  };
  let text: string;
  switch (table) {
    case 'psxview': text = renderPsxview(format, pick((kept as KeptRun<'psxview'>).rows, psxviewOrder)); break;
    case 'pslist': text = renderProcesses(format, pick(withParents((kept as KeptRun<'pslist'>).rows), (r) => r)); break;
    case 'psscan': text = renderProcesses(format, pick(withParents((kept as KeptRun<'psscan'>).rows), psscanOrder)); break;
    case 'dtb': text = renderDtbRows(format, pick((kept as KeptRun<'dtb'>).rows, (r) => r)); break;
  }
  const stem = basename(sourcePath).replace(/[^A-Za-z0-9._-]+/g, '_') || 'memory';
  return {
    fileName: `${stem}.${table}.${format}`,
    mime: format === 'csv' ? 'text/csv;charset=utf-8' : format === 'jsonl' ? 'application/x-ndjson' : 'application/json',
    text,
  };
}
