/**
 * JSON Lines (https://jsonlines.org): one JSON object a line, `\n` after each, UTF-8 without a BOM —
 * what log pipelines and Velociraptor-style collectors ingest line by line. Each line is exactly the
 * object the table's JSON array holds (bigint as a decimal string, as toJson writes it).
 */
import type { Row } from './index.js';

export function toJsonl(rows: readonly Row[]): string {
  let out = '';
  for (const r of rows) out += JSON.stringify(r, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) + '\n';
  return out;
}
