/**
 * lowerThreadPriority: on Linux it lowers the calling worker thread alone, never the process (the
 * reader and the main thread keep their priority); elsewhere it does nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { spawnModuleWorker } from './spawn-worker.js';
import { lowerThreadPriority, SCAN_WORKER_NICE } from './thread-priority.js';

/** nice of every thread of this process, from /proc/self/task/<tid>/stat (field 19). */
function niceByThread(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('lowerThreadPriority', () => {
  it.runIf(process.platform === 'linux')('lowers the worker thread that calls it, and no other thread', async () => {
    const before = niceByThread();
    expect(before.every((n) => n === 0)).toBe(true);
    const w = spawnModuleWorker(new URL('./testing/lower-priority-worker.ts', import.meta.url).href, 'lower-priority-worker', null);
    try {
      expect(await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })).toBe(true);
      const after = niceByThread();
      expect(after.filter((n) => n === SCAN_WORKER_NICE)).toHaveLength(1);
      expect(after.filter((n) => n !== 0 && n !== SCAN_WORKER_NICE)).toHaveLength(0);
    } finally {
      await w.terminate();
    }
  });

  it('does nothing where a priority call would change the whole process', () => {
    expect(lowerThreadPriority(SCAN_WORKER_NICE, 'win32')).toBe(false);
    expect(lowerThreadPriority(SCAN_WORKER_NICE, 'darwin')).toBe(false);
  });
});
