/**
 * A process timeline in Timesketch's import format (https://timesketch.org/guides/user/import-from-json-csv/):
 * every event carries `message`, `datetime` (ISO 8601) and `timestamp_desc`; the rest are attributes.
 * One event per process create ("Process Created") and per exit ("Process Exited"); a process with no
 * readable create time gives no create event (its exit, if any, still does). CSV via the table export
 * (RFC 4180, formula-escaped: names come from the examined machine) and JSONL (one event a line).
 */
import { toCsv } from './index.js';
import { toJsonl } from './jsonl.js';

/** What the timeline needs of a process (a psxview row's process and status). */
export interface TimelineProcess {
  readonly pid: number | null;
  readonly ppid: number | null;
  readonly name: string | null;
  readonly status: string;
  /** EPROCESS kernel VA, or `pa:0x…` for a remnant no page table maps. */
  readonly eprocess: string;
  readonly createTime: string | null;
  readonly exitTime: string | null;
  readonly commandLine?: string | null;
}

export interface TimesketchEvent {
  readonly message: string;
  readonly datetime: string;
  readonly timestamp_desc: 'Process Created' | 'Process Exited';
  readonly pid: number | null;
  readonly ppid: number | null;
  readonly name: string | null;
  readonly status: string;
  readonly eprocess: string;
  readonly source_image: string;
  /** Empty, or why this time cannot be true: before the machine booted or after the image was taken. */
  readonly implausible: string;
}

export const TIMESKETCH_COLUMNS = ['message', 'datetime', 'timestamp_desc', 'pid', 'ppid', 'name', 'status', 'eprocess', 'source_image', 'implausible'] as const;

/** Boot and capture time (ISO), when known: a time outside them is flagged, never dropped. */
export interface TimeBounds { readonly bootTime: string | null; readonly captureTime: string | null }

/** Why `iso` cannot be a true process time on this machine, or '' (also used by the timeline screen). */
export function implausibility(iso: string, bounds: TimeBounds): string {
  const t = Date.parse(iso);
  if (bounds.bootTime !== null && t < Date.parse(bounds.bootTime)) return `before boot (${bounds.bootTime})`;
  if (bounds.captureTime !== null && t > Date.parse(bounds.captureTime)) return `after capture (${bounds.captureTime})`;
  return '';
}

const who = (p: TimelineProcess): string => `${p.name ?? '(no name)'} (PID ${p.pid ?? '?'}, PPID ${p.ppid ?? '?'})`;
const validIso = (s: string | null): s is string => s !== null && !Number.isNaN(Date.parse(s));

/** Events in time order (creates before exits at the same instant, then by PID). */
export function timelineEvents(processes: readonly TimelineProcess[], sourceImage: string, bounds: TimeBounds = { bootTime: null, captureTime: null }): TimesketchEvent[] {
  const out: TimesketchEvent[] = [];
  for (const p of processes) {
    const base = { pid: p.pid, ppid: p.ppid, name: p.name, status: p.status, eprocess: p.eprocess, source_image: sourceImage };
    const tag = p.status === 'normal' ? '' : ` [${p.status}]`;
    if (validIso(p.createTime)) out.push({ message: `Process created: ${who(p)}${tag}`, datetime: p.createTime, timestamp_desc: 'Process Created', ...base, implausible: implausibility(p.createTime, bounds) });
    if (validIso(p.exitTime)) out.push({ message: `Process exited: ${who(p)}${tag}`, datetime: p.exitTime, timestamp_desc: 'Process Exited', ...base, implausible: implausibility(p.exitTime, bounds) });
  }
  const rank = (e: TimesketchEvent) => (e.timestamp_desc === 'Process Created' ? 0 : 1);
  return out.sort((a, b) => Date.parse(a.datetime) - Date.parse(b.datetime) || rank(a) - rank(b) || (a.pid ?? 0) - (b.pid ?? 0));
}

export type TimesketchFormat = 'timesketch-csv' | 'timesketch-jsonl';
export const TIMESKETCH_FORMATS: readonly TimesketchFormat[] = ['timesketch-csv', 'timesketch-jsonl'];

export function renderTimesketch(format: TimesketchFormat, events: readonly TimesketchEvent[]): string {
  return format === 'timesketch-jsonl' ? toJsonl(events) : toCsv(events, { columns: TIMESKETCH_COLUMNS, bom: false });
}
