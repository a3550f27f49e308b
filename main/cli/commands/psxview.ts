/**
 * `memscope psxview <image> [--format table|csv|json] [--out FILE]`: one row per distinct process
 * with a boolean per source (pslist, psscan, thrdscan, cidtable, csrss, session), exitTime and a
 * plain-words verdict. CSV and JSON are the session's export, so the app's Export is these bytes.
 */
import type { PsxViewRow } from '../../engine/plugins/psxview/index.js';
import { openSession } from '../../engine/session/session.js';
import { psxviewOrder } from '../../engine/session/tables.js';
import { checkOutput, dash, emit, renderText, terminalProgress, warnAll, type OutputOptions } from '../process-commands.js';
import type { RegisterCommand } from './index.js';

const yn = (b: boolean) => (b ? 'True' : 'False');

export const psxviewTable = {
  headers: ['OFFSET', 'PID', 'NAME', 'PSLIST', 'PSSCAN', 'THRDSCAN', 'CIDTABLE', 'CSRSS', 'SESSION', 'EXITED', 'VERDICT'],
  cells: (x: PsxViewRow) => [x.offset ?? 'unmapped', dash(x.pid), dash(x.name), yn(x.pslist), yn(x.psscan), yn(x.thrdscan), yn(x.cidtable), yn(x.csrss), yn(x.session), dash(x.exitTime), x.verdict],
};

export const register: RegisterCommand = (program, io) => {
  program
    .command('psxview')
    .description('cross-view processes: active list, pool scan, threads, CID table, csrss handles, sessions')
    .argument('<image>', 'memory image: raw, ELF core or Windows crash dump')
    .option('--format <format>', 'table, csv, json or jsonl (one JSON object a line)', 'table')
    .option('--out <file>', 'write the output to FILE instead of stdout')
    .action(async (image: string, opts: OutputOptions) => {
      const format = checkOutput(image, opts);
      const s = await openSession(image, { warmScan: true });
      try {
        const progress = terminalProgress(`psxview: scanning ${image}`);
        const r = await s.runToEnd('psxview', progress.onProgress);
        progress.done();
        warnAll(io, r.warnings);
        const text = format === 'table'
          ? renderText(psxviewOrder([...r.rows.values()]).map((e) => e.row), psxviewTable)
          : s.exportTable('psxview', format, null).text;
        emit(io, text, opts.out);
      } finally {
        await s.close();
      }
    });
};
