/**
 * `memscope timeline <image> [--format table|timesketch-csv|timesketch-jsonl] [--out FILE]`: one event
 * per process create and per exit (every process psxview finds, hidden and exited ones included), in
 * time order; the Timesketch formats import as they are (`message`, `datetime`, `timestamp_desc`).
 */
import { usageError } from '../../engine/errors.js';
import { renderSessionTimeline, sessionTimeline } from '../../engine/evidence/timeline.js';
import { TIMESKETCH_FORMATS, type TimesketchFormat } from '../../engine/export/timesketch.js';
import { openSession } from '../../engine/session/session.js';
import { renderTable } from '../context.js';
import { dash, emit, sameFile, terminalProgress, warnAll } from '../process-commands.js';
import type { RegisterCommand } from './index.js';

const FORMATS = ['table', ...TIMESKETCH_FORMATS] as const;

export const register: RegisterCommand = (program, io) => {
  program
    .command('timeline')
    .description('process create / exit events in time order (Timesketch CSV or JSONL)')
    .argument('<image>', 'memory image: raw, ELF core or Windows crash dump')
    .option('--format <format>', 'table, timesketch-csv or timesketch-jsonl', 'table')
    .option('--out <file>', 'write the output to FILE instead of stdout')
    .action(async (image: string, opts: { format?: string; out?: string }) => {
      const format = opts.format ?? 'table';
      if (!(FORMATS as readonly string[]).includes(format)) throw usageError(`--format must be one of ${FORMATS.join(', ')} (got "${format}")`);
      if (opts.out !== undefined && sameFile(opts.out, image)) throw usageError(`--out ${opts.out} is the input image ${image}; refusing to overwrite evidence`);
      const s = await openSession(image, { warmScan: true });
      try {
        const progress = terminalProgress(`timeline: scanning ${image}`);
        const r = await s.runToEnd('psxview', progress.onProgress);
        progress.done();
        warnAll(io, [...s.info.warnings, ...r.warnings]);
        const text = format === 'table'
          ? renderTable(['DATETIME', 'EVENT', 'PID', 'PPID', 'NAME', 'STATUS', 'EPROCESS', 'IMPLAUSIBLE'],
            sessionTimeline(s).map((e) => [e.datetime, e.timestamp_desc, dash(e.pid), dash(e.ppid), dash(e.name), e.status, e.eprocess, dash(e.implausible)]))
          : renderSessionTimeline(s, format as TimesketchFormat);
        emit(io, text, opts.out);
      } finally {
        await s.close();
      }
    });
};
