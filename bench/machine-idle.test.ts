import { describe, expect, it } from 'vitest';
import { busyShare, settle } from './machine-idle.js';

const linux = process.platform === 'linux';

describe('waiting for a quiet machine before a timed pass', () => {
  it.runIf(linux)('reads the busy share of all CPUs from /proc/stat, and sees a busy loop', async () => {
    const idle = await busyShare(200);
    expect(idle).not.toBeNull();
    expect(idle!).toBeGreaterThanOrEqual(0);
    expect(idle!).toBeLessThanOrEqual(1);
    // Spin this thread for the whole window: at least one CPU of the machine's is then busy.
    const spun = busyShare(300);
    const end = Date.now() + 280;
    while (Date.now() < end) { /* busy */ }
    const busy = (await spun)!;
    expect(busy).toBeGreaterThan(0.7 / (await import('node:os')).cpus().length);
  });

  it.runIf(linux)('gives up after its limit when the machine never goes quiet, and says how busy it was', async () => {
    const s = await settle({ below: 0, windowMs: 100, maxMs: 400 });
    expect(s.waitedMs).toBeGreaterThanOrEqual(400);
    expect(s.waitedMs).toBeLessThan(2000);
    expect(s.busyAtStart).not.toBeNull();
  });

  it.runIf(linux)('starts at once when the machine is quiet enough', async () => {
    const s = await settle({ below: 1.01, windowMs: 100, maxMs: 5000 });
    expect(s.waitedMs).toBeLessThan(1000);
    expect(s.busyBefore).toEqual(expect.any(Number));
  });
});
