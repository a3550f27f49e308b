/**
 * Waits for the machine to go quiet before a timed pass whose target is about our own work, not the
 * machine's: on this 2-core machine the steps before the renderer rows (whole-memory scans, sparse
 * 256 GiB images) leave the kernel busy for seconds (writeback, reclaim), and a scroll frame measured
 * then waits on that. Busy share comes from /proc/stat (all CPUs); elsewhere there is nothing to read
 * and the pass starts at once, saying so.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

interface CpuTimes { readonly busy: number; readonly total: number }

function cpuTimes(): CpuTimes | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
    if (!line) return null;
    // user nice system idle iowait irq softirq steal ...: idle and iowait are the idle share.
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
  } catch {
    return null;
  }
}

/** The share of all CPUs busy over the next `ms` (0..1), or null where /proc/stat cannot be read. */
export async function busyShare(ms: number): Promise<number | null> {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  if (!a || !b || b.total <= a.total) return null;
  return (b.busy - a.busy) / (b.total - a.total);
}

export interface Settled {
  /** Busy share in the first window, before any wait (null: not measurable here). */
  readonly busyBefore: number | null;
  /** Busy share in the last window, when the pass starts. */
  readonly busyAtStart: number | null;
  readonly waitedMs: number;
}

/** Returns once two consecutive windows are under `below` busy, or after `maxMs` whatever the machine does. */
export async function settle(o: { readonly below?: number; readonly windowMs?: number; readonly maxMs?: number } = {}): Promise<Settled> {
  const below = o.below ?? 0.15;
  const windowMs = o.windowMs ?? 500;
  const maxMs = o.maxMs ?? 30_000;
  const t0 = Date.now();
  const first = await busyShare(windowMs);
  if (first === null) return { busyBefore: null, busyAtStart: null, waitedMs: Date.now() - t0 };
  let last = first;
  let quiet = first < below ? 1 : 0;
  while (quiet < 2 && Date.now() - t0 < maxMs) {
    last = (await busyShare(windowMs)) ?? 0;
    quiet = last < below ? quiet + 1 : 0;
  }
  return { busyBefore: first, busyAtStart: last, waitedMs: Date.now() - t0 };
}
