/**
 * Shared plumbing of the process commands (pslist, psscan, psxview, struct, dtb --processes):
 * open the image read-only, discover the kernel, render rows as table/csv/json, and write --out
 * (never over the input image).
 */
import { writeFileSync } from 'node:fs';
import { MemScopeError, ioError, usageError } from '../engine/errors.js';
import { openSource } from '../engine/sources/detect.js';
import type { PhysicalSource } from '../engine/sources/physical-source.js';
import { ScanPool } from '../engine/scan/scan-pool.js';
import { discoverKernel } from '../engine/windows/discovery/discover.js';
import { profileProviders } from '../engine/session/profile-providers.js';
import type { WindowsKernel } from '../engine/windows/kernel.js';
import { toCsv, toJson, type Row } from '../engine/export/index.js';
import { parseFormat, renderTable, type CliIo, type OutputFormat } from './context.js';
import { sameFile } from '../engine/util/same-file.js';

export interface KernelSession {
  readonly source: PhysicalSource;
  readonly kernel: WindowsKernel;
  /** Scan workers for this image, started at the first whole-memory scan and kept for the next ones. */
  readonly scanPool: ScanPool;
  close(): void;
}

export interface OpenKernelOptions {
  /** The command will scan all memory (psscan, psxview): start the scan workers now, so their
   *  start-up overlaps kernel discovery instead of delaying the scan. */
  readonly warmScan?: boolean;
}

export async function openKernel(image: string, opts: OpenKernelOptions = {}): Promise<KernelSession> {
  const source = openSource(image);
  const scanPool = new ScanPool({ sourcePath: image });
  if (opts.warmScan) scanPool.warm().catch(() => undefined); // a failed start is reported by the scan itself
  const close = (): void => {
    void scanPool.close(); // terminate() starts at once; idle workers never hold the process
    source.close();
  };
  try {
    const { kernel } = await discoverKernel(source, { store: profileProviders({ source, path: image }), sourcePath: image, scanPool });
    return { source, kernel, scanPool, close };
  } catch (e) {
    close();
    throw e;
  }
}

export { sameFile };

export interface OutputOptions {
  readonly format?: string;
  readonly out?: string;
}

export const TABLE_FORMATS: readonly OutputFormat[] = ['table', 'csv', 'json'];

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

export function render<R extends Row>(format: OutputFormat, rows: readonly R[], table: TableSpec<R>, columns?: readonly string[]): string {
  if (format === 'json') return toJson(rows);
  if (format === 'csv') return toCsv(rows, columns ? { columns } : {});
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

export const dash = (v: unknown): string => (v === null || v === undefined || v === '' ? '-' : String(v));

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

