/**
 * The fed scan pool over the simulated WinPmem device (scan/feed.ts): one reader thread holds the
 * device and fills shared-memory slots, the workers scan them. Same hits as the image file's
 * per-worker scan; unreadable pages counted exactly once each (one sits in the overlap two chunks
 * read); several scans at once, an abort, and a consumer that leaves early neither hang nor leak;
 * the reader scanning chunks itself while its ring is full, every piece exactly once; a worker that
 * dies mid-chunk costs that chunk only, and the reader is not left waiting for its slots.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../../main/engine/errors.js';
import { poolTagScan, type PoolTagHit } from '../../main/engine/scan/scanners/pool-tag.js';
import { scanPhysical } from '../../main/engine/scan/scan-physical.js';
import { ScanPool } from '../../main/engine/scan/scan-pool.js';
import { fixtureScan, type FixtureHit } from '../../main/engine/scan/testing/fixture-scanner.js';
import { activeScanWorkers } from '../../main/engine/scan/spawn-worker.js';
import type { ScanEvent } from '../../main/engine/scan/types.js';
import type { SourceRef } from '../../main/engine/sources/source-ref.js';
import './live-ref.js';

const MiB = 1024 * 1024;
const SIZE = 24 * MiB;
/** Pool headers with a 'Proc' tag: across chunk (1 MiB) boundaries' overlaps, and one on an unreadable page. */
const HEADERS = [0x10, 0xfffff0, 0x100000, 0x3abc0, 0x5000000 / 16, 0x17ffff0];
/** Pages the simulated driver cannot map: 0x400000 is read twice (owned by its chunk, and the overlap of the one before). */
const BAD = [0x400000, 0x401000, 0x9ff000, 0x1234000];

let dir: string;
let image: string;
/** 64 MiB of zeros: eight 8 MiB chunks of eight 1 MiB pieces each. */
let big: string;
const BIG = 64 * MiB;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'memscope-fed-'));
  image = join(dir, 'mem.raw');
  const mem = new Uint8Array(SIZE);
  for (const h of HEADERS) mem.set([...'Proc'].map((c) => c.charCodeAt(0)), h + 4);
  writeFileSync(image, mem);
  big = join(dir, 'big.raw');
  writeFileSync(big, new Uint8Array(BIG));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function collect(events: AsyncIterable<ScanEvent<PoolTagHit>>): Promise<{ hits: number[]; pages: number; errors: string[]; last: number }> {
  const hits: number[] = [];
  const errors: string[] = [];
  let pages = 0;
  let last = 0;
  for await (const ev of events) {
    if (ev.type === 'hit') hits.push(ev.hit.pa);
    else if (ev.type === 'error') { errors.push(ev.message); pages += ev.unreadablePages ?? 0; }
    else last = ev.bytesDone;
  }
  return { hits: hits.sort((a, b) => a - b), pages, errors, last };
}

const tags = poolTagScan({ tags: ['Proc'] });

async function fixtureRun(events: AsyncIterable<ScanEvent<FixtureHit>>): Promise<{ hits: FixtureHit[]; errors: string[] }> {
  const hits: FixtureHit[] = [];
  const errors: string[] = [];
  for await (const ev of events) {
    if (ev.type === 'hit') hits.push(ev.hit);
    else if (ev.type === 'error') errors.push(ev.message);
  }
  hits.sort((a, b) => a.pa - b.pa);
  return { hits, errors };
}

/** The fixture reports one hit per scanned window: the start of every 1 MiB piece. */
const pieceStarts = (from: number, to: number): number[] => Array.from({ length: (to - from) / MiB }, (_, i) => from + i * MiB);

describe('a fed scan pool on the simulated WinPmem device', () => {
  it('finds what the image file scan finds, read by one reader for every worker', async () => {
    const fed = new ScanPool({ ref: { kind: 'simulated', image }, workers: 2 });
    const file = new ScanPool({ ref: { kind: 'file', path: image, format: 'raw' }, workers: 2 });
    try {
      expect(fed.fed).toBe(true);
      expect(file.fed).toBe(false);
      const a = await collect(scanPhysical({ pool: fed, scanner: tags }));
      const b = await collect(scanPhysical({ pool: file, scanner: tags }));
      expect(a.hits).toEqual([...HEADERS].sort((x, y) => x - y));
      expect(a.hits).toEqual(b.hits);
      expect(a.last).toBe(SIZE);
      expect(a.errors).toEqual([]);
    } finally {
      await fed.close();
      await file.close();
    }
  }, 60_000);

  it('counts each unreadable page once (one read by two chunks) and still finds the tags elsewhere', async () => {
    const ref: SourceRef = { kind: 'simulated', image, unreadablePages: BAD };
    const pool = new ScanPool({ ref, workers: 2 });
    try {
      const r = await collect(scanPhysical({ pool, scanner: tags }));
      expect(r.pages).toBe(BAD.length);
      expect(r.errors.every((e) => /unreadable pages \(the device refused them\) were scanned as zeros/.test(e))).toBe(true);
      expect(r.hits).toEqual([...HEADERS].sort((x, y) => x - y));
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('serves two scans at once, survives a consumer that leaves early, and stops on abort', async () => {
    const pool = new ScanPool({ ref: { kind: 'simulated', image }, workers: 2 });
    try {
      const [a, b] = await Promise.all([collect(scanPhysical({ pool, scanner: tags })), collect(scanPhysical({ pool, scanner: tags }))]);
      expect(a.hits).toEqual(b.hits);
      expect(a.hits).toHaveLength(HEADERS.length);
      for await (const ev of scanPhysical({ pool, scanner: tags })) if (ev.type === 'progress') break;
      const ac = new AbortController();
      let seen = 0;
      const aborted = (async () => {
        for await (const ev of scanPhysical({ pool, scanner: tags, signal: ac.signal })) if (ev.type === 'progress' && ++seen === 3) ac.abort();
      })();
      await expect(aborted).rejects.toSatisfy((e: unknown) => e instanceof MemScopeError && e.kind === 'cancelled');
      const again = await collect(scanPhysical({ pool, scanner: tags }));
      expect(again.hits).toEqual(a.hits);
    } finally {
      await pool.close();
    }
    expect(activeScanWorkers()).toBe(0); // the reader and the workers are gone
  }, 60_000);

  // size 2: the ring holds a chunk beside the worker's, the reader takes it from the ring; size 3:
  // the two workers' chunks fill the ring, the reader reads the next chunk itself
  it.each([2, 3])('the reader scans chunks itself while its ring is full: every piece scanned exactly once (pool of %i)', async (size) => {
    const pool = new ScanPool({ ref: { kind: 'simulated', image: big }, workers: size });
    try {
      expect(pool.size).toBe(size);
      // a slow scanner (10 ms a piece): the reader fills the ring long before a worker frees it, and
      // has its own scanner built long before the workers are through
      const r = await fixtureRun(scanPhysical({ pool, scanner: fixtureScan({ delayMs: 10 }) }));
      expect(r.errors).toEqual([]);
      expect(r.hits.map((h) => h.pa)).toEqual(pieceStarts(0, BIG));
      expect(r.hits.some((h) => h.thread === 'reader')).toBe(true);
      expect(r.hits.some((h) => h.thread === 'worker')).toBe(true);
      expect(r.hits.some((h) => h.thread === 'main')).toBe(false);
      expect(pool.liveWorkers).toBe(size - 1); // the reader is a scanning thread too
    } finally {
      await pool.close();
    }
  }, 60_000);

  it.each([
    ['throws', 'throw', /chunk 0x1000000-0x1800000: fixture failure at 20971521/],
    ['dies', 'exit', /chunk 0x1000000-0x1800000: scan worker crashed: exit code 3/],
  ] as const)('a scanner that %s mid-chunk in a worker costs that chunk only: the rest of its pieces leave the ring, the pool scans again', async (_, mode, error) => {
    const pool = new ScanPool({ ref: { kind: 'simulated', image: big }, workers: 2 });
    try {
      // built in the workers only, so the worker (not the reader) scans chunk 2, failing at its fifth piece
      const failed = await fixtureRun(scanPhysical({ pool, scanner: fixtureScan({ failPa: 20 * MiB + 1, mode, readerFail: true }) }));
      expect(failed.errors).toHaveLength(1);
      expect(failed.errors[0]).toMatch(error);
      expect(failed.hits.map((h) => h.pa)).toEqual([...pieceStarts(0, 16 * MiB), ...pieceStarts(24 * MiB, BIG)]);
      expect(failed.hits.every((h) => h.thread === 'worker')).toBe(true);
      const after = await fixtureRun(scanPhysical({ pool, scanner: fixtureScan({}) }));
      expect(after.errors).toEqual([]);
      expect(after.hits.map((h) => h.pa)).toEqual(pieceStarts(0, BIG));
      expect(pool.liveWorkers).toBe(1); // a dead worker was replaced
    } finally {
      await pool.close();
    }
    expect(activeScanWorkers()).toBe(0);
  }, 60_000);

  it('a scanner that throws in the reader costs each chunk it took there, and nothing else', async () => {
    const pool = new ScanPool({ ref: { kind: 'simulated', image: big }, workers: 2 });
    try {
      // every chunk the reader takes fails at its first piece; the worker's chunks are whole
      const r = await fixtureRun(scanPhysical({ pool, scanner: fixtureScan({ delayMs: 10, throwInReader: true }) }));
      const failed = r.errors.map((e) => /chunk (0x[0-9a-f]+)-/.exec(e)![1]!).map(Number);
      expect(r.errors.every((e) => /fixture failure in the reader at/.test(e))).toBe(true);
      expect(failed.length).toBeGreaterThan(0);
      const whole = [...new Set(r.hits.map((h) => Math.floor(h.pa / (8 * MiB)) * 8 * MiB))];
      expect([...whole, ...failed].sort((a, b) => a - b)).toEqual(Array.from({ length: 8 }, (_, i) => i * 8 * MiB));
      expect(r.hits).toHaveLength(whole.length * 8);
      const after = await fixtureRun(scanPhysical({ pool, scanner: fixtureScan({}) }));
      expect(after.hits.map((h) => h.pa)).toEqual(pieceStarts(0, BIG));
    } finally {
      await pool.close();
    }
    expect(activeScanWorkers()).toBe(0);
  }, 60_000);
});
