/**
 * `memscope psxview <image> [--format table|csv|json] [--out FILE]`: one row per distinct process
 * with a boolean per source (pslist, psscan, thrdscan, cidtable, csrss, session), exitTime and a
 * plain-words verdict.
 */
import { psxview, type PsxViewRow } from '../../engine/plugins/psxview/index.js';
import { checkOutput, dash, emit, openKernel, render, terminalProgress, warnAll, type OutputOptions } from '../process-commands.js';
import type { RegisterCommand } from './index.js';

export const PSXVIEW_COLUMNS = ['offset', 'pid', 'name', 'pslist', 'psscan', 'thrdscan', 'cidtable', 'csrss', 'session', 'exitTime', 'verdict'] as const;

const yn = (b: boolean) => (b ? 'True' : 'False');

export const register: RegisterCommand = (program, io) => {
  program
    .command('psxview')
    .description('cross-view processes: active list, pool scan, threads, CID table, csrss handles, sessions')
    .argument('<image>', 'memory image: raw, ELF core or Windows crash dump')
    .option('--format <format>', 'table, csv or json', 'table')
    .option('--out <file>', 'write the output to FILE instead of stdout')
    .action(async (image: string, opts: OutputOptions) => {
      const format = checkOutput(image, opts);
      const s = await openKernel(image, { warmScan: true });
      try {
        const progress = terminalProgress(`psxview: scanning ${image}`);
        const r = await psxview(s.kernel, { pool: s.scanPool, onEvent: (ev) => { if (ev.type === 'progress') progress.onProgress(ev.bytesDone, ev.bytesTotal); } });
        progress.done();
        warnAll(io, r.warnings);
        emit(io, render(format, r.rows, {
          headers: ['OFFSET', 'PID', 'NAME', 'PSLIST', 'PSSCAN', 'THRDSCAN', 'CIDTABLE', 'CSRSS', 'SESSION', 'EXITED', 'VERDICT'],
          cells: (x: PsxViewRow) => [x.offset ?? 'unmapped', dash(x.pid), dash(x.name), yn(x.pslist), yn(x.psscan), yn(x.thrdscan), yn(x.cidtable), yn(x.csrss), yn(x.session), dash(x.exitTime), x.verdict],
        }, PSXVIEW_COLUMNS), opts.out);
      } finally {
        s.close();
      }
    });
};
