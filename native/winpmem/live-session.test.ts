/**
 * The live source through the same session as an image: a sample image served by the simulated
 * WinPmem driver (MEMSCOPE_SIMULATED_PMEM's path), opened by SourceRef. Discovery takes CR3 and the
 * kernel base from GET_INFO and verifies them; psscan runs on scan workers fed by one reader of the
 * simulated device; the rows equal the image's; unreadable pages become warnings, never a failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSample, type GroundTruth } from '../../main/engine/sample/index.js';
import { openSession } from '../../main/engine/session/session.js';
import { processKey } from '../../main/engine/session/tables.js';
import './live-ref.js';

let dir: string;
let image: string;
let truth: GroundTruth;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memscope-live-'));
  image = join(dir, 'sample.raw');
  truth = await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, lowStub: false });
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a live session on the simulated WinPmem device', () => {
  it('discovers the kernel from GET_INFO, says it is simulated, and psscan on workers matches the image', async () => {
    const live = await openSession({ kind: 'simulated', image }, { workers: 2 });
    const img = await openSession(image, { workers: 2 });
    try {
      expect(live.info.source).toMatchObject({ format: 'winpmem', live: true, runs: truth.runs.length });
      expect(live.info.kernel.dtbMethod).toBe('GET_INFO CR3, verified'); // discovery's source-cr3: the driver's CR3, validated
      expect(live.info.source.fileName).toBe('SIMULATED live memory (sample.raw)');
      expect(live.info.kernel.kernelBase).toBe(img.info.kernel.kernelBase);
      expect(live.info.kernel.dtb).toBe(img.info.kernel.dtb);
      expect(live.info.warnings[0]).toMatch(/^simulated live memory: the WinPmem driver protocol served from .*sample\.raw/);
      expect(live.scanPool?.ref).toEqual({ kind: 'simulated', image });
      const a = await live.runToEnd('psscan');
      // the scan ran on two threads: the pool's one reader of the device (scanning while its ring is full) and a worker
      expect(live.scanPool!.size).toBe(2);
      expect(live.scanPool!.liveWorkers).toBe(1);
      expect(live.scanPool!.fed).toBe(true);
      const b = await img.runToEnd('psscan');
      expect([...a.rows.keys()].sort()).toEqual([...b.rows.keys()].sort());
      expect(a.rows.size).toBeGreaterThan(10);
      const pl = await live.runToEnd('pslist');
      expect([...pl.rows.values()].map(processKey).sort()).toEqual([...(await img.runToEnd('pslist')).rows.values()].map(processKey).sort());
    } finally {
      await live.close();
      await img.close();
    }
  }, 120_000);

  it('pages the driver cannot read are warnings of the scan, zero-filled, counted on the done event and in the header; the run still completes', async () => {
    const bad = [0x1000000, 0x1001000, 0x2345000];
    expect(bad.every((pa) => truth.runs.some((r) => pa >= Number(r.start) && pa < Number(r.start) + Number(r.length)))).toBe(true);
    const live = await openSession({ kind: 'simulated', image, unreadablePages: bad }, { workers: 2 });
    const img = await openSession(image, { workers: 2 });
    try {
      const events = await live.collect({ plugin: 'psscan' });
      const done = events.at(-1)!;
      expect(done).toMatchObject({ type: 'done', outcome: 'completed', unreadablePages: bad.length });
      const r = live.result('psscan')!;
      expect(r.unreadablePages).toBe(bad.length);
      const absent = r.warnings.filter((w) => /unreadable pages \(the device refused them\)/.test(w));
      expect(absent.length).toBeGreaterThan(0);
      expect(live.info.warnings).toContain(`${bad.length} pages could not be read from the device (zero-filled; see the run warnings)`);
      // the processes elsewhere are all still found
      const b = await img.runToEnd('psscan');
      expect(b.unreadablePages).toBe(0);
      expect([...r.rows.keys()].sort()).toEqual([...b.rows.keys()].sort());
      // replayed, the done event says the same
      expect((await live.collect({ plugin: 'psscan' })).at(-1)).toMatchObject({ type: 'done', unreadablePages: bad.length });
      expect((await img.collect({ plugin: 'psscan' })).at(-1)).not.toHaveProperty('unreadablePages');
    } finally {
      await live.close();
      await img.close();
    }
  }, 120_000);
});
