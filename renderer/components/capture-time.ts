/**
 * Times against the image's capture time, the one wording every screen uses (details panel, the
 * process table's time tooltips, the timeline): "4 min before capture". The capture time is
 * KUSER_SHARED_DATA.SystemTime as the session header reads it (for live memory: when it was read),
 * so a relative statement never counts from the clock of the machine doing the analysis. A time the
 * image itself makes impossible — later than the capture, earlier than the boot — says so in words.
 */
import type { ImageTime } from '../../common/contract.js';

const parse = (iso: string | null | undefined): number | null => {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
};

/** "62 ms before capture", "4 min before capture", "2 h 5 min before capture", "12 s after capture", "at capture". */
export function relativeToCapture(t: number, capture: number | null): string {
  if (capture === null) return '';
  const ms = capture - t;
  if (ms !== 0 && Math.abs(ms) < 1000) return `${Math.abs(ms)} ms ${ms > 0 ? 'before' : 'after'} capture`;
  const d = Math.round(ms / 1000);
  const abs = Math.abs(d);
  const text = abs < 60 ? `${abs} s` : abs < 3600 ? `${Math.round(abs / 60)} min` : abs < 86_400 ? `${Math.floor(abs / 3600)} h ${Math.round((abs % 3600) / 60)} min` : `${(abs / 86_400).toFixed(1)} days`;
  return d === 0 ? 'at capture' : `${text} ${d > 0 ? 'before' : 'after'} capture`;
}

export interface CaptureRelative {
  /** The time as the engine gave it (ISO 8601 UTC). */
  readonly iso: string;
  /** "4 min before capture"; null when the capture time (or this time) is unknown. */
  readonly relative: string | null;
  /** Why this time cannot be true of this image, in words; null when it can. */
  readonly implausible: string | null;
  /** All of it on one line: "2026-01-12T17:56:00.000Z · 4 min before capture". */
  readonly text: string;
}

/** A time from the image, placed against its capture and boot time; null when there is no time. */
export function againstCapture(iso: string | null | undefined, time: ImageTime | null | undefined): CaptureRelative | null {
  if (!iso) return null;
  const t = parse(iso);
  const capture = parse(time?.captureTime);
  const boot = parse(time?.bootTime);
  const relative = t !== null && capture !== null ? relativeToCapture(t, capture) : null;
  const implausible = t === null ? 'not a readable date'
    : capture !== null && t > capture ? 'later than the memory was captured'
      : boot !== null && t < boot ? `earlier than the machine booted (${time!.bootTime})`
        : null;
  const text = `${iso}${relative ? ` · ${relative}` : ''}${implausible ? `, implausible: ${implausible}` : ''}`;
  return { iso, relative, implausible, text };
}
