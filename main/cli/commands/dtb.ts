/**
 * `memscope dtb <image> [--processes] [--format json|table|csv] [--out FILE]`: every DTB candidate every discovery method found,
 * with its evidence and what validation said — including when no kernel could be accepted (the
 * report is printed, then the error; exit 1). Runs discovery exhaustively (no early stop) so the
 * listing is complete. With --processes, the per-process DTB inspector too. CSV is one table: the
 * per-process rows with --processes, else the candidates.
 */
import type { Command } from 'commander';
import { DiscoveryError } from '../../engine/windows/discovery/discover.js';
import { dtbReportJson, type DtbReportJson } from '../../engine/windows/discovery/report-json.js';
import { toCsv } from '../../engine/export/index.js';
import { toJsonl } from '../../engine/export/jsonl.js';
import { openSession, type AnalysisSession } from '../../engine/session/session.js';
import { renderTable, type CliIo } from '../context.js';
import { checkOutput, emit, warnAll, type OutputOptions } from '../process-commands.js';
import type { RegisterCommand } from './index.js';
import { processDtbSection, renderProcessDtbs, type ProcessDtbSection } from '../dtb-processes.js';
import { cliTarget, DRIVER_OPTION, LIVE_OPTION, targetName, type LiveFlags } from '../live.js';

export function renderDtbTable(doc: DtbReportJson): string {
  const head = doc.accepted
    ? `accepted: DTB ${doc.accepted.dtbRaw} (${doc.accepted.dtbMethod}), kernel base ${doc.accepted.kernelBase}\n\n`
    : `no DTB accepted${doc.error ? `: ${doc.error}` : ''}\n\n`;
  const cands = renderTable(
    ['METHOD', 'DTB RAW', 'PML4', 'STATUS', 'EVIDENCE / WHY'],
    doc.candidates.map((c) => [c.method, c.dtbRaw, c.dtb, c.status, [...c.evidence, ...(c.status === 'rejected' ? [`rejected: ${c.validation[c.validation.length - 1] ?? ''}`] : [])].join('; ')]),
  );
  const methods = renderTable(['STEP', 'OK', 'MS', 'DETAIL'], doc.methods.map((m) => [m.method, m.ok ? 'yes' : 'no', m.ms.toFixed(1), m.detail]));
  return head + cands + '\n' + methods;
}

export const register: RegisterCommand = (program: Command, io: CliIo) => {
  program
    .command('dtb')
    .description('list every kernel DTB candidate, the method that found it, its evidence and validation')
    .argument('[image]', 'memory image: raw, ELF core or Windows crash dump (or --live)')
    .option(...LIVE_OPTION)
    .option(...DRIVER_OPTION)
    .option('--format <format>', 'table, csv, json or jsonl (one JSON object a line)', 'table')
    .option('--out <file>', 'write the output to FILE instead of stdout')
    .option('--allow-network', 'fetch a missing kernel profile from the symbol server')
    .option('--processes', 'also inspect every process DirBase (PCID bits, kernel half, self-reference)')
    .action(async (imageArg: string | undefined, opts: OutputOptions & LiveFlags & { allowNetwork?: boolean; processes?: boolean }) => {
      const target = cliTarget(imageArg, opts, io);
      const image = targetName(target);
      const format = checkOutput(image, opts);
      let session: AnalysisSession | null = null;
      try {
        let doc: DtbReportJson;
        let failure: DiscoveryError | null = null;
        let procs: ProcessDtbSection | null = null;
        try {
          session = await openSession(target, { allowNetwork: opts.allowNetwork === true, exhaustive: true, warmScan: opts.processes === true });
          doc = dtbReportJson(session.report);
          if (opts.processes) procs = await processDtbSection(session);
        } catch (e) {
          if (!(e instanceof DiscoveryError)) throw e;
          failure = e;
          doc = dtbReportJson(e.report, e.message);
        }
        const text = format === 'jsonl'
          ? (procs && session ? session.exportTable('dtb', 'jsonl', null).text : toJsonl(doc.candidates))
          : format === 'json'
          ? JSON.stringify(procs ? { ...doc, processes: procs.rows, processTotals: procs.totals } : doc, null, 2) + '\n'
          : format === 'csv'
            ? (procs && session ? session.exportTable('dtb', 'csv', null).text : toCsv(doc.candidates.map((c) => ({ ...c, evidence: c.evidence.join('; '), validation: c.validation.join('; ') }))))
            : renderDtbTable(doc) + (procs ? '\n' + renderProcessDtbs(procs) : '');
        if (procs) warnAll(io, procs.warnings);
        emit(io, text, opts.out);
        if (failure) throw failure;
      } finally {
        await session?.close();
      }
    });
};
