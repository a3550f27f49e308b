/**
 * Table export for every plugin: CSV (RFC 4180 via csv-stringify: CRLF line ends, quotes doubled,
 * fields with separators/quotes/line breaks quoted; UTF-8 with a BOM so Excel reads it as UTF-8)
 * and JSON. A cell a spreadsheet would run as a formula — one that begins with = + - @ or a tab or
 * carriage return (OWASP "CSV injection") — is prefixed with a single quote. Process names and
 * command lines come from the examined machine, i.e. from a possible attacker.
 */
import { stringify } from 'csv-stringify/sync';

export type Cell = string | number | bigint | boolean | null | undefined | readonly unknown[] | { readonly [k: string]: unknown };
/** Any plain object; interfaces without an index signature are accepted. */
export type Row = object;

export const UTF8_BOM = '\ufeff';
const FORMULA_START = /^[=+\-@\t\r]/;

/** Neutralise a cell a spreadsheet would evaluate. */
export function escapeFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** One cell as text: null → empty, booleans as true/false, lists joined with "; ", objects as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return v.map(cellText).join('; ');
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

/** Columns: as given, else the keys of the first row (then any new keys of later rows). */
export function columnsOf(rows: readonly Row[], columns?: readonly string[]): string[] {
  if (columns) return [...columns];
  const cols: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r as Record<string, unknown>)) if (!seen.has(k)) { seen.add(k); cols.push(k); }
  return cols;
}

export interface CsvOptions {
  readonly columns?: readonly string[];
  /** Prefix the UTF-8 BOM (default true). */
  readonly bom?: boolean;
}

export function toCsv(rows: readonly Row[], options: CsvOptions = {}): string {
  const cols = columnsOf(rows, options.columns);
  const records = rows.map((r) => cols.map((c) => escapeFormula(cellText((r as Record<string, unknown>)[c]))));
  const body = stringify([cols.map(escapeFormula), ...records], { record_delimiter: '\r\n', quoted_match: /^\s|\s$/ });
  return (options.bom ?? true ? UTF8_BOM : '') + body;
}

/** JSON array of the rows, two-space indented, bigint as decimal string, trailing newline. */
export function toJson(rows: readonly Row[] | Row): string {
  return JSON.stringify(rows, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2) + '\n';
}
