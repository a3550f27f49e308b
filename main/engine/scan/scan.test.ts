import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../errors.js';
import { writeImage, memoryFromPages } from '../acquire/writers/index.js';
import { openSource } from '../sources/detect.js';
import { MemorySource } from '../sources/memory-source.js';
import type { PhysicalRun } from '../sources/physical-source.js';
import { coalesceRuns, intersectRuns, planChunks } from './plan.js';
import { scanPhysical, scanSource } from './scan-physical.js';
import { activeScanWorkers } from './spawn-worker.js';
import { sequentialReadBaseline } from './baseline-read.js';
import { bytesScan, asciiHex } from './scanners/bytes.js';
import { pml4SelfRefScan } from './scanners/pml4-selfref.js';
import { poolTagScan, type PoolTagHit } from './scanners/pool-tag.js';
import { fixtureScan } from './testing/fixture-scanner.js';
import { anyOfScan, type AnyOfHit } from './scanners/any-of.js';
import { READ_WINDOW } from './chunk-loop.js';
import type { ScanEvent, ScanHit, ScannerSpec } from './types.js';

const PAGE = 4096;
const C = 256 * 1024; // chunk size used throughout: many chunks from a small image
const MiB = 1024 * 1024;

interface Collected<H> {
  hits: H[];
  progress: { bytesDone: number; bytesTotal: number }[];
  errors: string[];
}

async function collect<H extends ScanHit>(events: AsyncIterable<ScanEvent<H>>): Promise<Collected<H>> {
  const out: Collected<H> = { hits: [], progress: [], errors: [] };
  for await (const ev of events) {
    if (ev.type === 'hit') out.hits.push(ev.hit);
    else if (ev.type === 'progress') out.progress.push({ bytesDone: ev.bytesDone, bytesTotal: ev.bytesTotal });
    else out.errors.push(ev.message);
  }
  out.hits.sort((a, b) => a.pa - b.pa);
  return out;
}

/** Sparse physical content: page-aligned pa → 4 KiB page. */
class Pages {
  readonly map = new Map<number, Uint8Array>();
  put(pa: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const a = pa + i;
      const page = a - (a % PAGE);
      let p = this.map.get(page);
      if (!p) this.map.set(page, (p = new Uint8Array(PAGE)));
      p[a - page] = bytes[i]!;
    }
  }
  tag(headerPa: number, tag: string): void {
    const h = new Uint8Array(16);
    h[2] = 0x2b; // BlockSize, so the header bytes are recognisable
    h.set(Buffer.from(tag, 'latin1'), 4);
    this.put(headerPa, h);
  }
  pml4(pa: number, index: number): void {
    const b = new Uint8Array(PAGE);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(index * 8, 0x8000_0000_0000_0063n | BigInt(pa), true);
    dv.setBigUint64(0x1f0 * 8 + (index === 0x1f0 ? 8 : 0), 0x63n | 0x20_0000n, true);
    dv.setBigUint64(0x1f8 * 8 + (index === 0x1f8 ? 8 : 0), 0x63n | 0x21_0000n, true);
    this.put(pa, b);
  }
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memscope-scan-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** 8 MiB raw image; expected pool-tag hits listed in `expectProc`. */
function rawFixture(): { file: string; expectProc: number[]; expectThre: number[]; expectPml4: number[]; size: number } {
  const size = 8 * MiB;
  const p = new Pages();
  const expectProc: number[] = [];
  const expectThre: number[] = [];
  const proc = (pa: number): void => {
    p.tag(pa, 'Proc');
    expectProc.push(pa);
  };
  proc(0x1000);
  proc(C - 16); // last header of chunk 0: ends exactly at the boundary
  proc(2 * C); // header lies in chunk 1's overlap: owned (and reported) by chunk 2 only
  proc(5 * C - 16); // last header wholly inside chunk 4
  proc(size - 16); // very end of the image
  p.tag(0x3001, 'Proc'); // misaligned decoys
  p.tag(0x3008, 'Proc');
  p.tag(3 * C + 0x40, 'Thre');
  p.put(C - 2, Buffer.from('RSDS1234')); // needle straddles the chunk 0 / chunk 1 boundary
  p.put(4 * C + 4, Buffer.from('RSDS5678')); // inside chunk 3's overlap: owned by chunk 4
  expectThre.push(3 * C + 0x40);
  const expectPml4 = [0x20_0000 - PAGE, 6 * C, 0x40_0000 + 0x1d000]; // 6 * C < 0x20_0000 - PAGE
  p.pml4(expectPml4[0]!, 0x1ed);
  p.pml4(expectPml4[1]!, 0x100);
  p.pml4(expectPml4[2]!, 0x1ff);
  const file = path.join(dir, 'fixture.raw');
  writeImage(file, 'raw', memoryFromPages([{ start: 0, length: size }], (pa) => p.map.get(pa) ?? null));
  return { file, expectProc: expectProc.sort((a, b) => a - b), expectThre, expectPml4, size };
}

describe('chunk planning', () => {
  it('merges touching runs, cuts on absolute chunk multiples, overlaps within a run only', () => {
    expect(coalesceRuns([{ start: 0x20000, length: 0x10000 }, { start: 0, length: 0x20000 }, { start: 0x40000, length: 0x1000 }])).toEqual([
      { start: 0, length: 0x30000 },
      { start: 0x40000, length: 0x1000 },
    ]);
    const chunks = planChunks([{ start: 0x1000, length: 0x2_0000 }, { start: 0x10_0000, length: 0x1_8000 }], 0x1_0000, 0x10);
    expect(chunks).toEqual([
      { start: 0x1000, end: 0x1_0000, readEnd: 0x1_0010 },
      { start: 0x1_0000, end: 0x2_0000, readEnd: 0x2_0010 },
      { start: 0x2_0000, end: 0x2_1000, readEnd: 0x2_1000 },
      { start: 0x10_0000, end: 0x11_0000, readEnd: 0x11_0010 },
      { start: 0x11_0000, end: 0x11_8000, readEnd: 0x11_8000 },
    ]);
  });

  it('intersects requested ranges with the runs and refuses ranges in holes or bad geometry', () => {
    const runs: PhysicalRun[] = [{ start: 0, length: 0x10_0000 }, { start: 0x20_0000, length: 0x10_0000 }];
    expect(intersectRuns(runs, [{ start: 0xf_0000, length: 0x12_0000 }], 'img')).toEqual([
      { start: 0xf_0000, length: 0x1_0000 },
      { start: 0x20_0000, length: 0x1_0000 },
    ]);
    expect(() => intersectRuns(runs, [{ start: 0x10_0000, length: 0x1000 }], 'img')).toThrow(/0x100000-0x101000 holds no physical memory/);
    expect(() => planChunks(runs, 1000, 0)).toThrow(MemScopeError);
    expect(() => planChunks(runs, C, C + 1)).toThrow(/overlap/);
  });
});

describe('scan over a raw image', () => {
  let fx: ReturnType<typeof rawFixture>;
  beforeAll(() => {
    fx = rawFixture();
  });

  it('finds every planted pool header exactly once, with 1 and 2 workers and in-process, progress monotonic to the total', async () => {
    const spec = poolTagScan({ tags: ['Proc', 'Thre'] });
    const one = await collect(scanPhysical({ sourcePath: fx.file, scanner: spec, workers: 1, chunkSize: C }));
    const two = await collect(scanPhysical({ sourcePath: fx.file, scanner: spec, workers: 2, chunkSize: C }));
    const src = openSource(fx.file);
    const local = await collect(scanSource(src, spec, { chunkSize: C }));
    src.close();
    const want = [...fx.expectProc.map((pa) => [pa, 'Proc']), ...fx.expectThre.map((pa) => [pa, 'Thre'])].sort((a, b) => (a[0] as number) - (b[0] as number));
    for (const r of [one, two, local]) {
      expect(r.errors).toEqual([]);
      expect(r.hits.map((h) => [h.pa, h.tag])).toEqual(want);
      const done = r.progress.map((p) => p.bytesDone);
      expect(done).toEqual([...done].sort((a, b) => a - b));
      expect(r.progress.length).toBe(fx.size / C);
      expect(r.progress.at(-1)).toEqual({ bytesDone: fx.size, bytesTotal: fx.size });
    }
    const straddling = one.hits.find((h) => h.pa === C - 16)!;
    expect(straddling.header[2]).toBe(0x2b);
    expect(Buffer.from(straddling.header.subarray(4, 8)).toString('latin1')).toBe('Proc');
    expect(activeScanWorkers()).toBe(0);
  });

  it('same hits whatever the chunk size (the ownership rule, not the chunking, decides)', async () => {
    const spec = poolTagScan({ tags: ['Proc'] });
    const big = await collect(scanPhysical({ sourcePath: fx.file, scanner: spec, workers: 2, chunkSize: 3 * MiB }));
    expect(big.hits.map((h) => h.pa)).toEqual(fx.expectProc);
  });

  it('finds self-referencing PML4 pages, including at a chunk boundary', async () => {
    const r = await collect(scanPhysical({ sourcePath: fx.file, scanner: pml4SelfRefScan({ maxPhysicalAddress: fx.size }), workers: 2, chunkSize: C }));
    expect(r.hits.map((h) => [h.pa, h.index])).toEqual([
      [fx.expectPml4[1], 0x100],
      [fx.expectPml4[0], 0x1ed],
      [fx.expectPml4[2], 0x1ff],
    ]);
  });

  it('a needle straddling a chunk boundary, and one in the overlap region, are each found once', async () => {
    for (const workers of [1, 2]) {
      const r = await collect(scanPhysical({ sourcePath: fx.file, scanner: bytesScan({ needles: [asciiHex('RSDS')], context: 8 }), workers, chunkSize: C, overlap: 64 }));
      expect(r.hits.map((h) => [h.pa, Buffer.from(h.bytes).toString('latin1')])).toEqual([
        [C - 2, 'RSDS1234'],
        [4 * C + 4, 'RSDS5678'],
      ]);
    }
  });

  it('restricts to requested ranges', async () => {
    const r = await collect(scanPhysical({ sourcePath: fx.file, scanner: poolTagScan({ tags: ['Proc'] }), workers: 2, chunkSize: C, ranges: [{ start: C - 0x100, length: C + 0x200 }] }));
    expect(r.hits.map((h) => h.pa)).toEqual([C - 16, 2 * C]);
    expect(r.progress.at(-1)).toEqual({ bytesDone: C + 0x200, bytesTotal: C + 0x200 });
  });

  it('streams hits before the scan ends, and leaving the loop early stops every worker', async () => {
    const seen: string[] = [];
    for await (const ev of scanPhysical({ sourcePath: fx.file, scanner: poolTagScan({ tags: ['Proc'] }), workers: 2, chunkSize: C })) {
      seen.push(ev.type);
      if (ev.type === 'hit') break;
    }
    expect(seen.at(-1)).toBe('hit');
    expect(seen.filter((t) => t === 'progress').length).toBeLessThan(fx.size / C);
    expect(activeScanWorkers()).toBe(0);
  });

  it('abort mid-scan ends promptly with a cancelled error and no workers left, even with busy scanners', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    let progress = 0;
    let abortedAt = 0;
    const run = async (): Promise<void> => {
      for await (const ev of scanPhysical({ sourcePath: fx.file, scanner: fixtureScan({ delayMs: 300 }), workers: 2, chunkSize: C, signal: ac.signal })) {
        if (ev.type === 'progress' && ++progress === 1) {
          abortedAt = Date.now();
          ac.abort();
        }
      }
    };
    const err = await run().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(MemScopeError);
    expect((err as MemScopeError).kind).toBe('cancelled');
    expect((err as MemScopeError).message).toMatch(/fixture\.raw cancelled after \d+ of 8388608 bytes/);
    expect(Date.now() - abortedAt).toBeLessThan(2000); // the remaining 31 chunks would take ~4.6 s
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(activeScanWorkers()).toBe(0);
    // already-aborted signal: nothing starts
    await expect(collect(scanPhysical({ sourcePath: fx.file, scanner: poolTagScan({ tags: ['Proc'] }), signal: ac.signal }))).rejects.toMatchObject({ kind: 'cancelled' });
  });

  it('a worker crash is an error event naming the chunk; every other chunk is still scanned', async () => {
    for (const mode of ['exit', 'throw'] as const) {
      const r = await collect(scanPhysical({ sourcePath: fx.file, scanner: fixtureScan({ failPa: 3 * C + 5, mode }), workers: 2, chunkSize: C }));
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toContain(`chunk 0x${(3 * C).toString(16)}-0x${(4 * C).toString(16)}`);
      expect(r.errors[0]).toMatch(mode === 'exit' ? /scan worker crashed: exit code 3/ : /fixture failure/);
      const expected = Array.from({ length: fx.size / C }, (_, i) => i * C).filter((pa) => pa !== 3 * C);
      expect(r.hits.map((h) => h.pa)).toEqual(expected);
      expect(r.progress.at(-1)).toEqual({ bytesDone: fx.size, bytesTotal: fx.size });
      expect(activeScanWorkers()).toBe(0);
    }
  });

  it('a worker that cannot build its scanner fails the scan with one clear error', async () => {
    await expect(collect(scanPhysical({ sourcePath: fx.file, scanner: fixtureScan({ initFail: 'throw' }), workers: 2, chunkSize: C }))).rejects.toThrow(
      'fixture cannot start in a worker',
    );
    await expect(collect(scanPhysical({ sourcePath: fx.file, scanner: fixtureScan({ initFail: 'exit' }), workers: 2, chunkSize: C }))).rejects.toThrow(
      /fixture\.raw: scan worker failed to start: exit code 4/,
    );
    expect(activeScanWorkers()).toBe(0);
  });

  it('a slow consumer of many hits gets all of them (workers wait instead of queueing without bound)', async () => {
    let n = 0;
    const seen = new Set<number>();
    const spec = bytesScan({ needles: ['00'], align: 64 });
    for await (const ev of scanPhysical({ sourcePath: fx.file, scanner: spec, workers: 2, chunkSize: C, ranges: [{ start: 0x10_0000, length: 2 * MiB }] })) {
      if (ev.type !== 'hit') continue;
      seen.add(ev.hit.pa);
      if (++n % 1024 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    const bytes = fs.readFileSync(fx.file).subarray(0x10_0000, 0x30_0000);
    let zeros = 0;
    for (let i = 0; i < bytes.length; i += 64) if (bytes[i] === 0) zeros++;
    expect(zeros).toBeGreaterThan(30_000);
    expect(n).toBe(zeros);
    expect(seen.size).toBe(n);
  });

  it('the in-process variant reports a throwing chunk the same way', async () => {
    const src = openSource(fx.file);
    const r = await collect(scanSource(src, fixtureScan({ failPa: C, mode: 'throw' }), { chunkSize: C }));
    src.close();
    expect(r.errors).toEqual([`${fx.file}: chunk 0x40000-0x80000: fixture failure at ${C}`]);
    expect(r.hits).toHaveLength(fx.size / C - 1);
  });

  it('baseline read covers the whole file', () => {
    const b = sequentialReadBaseline(fx.file, C);
    expect(b.bytes).toBe(fx.size);
    expect(b.ms).toBeGreaterThanOrEqual(0);
    expect(() => sequentialReadBaseline(path.join(dir, 'missing.raw'))).toThrow(/missing\.raw: no such file/);
  });
});

describe('scan over an ELF core with holes', () => {
  it('scans only the PT_LOAD runs and reports physical (not file) addresses', async () => {
    const p = new Pages();
    const runs = [{ start: 0, length: MiB }, { start: 4 * MiB, length: 2 * MiB }];
    const want = [0x2000, 4 * MiB + C - 16, 4 * MiB + 2 * C, 6 * MiB - 16];
    for (const pa of want) p.tag(pa, 'Proc');
    const file = path.join(dir, 'holes.elf');
    writeImage(file, 'elf-core', memoryFromPages(runs, (pa) => p.map.get(pa) ?? null));
    const r = await collect(scanPhysical({ sourcePath: file, scanner: poolTagScan({ tags: ['Proc'] }), workers: 2, chunkSize: C }));
    expect(r.errors).toEqual([]);
    expect(r.hits.map((h) => h.pa)).toEqual(want);
    expect(r.progress.at(-1)).toEqual({ bytesDone: 3 * MiB, bytesTotal: 3 * MiB });
    expect(r.progress).toHaveLength(12);
  });

  it('in-process scan of a source whose runs touch still finds a needle straddling the two runs', async () => {
    const src = new MemorySource({ runs: [{ start: 0, length: MiB }, { start: MiB, length: MiB }, { start: 3 * MiB, length: MiB }] });
    src.write(MiB - 2, Buffer.from('RSDSab'));
    // 'RS' at the end of run 2 and 'DS' at the start of run 3: a hole lies between, so no match
    src.write(2 * MiB - 2, Buffer.from('RS'));
    src.write(3 * MiB, Buffer.from('DSxx'));
    const r = await collect(scanSource(src, bytesScan({ needles: [asciiHex('RSDS')], context: 6 }), { chunkSize: C }));
    expect(r.hits.map((x) => [x.pa, Buffer.from(x.bytes).toString('latin1')])).toEqual([
      [MiB - 2, 'RSDSab'],
    ]);
    expect(r.progress.at(-1)).toEqual({ bytesDone: 3 * MiB, bytesTotal: 3 * MiB });
  });
});

describe('read windows and one pass for several scanners', () => {
  it('an any-of scan over chunks read in windows reports each part\'s hits exactly as its own scan does', async () => {
    const size = 8 * MiB;
    const w = READ_WINDOW;
    const p = new Pages();
    // hits at and across window boundaries inside one chunk (4 MiB chunks: several windows each)
    for (const pa of [w - 16, w, 3 * w - 16, 5 * w + 0x40, size - 16]) p.tag(pa, 'Proc');
    p.tag(2 * w - 16, 'Thre');
    p.put(7 * w - 3, Buffer.from('RSDSwin1')); // straddles a window boundary
    p.put(4 * MiB - 2, Buffer.from('RSDSchnk')); // straddles the chunk boundary
    p.pml4(5 * w - PAGE, 0x1a1); // last page of a window
    p.pml4(6 * w, 0x1b2); // first page of a window
    const file = path.join(dir, 'windows.raw');
    writeImage(file, 'raw', memoryFromPages([{ start: 0, length: size }], (pa) => p.map.get(pa) ?? null));
    const parts = [poolTagScan({ tags: ['Proc', 'Thre'] }), bytesScan({ needles: [asciiHex('RSDS')], context: 8 }), pml4SelfRefScan({ maxPhysicalAddress: size })] as const;
    const src = openSource(file);
    try {
      // each part alone, chunks no larger than a window (one read per chunk)
      const alone = await Promise.all(parts.map(async (spec) => (await collect(scanSource(src, spec as ScannerSpec, { chunkSize: 64 * 1024 }))).hits));
      expect(alone[0]!.map((h) => h.pa)).toEqual([w - 16, w, 2 * w - 16, 3 * w - 16, 5 * w + 0x40, size - 16]);
      expect(alone[1]!.map((h) => h.pa)).toEqual([7 * w - 3, 4 * MiB - 2].sort((a, b) => a - b));
      expect(alone[2]!.map((h) => h.pa)).toEqual([5 * w - PAGE, 6 * w]);
      const byPart = (hits: readonly AnyOfHit[]) => parts.map((_, i) => hits.filter((h) => h.part === i).map((h) => h.hit).sort((a, b) => a.pa - b.pa));
      const local = await collect(scanSource(src, anyOfScan([...parts]), { chunkSize: 4 * MiB }));
      expect(byPart(local.hits)).toEqual(alone);
      const pooled = await collect(scanPhysical({ sourcePath: file, scanner: anyOfScan([...parts]), workers: 2, chunkSize: 4 * MiB }));
      expect(byPart(pooled.hits)).toEqual(alone);
      expect(pooled.progress.at(-1)).toEqual({ bytesDone: size, bytesTotal: size });
    } finally {
      src.close();
    }
    await expect(collect(scanSource(new MemorySource({ runs: [{ start: 0, length: MiB }] }), anyOfScan([])))).rejects.toThrow(/parts must be a list/);
    await expect(collect(scanSource(new MemorySource({ runs: [{ start: 0, length: MiB }] }), anyOfScan([anyOfScan([parts[0]])])))).rejects.toThrow(/cannot nest/);
  });
});

describe('bad input', () => {
  it('missing, unreadable-format and truncated images fail the scan with one clear error', async () => {
    const spec = poolTagScan({ tags: ['Proc'] });
    await expect(collect(scanPhysical({ sourcePath: path.join(dir, 'nope.raw'), scanner: spec }))).rejects.toMatchObject({ kind: 'io', message: expect.stringMatching(/nope\.raw: no such file/) });
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'not memory\n');
    await expect(collect(scanPhysical({ sourcePath: text, scanner: spec }))).rejects.toMatchObject({ kind: 'format', message: expect.stringContaining('notes.txt') });
    // ELF core whose second PT_LOAD is cut off by truncation
    const p = new Pages();
    const file = path.join(dir, 'cut.elf');
    writeImage(file, 'elf-core', memoryFromPages([{ start: 0, length: MiB }, { start: 2 * MiB, length: MiB }], (pa) => p.map.get(pa) ?? null));
    fs.truncateSync(file, fs.statSync(file).size - MiB / 2);
    await expect(collect(scanPhysical({ sourcePath: file, scanner: spec, chunkSize: C }))).rejects.toMatchObject({
      kind: 'format',
      message: expect.stringMatching(/cut\.elf: PT_LOAD .* the dump is truncated/),
    });
  });

  it('a raw image that shrinks under an open source: the missing bytes are reported per chunk, the scan goes on', async () => {
    const file = path.join(dir, 'shrinks.raw');
    const p = new Pages();
    p.tag(0x1000, 'Proc');
    p.tag(2 * C + 0x100, 'Proc'); // still readable; the reused read buffer must not replay it in chunk 3
    writeImage(file, 'raw', memoryFromPages([{ start: 0, length: MiB }], (pa) => p.map.get(pa) ?? null));
    const src = openSource(file);
    fs.truncateSync(file, MiB - C - 0x1000);
    const r = await collect(scanSource(src, poolTagScan({ tags: ['Proc'] }), { chunkSize: C }));
    src.close();
    expect(r.hits.map((h) => h.pa)).toEqual([0x1000, 2 * C + 0x100]);
    expect(r.errors).toEqual([
      `${file}: chunk 0x80000-0xc0000: 0x1000 bytes could not be read from the source (file shorter than its memory runs?) and were scanned as zeros`,
      `${file}: chunk 0xc0000-0x100000: 0x40000 bytes could not be read from the source (file shorter than its memory runs?) and were scanned as zeros`,
    ]);
    expect(r.progress.at(-1)).toEqual({ bytesDone: MiB, bytesTotal: MiB });
  });

  it('bad scanner kind, params or worker count are usage errors before any worker starts', async () => {
    const fx = path.join(dir, 'small.raw');
    fs.writeFileSync(fx, new Uint8Array(16 * PAGE));
    await expect(collect(scanPhysical({ sourcePath: fx, scanner: { kind: 'nope', params: {} } }))).rejects.toThrow(/scanner 'nope': unknown kind/);
    await expect(collect(scanPhysical({ sourcePath: fx, scanner: { kind: 'pool-tag', params: { tags: ['x'] } } }))).rejects.toMatchObject({ kind: 'usage' });
    await expect(collect(scanPhysical({ sourcePath: fx, scanner: poolTagScan({ tags: ['Proc'] }), workers: 0 }))).rejects.toThrow(/workers 0/);
    await expect(collect(scanPhysical({ sourcePath: fx, scanner: { kind: 'x', params: {}, module: 'file:///nowhere/x.js' } }))).rejects.toThrow(/cannot load module/);
    expect(activeScanWorkers()).toBe(0);
  });
});

describe('bytes scanner through the pool', () => {
  it('finds MZ only at page starts', async () => {
    const p = new Pages();
    p.put(0x7000, Buffer.from('MZ'));
    p.put(0x7010, Buffer.from('MZ'));
    p.put(C, Buffer.from('MZ'));
    const file = path.join(dir, 'mz.raw');
    writeImage(file, 'raw', memoryFromPages([{ start: 0, length: 2 * MiB }], (pa) => p.map.get(pa) ?? null));
    const r = await collect(scanPhysical({ sourcePath: file, scanner: bytesScan({ needles: [asciiHex('MZ')], align: PAGE }), workers: 2, chunkSize: C }));
    expect(r.hits.map((h) => h.pa)).toEqual([0x7000, C]);
  });
});
