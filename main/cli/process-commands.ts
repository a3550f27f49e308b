/**
 * Shared plumbing of the process commands (pslist, psscan, psxview, struct, dtb --processes): they
 * open the image through the engine's analysis session (main/engine/session); here: --format/--out
 * checks, the text table, writing --out (never over the input image), warnings and progress.
 */
import { writeFileSync } from 'node:fs';
import { ioError, usageError } from '../engine/errors.js';
import type { Row } from '../engine/export/index.js';
import { sameFile } from '../engine/util/same-file.js';
import { hex } from '../engine/util/hex.js';
import { parseFormat, renderTable, type CliIo, type OutputFormat } from './context.js';

export { sameFile };

export interface OutputOptions {
  readonly format?: string;
  readonly out?: string;
}

export const TABLE_FORMATS: readonly OutputFormat[] = ['table', 'csv', 'json', 'jsonl'];

/** Validate --format/--out before any analysis runs (usage errors first, exit 2). */
export function checkOutput(image: string, opts: OutputOptions): OutputFormat {
  const format = parseFormat(opts.format, TABLE_FORMATS, 'table');
  if (opts.out !== undefined && sameFile(opts.out, image)) {
    throw usageError(`--out ${opts.out} is the input image ${image}; refusing to overwrite evidence`);
  }
  return format;
}

export interface TableSpec<R extends Row> {
  readonly headers: readonly string[];
  readonly cells: (r: R) => readonly string[];
}

/** The text table of rows; csv and json come from the session's export (engine/session/tables.ts). */
export function renderText<R extends Row>(rows: readonly R[], table: TableSpec<R>): string {
  return renderTable(table.headers, rows.map(table.cells));
}

export function emit(io: CliIo, text: string, out: string | undefined): void {
  if (out === undefined) {
    io.out(text);
    return;
  }
  try {
    writeFileSync(out, text, { encoding: 'utf8' });
  } catch (e) {
    throw ioError(out, e);
  }
}

export function warnAll(io: CliIo, warnings: readonly string[]): void {
  for (const w of warnings) io.err(`memscope: warning: ${w}\n`);
}

/** The run's summary of pages its scan could not read (a live device's; said only when there are any). */
export function warnUnreadable(io: CliIo, plugin: string, run: { readonly unreadablePages: number }): void {
  if (run.unreadablePages > 0) io.err(`memscope: warning: ${plugin}: ${run.unreadablePages} pages could not be read and were scanned as zeros\n`);
}

/**
 * The signal that cancels a scan: the io's own, or Ctrl-C (SIGINT) while the scan runs. A second
 * Ctrl-C, once this handler is gone, ends the process as usual. Call `release` when the scan ends.
 */
export function scanCancellation(io: CliIo): { signal: AbortSignal; release: () => void } {
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  return {
    signal: io.signal ? AbortSignal.any([io.signal, ac.signal]) : ac.signal,
    release: () => { process.off('SIGINT', onSigint); },
  };
}

export const dash = (v: unknown): string => (v === null || v === undefined || v === '' ? '-' : String(v));

/** An address cell: lower-case `0x…`, or `-` when absent (engine rows keep addresses as numbers). */
export const hexCell = (v: bigint | number | null): string => (v === null ? '-' : hex(v));

/**
 * Progress of a whole-memory scan on stderr, only when stderr is a terminal (a responder watching a
 * 64 GiB scan wants to see it move; pipes, files and tests get nothing). Returns the callback and a
 * function that clears the line.
 */
export function terminalProgress(what: string, stream: NodeJS.WriteStream = process.stderr): { onProgress: (done: number, total: number) => void; done: () => void } {
  if (!stream.isTTY) return { onProgress: () => undefined, done: () => undefined };
  let last = -1;
  return {
    onProgress: (done, total) => {
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      if (pct === last) return;
      last = pct;
      stream.write(`\r${what}: ${pct}% of ${(total / 2 ** 30).toFixed(1)} GiB`);
    },
    done: () => { if (last >= 0) stream.write('\r\x1b[K'); },
  };
}

