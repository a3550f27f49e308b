/**
 * The per-process section of `memscope dtb <image> --processes`: the session's dtb run (every process
 * pslist or psscan finds, union by EPROCESS address, its DirBase inspected by plugins/dtb-inspect),
 * plus totals — including how many a page-alignment rule (Rekall) would have dropped.
 */
import { dtbTotals, type DtbInspectRow, type DtbInspectTotals } from '../engine/plugins/dtb-inspect/index.js';
import type { AnalysisSession } from '../engine/session/session.js';
import { renderTable } from './context.js';

export interface ProcessDtbSection {
  readonly rows: DtbInspectRow[];
  readonly totals: DtbInspectTotals;
  /** pslist's and psscan's warnings (an unusable list or scan says so here, not by an empty table). */
  readonly warnings: readonly string[];
}

export async function processDtbSection(session: AnalysisSession): Promise<ProcessDtbSection> {
  const r = await session.runToEnd('dtb');
  const rows = [...r.rows.values()];
  return { rows, totals: dtbTotals(rows), warnings: r.warnings };
}

export function renderProcessDtbs(s: ProcessDtbSection): string {
  const t = s.totals;
  return renderTable(
    ['PID', 'NAME', 'DTB RAW', 'LOW', 'PML4', 'USER DTB', 'KHALF', 'SELFREF', 'VERDICT'],
    s.rows.map((r) => [String(r.pid ?? '-'), r.name ?? '-', r.dtb ?? '-', r.lowBits ?? '-', r.pml4 ?? '-', r.userDtb ?? '-',
      r.kernelHalfMatches === null ? '-' : `${r.kernelHalfMatches}/${r.kernelHalfTotal}`, r.selfRefIndex === null ? 'no' : `0x${r.selfRefIndex.toString(16)}`, r.verdict]),
  ) + `\n${t.processes} processes, ${t.withLowBits} with low DirBase bits (PCID), ${t.valid} valid; ` +
    `a page-alignment check (the old Rekall rule) would have dropped ${t.rekallWouldDrop}.\n`;
}
