/**
 * CI smoke run of `npm run bench`: a 64 MiB image, one run of everything, through the same child
 * processes as the full run. Asserts the report is complete (every row measured, with a number) and
 * that the measured code found what the image holds — never that a target passes (CI machines vary).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBenchArgs, runBench, UsageExit } from './bench.js';
import { benchImage } from './images.js';
import { repoRoot } from './paths.js';
import { makeRow, renderTable, stats, type BenchReport } from './report.js';

const ALWAYS = [
  'psscan-vs-read', 'psscan-again-vs-read', 'pool-tag-scan-vs-read', 'pool-tag-psxview-scan-vs-read', 'pool-tag-scan-cpu-vs-read', 'read-ms', 'psscan-ms', 'discovery-ms',
  'discovery-exhaustive-ms', 'discovery-exhaustive-vs-read', 'discovery-scan-vs-read:selfref-pml4', 'discovery-scan-vs-read:system-process', 'discovery-nostub-ms', 'discovery-nostub-step:dtb', 'first-pslist-row-ms',
  'first-pslist-row-after-kernel-ms', 'first-psxview-row-ms', 'peak-rss-mib', 'worker-scaling', 'translate-cold', 'translate-cached',
  'translate-table-cached', 'sparse-peak-rss-mib',
  'main-event-loop-max-ms', 'main-event-loop-p99-ms', 'main-event-loop-idle-max-ms',
];

describe('bench report model', () => {
  it('median, min and max of an even and an odd sample', () => {
    expect(stats([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, samples: 3 });
    expect(stats([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, samples: 4 });
    expect(stats([NaN])).toBeNull();
  });

  it('judges a target on the median, or on the max when asked; no sample is a MISS, no target is INFO', () => {
    const t = { op: '<=', value: 10 } as const;
    expect(makeRow({ id: 'a', image: 'x', label: 'a', unit: 'ms', values: [1, 9, 30], target: t }).verdict).toBe('PASS');
    expect(makeRow({ id: 'a', image: 'x', label: 'a', unit: 'ms', values: [1, 9, 30], target: t, judgedOn: 'max' }).verdict).toBe('MISS');
    expect(makeRow({ id: 'a', image: 'x', label: 'a', unit: 'ms', values: [], target: t }).verdict).toBe('MISS');
    expect(makeRow({ id: 'a', image: 'x', label: 'a', unit: 'ms', values: [3] }).verdict).toBe('INFO');
  });

  it('rejects bad arguments with a usage message', () => {
    const log = (): void => {};
    expect(() => parseBenchArgs(['--size', 'abc'], log)).toThrow(UsageExit);
    expect(() => parseBenchArgs(['--size', '0.01'], log)).toThrow(/--size 0.01/);
    expect(() => parseBenchArgs(['--runs', '0'], log)).toThrow(/--runs must be an integer/);
    expect(() => parseBenchArgs(['--bogus'], log)).toThrow();
    expect(parseBenchArgs(['--size', '1,4'], log).sizesMiB).toEqual([1024, 4096]);
    expect(parseBenchArgs(['--smoke'], log)).toMatchObject({ sizesMiB: [64], runs: 1, sparseSizesMiB: [65536] });
    expect(parseBenchArgs(['--sparse', '64,256'], log).sparseSizesMiB).toEqual([65536, 262144]);
    expect(parseBenchArgs(['--sparse', 'none'], log).sparseSizesMiB).toEqual([]);
    expect(() => parseBenchArgs(['--sparse', '512'], log)).toThrow(/--sparse 512/);
  });
});

describe('bench --smoke', () => {
  let cache: string;
  let report: BenchReport;

  beforeAll(async () => {
    cache = mkdtempSync(join(tmpdir(), 'memscope-bench-'));
    process.env['MEMSCOPE_BENCH_CACHE'] = cache;
    report = await runBench(parseBenchArgs(['--smoke'], () => {}));
  }, 240_000);

  afterAll(() => {
    delete process.env['MEMSCOPE_BENCH_CACHE'];
    rmSync(cache, { recursive: true, force: true });
  });

  it('has every row, each with a number, a target where the issue sets one, and a verdict', () => {
    const ids = report.rows.map((r) => r.id);
    for (const id of ALWAYS) expect(ids, id).toContain(id);
    expect(ids.some((id) => id.startsWith('discovery-method:dtb:'))).toBe(true);
    for (const r of report.rows) {
      if (r.id.startsWith('renderer-') && r.verdict === 'N/A') continue;
      expect(Number.isFinite(r.median), `${r.id} median`).toBe(true);
      expect(r.min! <= r.median! && r.median! <= r.max!, r.id).toBe(true);
      expect(['PASS', 'MISS', 'INFO']).toContain(r.verdict);
    }
    for (const id of [
      'psscan-vs-read', 'pool-tag-scan-vs-read', 'pool-tag-psxview-scan-vs-read', 'discovery-scan-vs-read:selfref-pml4', 'discovery-scan-vs-read:system-process',
      'discovery-ms', 'discovery-nostub-ms', 'first-pslist-row-ms', 'peak-rss-mib', 'sparse-peak-rss-mib',
    ]) {
      const r = report.rows.find((x) => x.id === id)!;
      expect(r.target, id).not.toBeNull();
      expect(['PASS', 'MISS']).toContain(r.verdict);
    }
    // Measured in headless Chromium when the renderer is built and Chromium is installed; otherwise N/A saying why.
    const measurable = existsSync(join(repoRoot(), 'dist', 'renderer', 'bench.html')) && existsSync('/usr/bin/chromium');
    for (const id of ['renderer-sort-ms', 'renderer-scroll-frame-ms', 'renderer-first-row-ms']) {
      const r = report.rows.find((x) => x.id === id)!;
      expect(r.target, id).not.toBeNull();
      if (measurable) expect(['PASS', 'MISS'], `${id}: ${r.note}`).toContain(r.verdict);
      else expect(r.note, id).toMatch(/^n\/a: /);
    }
  });

  it('measured code that found exactly what the image holds (pslist, psscan and discovery match the truth)', () => {
    expect(report.warnings).toEqual([]);
    expect(report.rows.find((r) => r.id === 'peak-rss-mib')!.median!).toBeGreaterThan(10);
  });

  it('reusing a cached image drops that image\'s stale versions only, never the no-low-stub image beside it', async () => {
    const [normal, nostub] = report.images;
    const stale = join(cache, 'b19041-64m-s1-p8-000000000000.raw');
    writeFileSync(stale, 'old builder');
    const again = await benchImage({ build: '19041', sizeMiB: 64, seed: 1, processes: 8 });
    expect(again.cached).toBe(true);
    expect(again.path).toBe(normal!.path);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(nostub!.path)).toBe(true);
  });

  it('prints a table with one line per row and round-trips as JSON', () => {
    const table = renderTable(report);
    for (const r of report.rows) expect(table).toContain(r.label);
    expect(table).toMatch(/PASS|MISS/);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});
