/**
 * An export answer that cannot be amplified: keys de-duplicated (a row once, where first asked for),
 * rendered a chunk of rows at a time with a turn of the event loop between chunks (so one export
 * does not stall every other client), and capped in size with a typed error that says how to export
 * instead. The rendering is the session's own (byte for byte the CLI's); chunks are stitched only
 * where the format is one header (CSV) or one array (JSON) — anything else is rendered whole.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ContractError, type Capabilities, type ExportTable } from '../../common/contract.js';
import type { ServiceLimits } from './limits.js';

type Format = 'csv' | 'json';
interface Rendered { readonly fileName: string; readonly mime: string; readonly text: string }
/** What an export needs of a session (engine/session AnalysisSession.exportTable). */
export interface Exporter {
  exportTable(table: ExportTable, format: Format, keys: readonly string[] | null): Rendered;
}

/** The typed refusal of an answer of `chars` characters over `limit`, or null when it fits. */
export function exportTooLarge(table: ExportTable, format: Format, chars: number, limit: number, host: Capabilities['host']): ContractError | null {
  if (chars <= limit) return null;
  const cli = `memscope ${table} IMAGE${table === 'dtb' ? ' --processes' : ''} --format ${format} --out FILE`;
  const app = host === 'bridge' ? ", or the desktop app's Export (saved to a file)" : '';
  return new ContractError('limit', `the ${table} export is over the ${limit}-character limit of one answer: export it with the CLI, \`${cli}\`${app}`);
}

/** Each key once, in the order first given (1M copies of one key ask for one row). */
export const uniqueKeys = (keys: readonly string[] | null): string[] | null => (keys === null ? null : [...new Set(keys)]);

/** How chunks of one rendering join: the first chunk's head, each later chunk's body, the end. */
interface Stitch {
  opening(text: string): string | null;
  continuation(text: string): string | null;
  readonly closing: string;
}

function stitchOf(format: Format, first: string): Stitch | null {
  if (format === 'json') {
    // JSON.stringify(rows, null, 2) + '\n': "[\n  {…},\n  {…}\n]\n"
    const inner = (t: string): string | null => (t.startsWith('[\n') && t.endsWith('\n]\n') && t.length > 5 ? t.slice(2, -3) : null);
    return { opening: (t) => (inner(t) === null ? null : t.slice(0, -3)), continuation: (t) => { const i = inner(t); return i === null ? null : `,\n${i}`; }, closing: '\n]\n' };
  }
  // BOM, header line, one CRLF-terminated record per row (csv-stringify): later chunks repeat the head
  const cut = first.indexOf('\r\n');
  if (cut < 0 || !first.endsWith('\r\n')) return null;
  const head = first.slice(0, cut + 2);
  return { opening: (t) => t, continuation: (t) => (t.startsWith(head) && t.endsWith('\r\n') ? t.slice(head.length) : null), closing: '' };
}

/** The export of `keys` (null: every row, the CLI's order), de-duplicated, chunked and capped. */
export async function exportCapped(session: Exporter, table: ExportTable, format: Format, keys: readonly string[] | null, limits: ServiceLimits, host: Capabilities['host']): Promise<Rendered> {
  const check = (chars: number): void => {
    const refused = exportTooLarge(table, format, chars, limits.exportChars, host);
    if (refused) throw refused;
  };
  const whole = (k: readonly string[] | null): Rendered => {
    const out = session.exportTable(table, format, k);
    check(out.text.length);
    return out;
  };
  const unique = uniqueKeys(keys);
  const size = Math.max(1, limits.exportChunkRows);
  if (unique === null || unique.length <= size) return whole(unique);

  const first = session.exportTable(table, format, unique.slice(0, size));
  const stitch = stitchOf(format, first.text);
  const opening = stitch?.opening(first.text) ?? null;
  if (stitch === null || opening === null) return whole(unique);
  const pieces = [opening];
  let chars = opening.length;
  check(chars);
  for (let at = size; at < unique.length; at += size) {
    await nextTurn(); // let other clients' requests and the HTTP server run between chunks
    const body = stitch.continuation(session.exportTable(table, format, unique.slice(at, at + size)).text);
    if (body === null) return whole(unique);
    pieces.push(body);
    chars += body.length;
    check(chars); // stop building as soon as the answer cannot be sent
  }
  pieces.push(stitch.closing);
  check(chars + stitch.closing.length);
  return { fileName: first.fileName, mime: first.mime, text: pieces.join('') };
}
