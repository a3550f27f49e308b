/**
 * The per-process section of `memscope dtb <image> --processes`: every process pslist or psscan
 * finds (union by EPROCESS address), its DirBase inspected (plugins/dtb-inspect), plus totals —
 * including how many a page-alignment rule (Rekall) would have dropped.
 */
import { collectPslist } from '../engine/plugins/pslist/index.js';
import { collectPsscan } from '../engine/plugins/psscan/index.js';
import { inspectDtbs, type DtbInspectRow, type DtbInspectTotals } from '../engine/plugins/dtb-inspect/index.js';
import type { WindowsKernel } from '../engine/windows/kernel.js';
import { renderTable } from './context.js';

export interface ProcessDtbSection {
  readonly rows: DtbInspectRow[];
  readonly totals: DtbInspectTotals;
  /** pslist's and psscan's warnings (an unusable list or scan says so here, not by an empty table). */
  readonly warnings: string[];
}

export async function processDtbSection(kernel: WindowsKernel, sourcePath?: string): Promise<ProcessDtbSection> {
  const listed = await collectPslist(kernel);
  const scanned = await collectPsscan(kernel, sourcePath ? { sourcePath } : {});
  // remnants in unmapped pages have no VA: key them by physical offset
  const key = (r: (typeof scanned.rows)[number]) => r.offset ?? `pa:${r.physicalOffset}`;
  const byOffset = new Map(listed.rows.map((r) => [key(r), r]));
  for (const r of scanned.rows) if (!byOffset.has(key(r))) byOffset.set(key(r), r);
  const procs = [...byOffset.values()].sort((a, b) => (a.pid ?? 0) - (b.pid ?? 0));
  return { ...inspectDtbs(kernel, procs), warnings: [...listed.warnings, ...scanned.warnings] };
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
