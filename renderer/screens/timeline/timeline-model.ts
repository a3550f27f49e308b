/**
 * The timeline's data, pure (no DOM): one bar per process from its create time to its exit (or to the
 * capture time when it was still running), in create-time order; processes with no readable create
 * time in an "undated" lane, never dropped; a time before boot or after capture flagged implausible;
 * processes created within a window around the user's incident time marked. Relative wording
 * ("4 min before capture") always counts from the image's capture time.
 */
import type { ImageTime, ProcessStatus, ProcessTableRow } from '../../../common/contract.js';
import { relativeToCapture } from '../../components/capture-time.js';

export interface Bar {
  readonly key: string;
  readonly name: string;
  readonly pid: number | null;
  readonly status: ProcessStatus;
  /** ms since the epoch; null for an undated process. */
  readonly start: number | null;
  /** Exit time, or the capture time (then `running` is true); null when neither is known. */
  readonly end: number | null;
  readonly running: boolean;
  /** Why a time of this process cannot be true, or null. */
  readonly implausible: string | null;
}

export interface TimelineData {
  readonly dated: readonly Bar[];
  readonly undated: readonly Bar[];
  readonly boot: number | null;
  readonly capture: number | null;
  /** The full extent, padded: boot (or the first create) to capture (or the last end). */
  readonly domain: readonly [number, number];
}

const parse = (iso: string | null | undefined): number | null => {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
};

export function buildTimeline(rows: ReadonlyMap<string, ProcessTableRow>, order: readonly string[], time: ImageTime | undefined | null): TimelineData {
  const boot = parse(time?.bootTime);
  const capture = parse(time?.captureTime);
  const dated: Bar[] = [];
  const undated: Bar[] = [];
  for (const key of order) {
    const r = rows.get(key);
    if (!r) continue;
    const start = parse(r.process?.createTime);
    const exit = parse(r.process?.exitTime ?? r.psxview.exitTime);
    const flags: string[] = [];
    if (start !== null && boot !== null && start < boot) flags.push('created before boot');
    if (start !== null && capture !== null && start > capture) flags.push('created after capture');
    if (exit !== null && capture !== null && exit > capture) flags.push('exited after capture');
    if (exit !== null && start !== null && exit < start) flags.push('exited before it was created');
    // an exited process or a remnant without a readable exit time did not run until capture: its end is unknown
    const dead = r.status === 'exited' || r.status === 'remnant';
    const bar: Bar = {
      key, name: r.psxview.name ?? r.process?.name ?? '(no name)', pid: r.psxview.pid, status: r.status,
      start, end: exit ?? (dead ? null : capture), running: exit === null && !dead && capture !== null,
      implausible: flags.length ? flags.join('; ') : null,
    };
    (start === null ? undated : dated).push(bar);
  }
  dated.sort((a, b) => (a.start ?? 0) - (b.start ?? 0) || (a.pid ?? 0) - (b.pid ?? 0));
  const starts = dated.map((b) => b.start as number);
  const ends = dated.map((b) => b.end ?? (b.start as number));
  const lo = Math.min(...(boot !== null ? [boot] : []), ...starts);
  const hi = Math.max(...(capture !== null ? [capture] : []), ...ends);
  const [a, b] = Number.isFinite(lo) && Number.isFinite(hi) ? [lo, Math.max(hi, lo + 1000)] : [Date.now() - 3_600_000, Date.now()];
  const pad = (b - a) * 0.02;
  return { dated, undated, boot, capture, domain: [a - pad, b + pad] };
}

/** Keys of the processes created within ±windowMs of the incident time. */
export function createdNear(bars: readonly Bar[], incident: number | null, windowMs: number): ReadonlySet<string> {
  const out = new Set<string>();
  if (incident === null) return out;
  for (const b of bars) if (b.start !== null && Math.abs(b.start - incident) <= windowMs) out.add(b.key);
  return out;
}

/** What a bar says in words (its label and accessible name). */
export function describeBar(b: Bar, capture: number | null): string {
  const who = `${b.name} PID ${b.pid ?? '?'}`;
  const status = b.status === 'normal' ? '' : `, ${b.status}`;
  if (b.start === null) return `${who}${status}, no readable create time`;
  const created = `created ${new Date(b.start).toISOString()} (${relativeToCapture(b.start, capture)})`;
  const ended = b.running ? 'running at capture' : b.end === null ? 'exit time unreadable' : `exited ${new Date(b.end).toISOString()} (${relativeToCapture(b.end, capture)})`;
  return `${who}${status}, ${created}, ${ended}${b.implausible ? `; implausible: ${b.implausible}` : ''}`;
}
