/**
 * `memscope pslist|psscan <image> [--format table|csv|json] [--out FILE]`: processes from the
 * active process list / from a physical `Proc` pool scan. JSON is an array of rows with exactly
 * these fields: pid, ppid, name, imagePath, commandLine, offset, physicalOffset, dtb, userDtb,
 * createTime, exitTime, threads, sessionId, wow64, missing, warnings, then (added later, so CSV's
 * earlier columns keep their places) parentName, kernelImagePath, currentDirectory and whyAbsent (why
 * each absent value is absent: "no PEB", "paged out", "exited", "outside the image"). Hex is lower-case `0x…`.
 */
import type { Command } from 'commander';
import { openSession } from '../../engine/session/session.js';
import { psscanOrder } from '../../engine/session/tables.js';
import { FREED_POOL_BLOCK_NOTE, type ProcessRow } from '../../engine/windows/eprocess.js';
import type { CliIo } from '../context.js';
import { checkOutput, dash, emit, hexCell, renderText, terminalProgress, warnAll, warnUnreadable, type OutputOptions } from '../process-commands.js';
import { hex } from '../../engine/util/hex.js';
import type { RegisterCommand } from './index.js';
import { cliTarget, DRIVER_OPTION, LIVE_OPTION, targetName, type LiveFlags } from '../live.js';

/** OFFSET cell: the EPROCESS VA, labelled when the row is a remnant (JSON/CSV carry the label in `warnings`). */
const offsetCell = (r: ProcessRow): string =>
  r.offset === null ? `unmapped, PA ${hexCell(r.physicalOffset)}` : r.warnings.includes(FREED_POOL_BLOCK_NOTE) ? `${hex(r.offset)} (freed pool block)` : hex(r.offset);

export const processTable = {
  headers: ['PID', 'PPID', 'NAME', 'OFFSET', 'DTB', 'THREADS', 'SESS', 'WOW64', 'CREATED', 'EXITED', 'MISSING'],
  cells: (r: ProcessRow) => [dash(r.pid), dash(r.ppid), dash(r.name), offsetCell(r), hexCell(r.dtb), dash(r.threads), dash(r.sessionId), dash(r.wow64), dash(r.createTime), dash(r.exitTime), r.missing.join(',') || '-'],
};

function addCommand(program: Command, io: CliIo, name: 'pslist' | 'psscan'): void {
  program
    .command(name)
    .description(name === 'pslist' ? 'list processes from the kernel active process list' : 'scan all physical memory for process (Proc) pool allocations')
    .argument('[image]', 'memory image: raw, ELF core or Windows crash dump (or --live)')
    .option(...LIVE_OPTION)
    .option(...DRIVER_OPTION)
    .option('--format <format>', 'table, csv, json or jsonl (one JSON object a line)', 'table')
    .option('--out <file>', 'write the output to FILE instead of stdout')
    .action(async (imageArg: string | undefined, opts: OutputOptions & LiveFlags) => {
      const target = cliTarget(imageArg, opts, io);
      const image = targetName(target);
      const format = checkOutput(image, opts);
      const s = await openSession(target, { warmScan: name === 'psscan' });
      try {
        const progress = terminalProgress(`${name}: scanning ${image}`);
        const r = await s.runToEnd(name, progress.onProgress);
        progress.done();
        warnAll(io, r.warnings);
        warnUnreadable(io, name, r);
        const rows = name === 'pslist' ? [...r.rows.values()] : psscanOrder([...r.rows.values()]);
        emit(io, format === 'table' ? renderText(rows, processTable) : s.exportTable(name, format, null).text, opts.out);
      } finally {
        await s.close();
      }
    });
}

export const register: RegisterCommand = (program, io) => addCommand(program, io, 'pslist');
export const registerPsscan: RegisterCommand = (program, io) => addCommand(program, io, 'psscan');
