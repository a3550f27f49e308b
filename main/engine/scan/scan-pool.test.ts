import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../errors.js';
import { memoryFromPages, writeImage } from '../acquire/writers/index.js';
import { openSource } from '../sources/detect.js';
import { scanPhysical, scanSource } from './scan-physical.js';
import { ScanPool } from './scan-pool.js';
import { activeScanWorkers } from './spawn-worker.js';
import { bytesScan, asciiHex } from './scanners/bytes.js';
import { poolTagScan, type PoolTagHit } from './scanners/pool-tag.js';
import { fixtureScan, type FixtureHit } from './testing/fixture-scanner.js';
import type { ScanEvent, ScanHit } from './types.js';

const PAGE = 4096;
const C = 256 * 1024;
const MiB = 1024 * 1024;
const SIZE = 8 * MiB;

async function collect<H extends ScanHit>(events: AsyncIterable<ScanEvent<H>>): Promise<{ hits: H[]; errors: string[]; last: number }> {
  const hits: H[] = [];
  const errors: string[] = [];
  let last = 0;
  for await (const ev of events) {
    if (ev.type === 'hit') hits.push(ev.hit);
    else if (ev.type === 'error') errors.push(ev.message);
    else last = ev.bytesDone;
  }
  hits.sort((a, b) => a.pa - b.pa);
  return { hits, errors, last };
}

let dir: string;
let file: string;
const procs: number[] = [];
const thres: number[] = [];
const tagAt = new Map<number, string>();
const mz: number[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memscope-pool-'));
  const pages = new Map<number, Uint8Array>();
  const put = (pa: number, bytes: Uint8Array): void => {
    const page = pa - (pa % PAGE);
    let p = pages.get(page);
    if (!p) pages.set(page, (p = new Uint8Array(PAGE)));
    p.set(bytes, pa - page);
  };
  for (let i = 0; i < 64; i++) {
    const pa = i * (SIZE / 64) + ((i * 0x330) % 0xf00) * 16 % PAGE; // spread, 16-byte aligned
    const at = pa - (pa % 16);
    const tag = i % 3 === 0 ? 'Thre' : i % 3 === 1 ? 'Proc' : 'Pro\xe3';
    put(at + 4, Buffer.from(tag, 'latin1'));
    (i % 3 === 0 ? thres : procs).push(at);
    tagAt.set(at, tag);
  }
  for (let i = 0; i < 8; i++) {
    put(i * MiB + 3 * PAGE, Buffer.from('MZ'));
    mz.push(i * MiB + 3 * PAGE);
  }
  file = path.join(dir, 'pool.raw');
  writeImage(file, 'raw', memoryFromPages([{ start: 0, length: SIZE }], (pa) => pages.get(pa) ?? null));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('ScanPool: workers kept across scans', () => {
  it('serves many scans, one after another and at the same time, with workers started once; same hits as in-process', async () => {
    const pool = new ScanPool({ sourcePath: file, workers: 2 });
    try {
      const procSpec = poolTagScan({ tags: ['Proc', 'Pro\xe3'] });
      const both = poolTagScan({ tags: ['Proc', 'Pro\xe3', 'Thre', 'Thr\xe5'] });
      const a = await collect(scanPhysical({ pool, scanner: procSpec, chunkSize: C }));
      expect(a.hits.map((h) => h.pa)).toEqual([...procs].sort((x, y) => x - y));
      expect(a.last).toBe(SIZE);
      expect(pool.liveWorkers).toBe(2);
      expect(activeScanWorkers()).toBe(2);
      // two scans at once (discovery runs two): each gets exactly its own hits
      const [b, m] = await Promise.all([
        collect(scanPhysical({ pool, scanner: both, chunkSize: C })),
        collect(scanPhysical({ pool, scanner: bytesScan({ needles: [asciiHex('MZ')], align: PAGE }), chunkSize: C })),
      ]);
      expect(b.hits.map((h) => [h.pa, (h as PoolTagHit).tag])).toEqual([...tagAt].sort((x, y) => x[0] - y[0]));
      expect(m.hits.map((h) => h.pa)).toEqual(mz);
      const src = openSource(file);
      const local = await collect(scanSource(src, both, { chunkSize: C }));
      src.close();
      expect(b.hits).toEqual(local.hits);
      expect(pool.liveWorkers).toBe(2); // no worker started for the later scans
    } finally {
      await pool.close();
    }
    expect(activeScanWorkers()).toBe(0);
    await expect(collect(scanPhysical({ pool, scanner: poolTagScan({ tags: ['Proc'] }) }))).rejects.toThrow(/scan pool for .*pool\.raw is closed/);
  });

  it('an aborted or abandoned scan leaves the pool usable; a crash in one scan does not end the next', async () => {
    const pool = new ScanPool({ sourcePath: file, workers: 2 });
    try {
      await pool.warm();
      const ac = new AbortController();
      let n = 0;
      const aborted = collect(
        (async function* () {
          for await (const ev of scanPhysical({ pool, scanner: fixtureScan({ delayMs: 20 }), chunkSize: C, signal: ac.signal })) {
            if (ev.type === 'progress' && ++n === 2) ac.abort();
            yield ev;
          }
        })(),
      );
      await expect(aborted).rejects.toMatchObject({ kind: 'cancelled' });
      for await (const ev of scanPhysical({ pool, scanner: poolTagScan({ tags: ['Proc'] }), chunkSize: C })) if (ev.type === 'hit') break;
      const crashed = await collect(scanPhysical({ pool, scanner: fixtureScan({ failPa: 5 * C + 1, mode: 'exit' }), chunkSize: C }));
      expect(crashed.errors).toHaveLength(1);
      expect(crashed.errors[0]).toMatch(/chunk 0x140000-0x180000: scan worker crashed: exit code 3/);
      expect(crashed.hits).toHaveLength(SIZE / C - 1);
      const after = await collect(scanPhysical({ pool, scanner: poolTagScan({ tags: ['Thre'] }), chunkSize: C }));
      expect(after.hits.map((h) => h.pa)).toEqual(thres);
      expect(pool.liveWorkers).toBe(2); // the crashed worker was replaced
    } finally {
      await pool.close();
    }
    expect(activeScanWorkers()).toBe(0);
  });

  it('a scanner that cannot start in a worker fails that scan only', async () => {
    const pool = new ScanPool({ sourcePath: file, workers: 2 });
    try {
      await expect(collect(scanPhysical({ pool, scanner: fixtureScan({ initFail: 'throw' }), chunkSize: C }))).rejects.toThrow('fixture cannot start in a worker');
      const ok = await collect(scanPhysical({ pool, scanner: poolTagScan({ tags: ['Thre'] }), chunkSize: C }));
      expect(ok.hits.map((h) => h.pa)).toEqual(thres);
    } finally {
      await pool.close();
    }
  });

  it('the calling thread scans while no worker is ready when asked, never once a worker is', async () => {
    const threads = async (opts: { mainThreadStart?: boolean; pool?: ScanPool }): Promise<{ main: number; worker: number }> => {
      const r = await collect(scanPhysical({ ...(opts.pool ? { pool: opts.pool } : { sourcePath: file, workers: 2 }), scanner: fixtureScan({}), chunkSize: C, ...opts }));
      expect(r.hits.map((h) => h.pa)).toEqual(Array.from({ length: SIZE / C }, (_, i) => i * C)); // every chunk once
      const main = r.hits.filter((h) => (h as FixtureHit).thread === 'main').length;
      return { main, worker: r.hits.length - main };
    };
    const started = await threads({ mainThreadStart: true });
    expect(started.main).toBeGreaterThan(0); // 256 KiB chunks take well under a worker's start-up
    expect(started.main + started.worker).toBe(SIZE / C);
    expect((await threads({ mainThreadStart: false })).main).toBe(0);
    expect((await threads({})).main).toBe(0); // off by default
    const pool = new ScanPool({ sourcePath: file, workers: 2 });
    try {
      await pool.warm(); // every worker ready
      expect((await threads({ pool, mainThreadStart: true })).main).toBe(0);
    } finally {
      await pool.close();
    }
    // built-in scanners: the same hits either way
    const spec = poolTagScan({ tags: ['Proc', 'Pro\xe3'] });
    const a = await collect(scanPhysical({ sourcePath: file, scanner: spec, chunkSize: C, workers: 2, mainThreadStart: true }));
    const b = await collect(scanPhysical({ sourcePath: file, scanner: spec, chunkSize: C, workers: 2, mainThreadStart: false }));
    expect(a).toEqual(b);
    expect(a.hits.map((h) => h.pa)).toEqual([...procs].sort((x, y) => x - y));
    expect(activeScanWorkers()).toBe(0);
  });

  it('workers go on taking chunks while the consuming thread is busy (no round trip per chunk)', async () => {
    const pool = new ScanPool({ sourcePath: file, workers: 2 });
    try {
      await pool.warm();
      const hits: FixtureHit[] = [];
      let blockedFrom = 0;
      let blockedTo = 0;
      // 10 ms per chunk: the scan outlasts the first hit's arrival, whatever the machine's load
      for await (const ev of scanPhysical({ pool, scanner: fixtureScan({ delayMs: 10 }), chunkSize: C })) {
        if (ev.type !== 'hit') continue;
        hits.push(ev.hit);
        if (blockedFrom === 0) {
          // this thread stops serving messages, as it does while it validates hits or walks page tables
          blockedFrom = Date.now();
          while (Date.now() - blockedFrom < 400) {
            /* busy */
          }
          blockedTo = Date.now();
        }
      }
      expect(hits).toHaveLength(SIZE / C);
      // with one chunk per message round trip, each worker could scan at most one chunk meanwhile
      expect(hits.filter((h) => h.at > blockedFrom && h.at < blockedTo).length).toBeGreaterThan(pool.size);
    } finally {
      await pool.close();
    }
  });

  it('an idle open pool never holds up process exit; an awaited warm() and a running scan keep it alive', () => {
    const script = `
      import { ScanPool } from ${JSON.stringify(new URL('./scan-pool.ts', import.meta.url).href)};
      import { scanPhysical } from ${JSON.stringify(new URL('./scan-physical.ts', import.meta.url).href)};
      import { poolTagScan } from ${JSON.stringify(new URL('./scanners/pool-tag.ts', import.meta.url).href)};
      const pool = new ScanPool({ sourcePath: ${JSON.stringify(file)}, workers: 2 });
      await pool.warm();
      let hits = 0;
      for await (const ev of scanPhysical({ pool, scanner: poolTagScan({ tags: ['Thre'] }), chunkSize: ${C} })) if (ev.type === 'hit') hits++;
      console.log('hits', hits, 'live', pool.liveWorkers);
      // no close(): the process must still end on its own
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`hits ${thres.length} live 2`);
  });

  it('refuses a pool for another image and a pool without a path', async () => {
    const pool = new ScanPool({ sourcePath: file, workers: 1 });
    await expect(collect(scanPhysical({ pool, sourcePath: path.join(dir, 'other.raw'), scanner: poolTagScan({ tags: ['Proc'] }) }))).rejects.toThrow(/not the pool's image/);
    await expect(collect(scanPhysical({ scanner: poolTagScan({ tags: ['Proc'] }) }))).rejects.toBeInstanceOf(MemScopeError);
    expect(() => new ScanPool({ sourcePath: file, workers: 0 })).toThrow(/workers 0/);
    const missing = new ScanPool({ sourcePath: path.join(dir, 'missing.raw') });
    await expect(collect(scanPhysical({ pool: missing, scanner: poolTagScan({ tags: ['Proc'] }) }))).rejects.toMatchObject({ kind: 'io' });
    await missing.close();
    await pool.close();
    expect(activeScanWorkers()).toBe(0);
  });
});
