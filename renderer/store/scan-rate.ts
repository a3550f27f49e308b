/**
 * Scan speed and time left from progress samples: the rate over the last few seconds (a scan slows in
 * sparse or cold regions; the rate since the start would lag behind that), time left from it.
 */
export interface RateSample { readonly t: number; readonly bytes: number }

const WINDOW_MS = 3000;

export function addSample(samples: readonly RateSample[], s: RateSample): RateSample[] {
  const kept = samples.filter((x) => s.t - x.t <= WINDOW_MS);
  kept.push(s);
  return kept;
}

/** Bytes per second over the window, null until two samples span some time. */
export function bytesPerSecond(samples: readonly RateSample[]): number | null {
  if (samples.length < 2) return null;
  const a = samples[0]!;
  const b = samples[samples.length - 1]!;
  const dt = b.t - a.t;
  if (dt < 200) return null;
  return ((b.bytes - a.bytes) * 1000) / dt;
}

export function secondsLeft(samples: readonly RateSample[], bytesTotal: number): number | null {
  const rate = bytesPerSecond(samples);
  const last = samples[samples.length - 1];
  if (!rate || rate <= 0 || !last) return null;
  return Math.max(0, (bytesTotal - last.bytes) / rate);
}
