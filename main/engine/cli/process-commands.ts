/**
 * Shared plumbing of the process commands (pslist, psscan, psxview, struct, dtb --processes):
 * open the image read-only, discover the kernel, render rows as table/csv/json, and write --out
 * (never over the input image).
 */
import { realpathSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MemScopeError, ioError, usageError } from '../errors.js';
import { guidAgeKey } from '../profile/model.js';
import { Profile } from '../profile/profile.js';
import { loadIsfProfile } from '../sample/isf-loader.js';
import { sharedIsfDir } from '../sample/profile-source.js';
import { openSource } from '../sources/detect.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import { discoverKernel } from '../windows/discovery/discover.js';
import type { ProfileProviders } from '../windows/discovery/profile-resolve.js';
import { defaultProfileProviders } from '../windows/discovery/providers.js';
import type { WindowsKernel } from '../windows/kernel.js';
import { toCsv, toJson, type Row } from '../export/index.js';
import { parseFormat, renderTable, type CliIo, type OutputFormat } from './context.js';

/**
 * Profile providers for the process commands: discovery's defaults (bundled → cache → symbol
 * server when allowed), with the shared ISF reference set as a last cache when present (development
 * checkouts and tests, before profiles/ is built).
 */
export function cliProfileProviders(): ProfileProviders {
  const d = defaultProfileProviders();
  return {
    ...d,
    cache: async (pdb, signal) => {
      const hit = d.cache ? await d.cache(pdb, signal).catch(() => null) : null;
      if (hit) return hit;
      const dir = sharedIsfDir();
      if (!dir) return null;
      try {
        return new Profile(await loadIsfProfile(dir, guidAgeKey(pdb)));
      } catch {
        return null;
      }
    },
  };
}

export interface KernelSession {
  readonly source: PhysicalSource;
  readonly kernel: WindowsKernel;
  close(): void;
}

export async function openKernel(image: string): Promise<KernelSession> {
  const source = openSource(image);
  try {
    const { kernel } = await discoverKernel(source, { store: cliProfileProviders(), sourcePath: image });
    return { source, kernel, close: () => source.close() };
  } catch (e) {
    source.close();
    throw e;
  }
}

/** Is `out` the same file as `image` (path, symlink or hard link)? */
export function sameFile(out: string, image: string): boolean {
  if (resolve(out) === resolve(image)) return true;
  try {
    if (realpathSync(out) === realpathSync(image)) return true;
    const a = statSync(out);
    const b = statSync(image);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false; // out does not exist yet
  }
}

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

