import { MemScopeError } from '../engine/errors.js';

/** Output sinks for a CLI run: process streams in production, buffers in tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Cancels a long scan (tests; a terminal's Ctrl-C does the same through SIGINT). */
  readonly signal?: AbortSignal;
}

export const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

export type OutputFormat = 'json' | 'table' | 'csv' | 'jsonl';

export function parseFormat(value: string | undefined, allowed: readonly OutputFormat[], fallback: OutputFormat): OutputFormat {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as OutputFormat;
  throw new MemScopeError('usage', `--format must be one of ${allowed.join(', ')} (got "${value}")`);
}

/** Render rows as an aligned text table (the human format). */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}
