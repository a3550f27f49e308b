/**
 * `memscope psxview <image> [--format table|csv|json] [--out FILE]`: one row per distinct process
 * with a boolean per source (pslist, psscan, thrdscan, cidtable, csrss, session), exitTime and a
 * plain-words verdict that starts with the row's status word (also the last column, `status`). CSV and
 * JSON are the session's export, so the app's Export is these bytes. Ctrl-C cancels the scan and still
 * writes the rows found so far (exit 1): sources never checked are empty, never `false`.
 */
import type { PsxViewRow } from '../../engine/plugins/psxview/index.js';
import { openSession } from '../../engine/session/session.js';
import { psxviewOrder } from '../../engine/session/tables.js';
import { MemScopeError } from '../../engine/errors.js';
import { hex } from '../../engine/util/hex.js';
import { checkOutput, dash, emit, renderText, scanCancellation, terminalProgress, warnAll, warnUnreadable, type OutputOptions } from '../process-commands.js';
import type { RegisterCommand } from './index.js';
import { cliTarget, DRIVER_OPTION, LIVE_OPTION, targetName, type LiveFlags } from '../live.js';

/** A source's cell: null when the source was not checked (a cancelled scan): neither True nor False. */
const yn = (b: boolean | null) => (b === null ? '-' : b ? 'True' : 'False');

export const psxviewTable = {
  headers: ['OFFSET', 'PID', 'NAME', 'PSLIST', 'PSSCAN', 'THRDSCAN', 'CIDTABLE', 'CSRSS', 'SESSION', 'EXITED', 'VERDICT'],
  cells: (x: PsxViewRow) => [x.offset === null ? 'unmapped' : hex(x.offset), dash(x.pid), dash(x.name), yn(x.pslist), yn(x.psscan), yn(x.thrdscan), yn(x.cidtable), yn(x.csrss), yn(x.session), dash(x.exitTime), x.verdict],
};

export const register: RegisterCommand = (program, io) => {
  program
    .command('psxview')
    .description('cross-view processes: active list, pool scan, threads, CID table, csrss handles, sessions')
    .argument('[image]', 'memory image: raw, ELF core or Windows crash dump (or --live)')
    .option(...LIVE_OPTION)
    .option(...DRIVER_OPTION)
    .option('--format <format>', 'table, csv, json or jsonl (one JSON object a line)', 'table')
    .option('--out <file>', 'write the output to FILE instead of stdout')
    .action(async (imageArg: string | undefined, opts: OutputOptions & LiveFlags) => {
      const target = cliTarget(imageArg, opts, io);
      const image = targetName(target);
      const format = checkOutput(image, opts);
      const s = await openSession(target, { warmScan: true });
      const cancel = scanCancellation(io);
      try {
        const progress = terminalProgress(`psxview: scanning ${image}`);
        for await (const ev of s.run({ plugin: 'psxview' }, cancel.signal)) if (ev.type === 'progress') progress.onProgress(ev.bytesDone, ev.bytesTotal);
        progress.done();
        const r = s.result('psxview');
        if (!r) throw new MemScopeError('analysis', `psxview did not run: session ${s.id} is closed`);
        if (r.outcome === 'failed') throw r.failure;
        warnAll(io, r.warnings);
        warnUnreadable(io, 'psxview', r);
        // a cancelled scan still writes what it found, as the app exports it: the sources it never
        // checked are empty (not false) and the rows they decide say `unchecked`
        const text = format === 'table'
          ? renderText(psxviewOrder([...r.rows.values()]).map((e) => e.row), psxviewTable)
          : s.exportTable('psxview', format, null).text;
        emit(io, text, opts.out);
        if (r.outcome === 'cancelled') {
          throw new MemScopeError('cancelled', `psxview cancelled: the ${r.rows.size} rows found so far were written; sources it did not get to check are left empty and named in each verdict`);
        }
      } finally {
        cancel.release();
        await s.close();
      }
    });
};
