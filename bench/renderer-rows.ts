/**
 * The renderer's speed rows, measured in headless Chromium (Debian's /usr/bin/chromium) through a real
 * `memscope serve`:
 * - sort 10,000 rows: the bench page (dist/renderer/bench.html) renders 10,000 SYNTHETIC rows through the
 *   renderer's own store, table model and ProcessTable (the sample builder writes at most 2,000
 *   processes); a header click to the next painted frame, per column, median over columns and runs;
 * - scroll: a scripted scroll from the top to the end of those rows, 10 rows per frame; the longest
 *   gap between animation frames;
 * - first process row on screen: the real app opening the bench's image through the bridge, from the
 *   Open image click (User Timing mark `memscope:open`) to the frame that shows the first row
 *   (`memscope:first-row`).
 * Without a built renderer or Chromium the rows say so (N/A), never PASS.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startServe } from './bridge-child.js';
import { settle, type Settled } from './machine-idle.js';
import { repoRoot } from './paths.js';
import { makeRow, notApplicable, type BenchRow } from './report.js';

export const RENDERER_TARGETS = { sortMs: 100, frameMs: 50, firstRowMs: 500, timelinePaintMs: 200 } as const;
const CHROMIUM = '/usr/bin/chromium';
const ROWS = 10_000;
const SORT_COLUMNS = ['PID', 'Name', 'EPROCESS', 'Verdict'];

/** The bench page is up with its rows (a function, not a string: the page's CSP forbids eval). */
const benchReady = (): boolean => {
  const g = globalThis as unknown as { memscopeBench?: unknown; document: { querySelector(s: string): unknown } };
  return g.memscopeBench !== undefined && g.document.querySelector('.grid-body [role=row]') !== null;
};

/** The timeline bench is up (bench.html?view=timeline: renderer/bench/timeline-bench.tsx). */
const timelineReady = (): boolean => (globalThis as unknown as { memscopeBench?: { timeline?: unknown } }).memscopeBench?.timeline !== undefined;

interface ScrollResult { readonly frames: number; readonly maxFrameMs: number; readonly p95FrameMs: number; readonly reachedEnd: boolean }

export interface RendererBenchOptions {
  readonly image: string;
  readonly runs: number;
  readonly log: (line: string) => void;
}

const pct = (share: number | null): string => (share === null ? '?%' : `${Math.round(share * 100)}%`);

function unavailable(reason: string): BenchRow[] {
  return [
    notApplicable('renderer-sort-ms', `sort ${ROWS.toLocaleString('en')} rows (synthetic, headless Chromium)`, { op: '<=', value: RENDERER_TARGETS.sortMs }, 'ms', reason),
    notApplicable('renderer-scroll-frame-ms', `scroll through ${ROWS.toLocaleString('en')} rows: longest frame (synthetic)`, { op: '<=', value: RENDERER_TARGETS.frameMs }, 'ms', reason),
    notApplicable('renderer-timeline-paint-ms', `timeline of ${ROWS.toLocaleString('en')} processes: mount → first paint (synthetic)`, { op: '<=', value: RENDERER_TARGETS.timelinePaintMs }, 'ms', reason),
    notApplicable('renderer-timeline-zoom-frame-ms', 'timeline zoom / pan: longest key → painted frame (synthetic)', { op: '<=', value: RENDERER_TARGETS.frameMs }, 'ms', reason),
    notApplicable('renderer-first-row-ms', 'first process row on screen after Open image (bridge)', { op: '<=', value: RENDERER_TARGETS.firstRowMs }, 'ms', reason),
  ];
}

export async function rendererRows(o: RendererBenchOptions): Promise<BenchRow[]> {
  const root = repoRoot();
  if (!existsSync(join(root, 'dist', 'renderer', 'bench.html'))) return unavailable('n/a: dist/renderer not built (npm run build)');
  if (!existsSync(CHROMIUM)) return unavailable(`n/a: no ${CHROMIUM} (bash scripts/setup.sh installs it)`);
  try {
    return await measure(o);
  } catch (e) {
    return unavailable(`not measured: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
}

async function measure(o: RendererBenchOptions): Promise<BenchRow[]> {
  const { chromium } = await import('playwright-core');
  const served = await startServe();
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1440, height: 860 } });
    const origin = new URL(served.url).origin;

    const sorts: number[] = [];
    const frames: number[] = [];
    const tlPaints: number[] = [];
    const tlFrames: number[] = [];
    const p95s: number[] = [];
    const settles: Settled[] = [];
    for (let r = 0; r < o.runs; r++) {
      // Each pass starts on a quiet machine (machine-idle.ts): the target is the table's frames, not the
      // kernel still writing back what the steps before left.
      const settled = await settle();
      settles.push(settled);
      await page.goto(`${origin}/bench.html?rows=${ROWS}`);
      await page.waitForFunction(benchReady);
      for (const col of SORT_COLUMNS) {
        sorts.push(await page.evaluate(`window.memscopeBench.sort(${JSON.stringify(col)})`) as number);
      }
      // The page's `window.memscopeBench` (renderer/bench/main.tsx); strings, as this side has no DOM types.
      const s = await page.evaluate(`window.memscopeBench.scroll(${10 * 23})`) as ScrollResult;
      if (!s.reachedEnd) throw new Error('the scripted scroll did not reach the last row');
      frames.push(s.maxFrameMs);
      p95s.push(s.p95FrameMs);
      // issue 21: the timeline of the same 10,000 synthetic processes, painted, then zoomed and panned by key
      await page.goto(`${origin}/bench.html?rows=${ROWS}&view=timeline`);
      await page.waitForFunction(timelineReady);
      tlPaints.push(await page.evaluate('window.memscopeBench.timeline.paint()') as number);
      tlFrames.push((await page.evaluate('window.memscopeBench.timeline.zoomPan(40)') as { maxFrameMs: number }).maxFrameMs);
      o.log(`renderer: timeline paint ${tlPaints[tlPaints.length - 1]!.toFixed(0)} ms, zoom/pan longest frame ${tlFrames[tlFrames.length - 1]!.toFixed(0)} ms`);
      o.log(`renderer: run ${r + 1}: machine ${pct(settled.busyBefore)} busy, waited ${(settled.waitedMs / 1000).toFixed(1)} s to ${pct(settled.busyAtStart)}; sort ${sorts.slice(-SORT_COLUMNS.length).map((v) => v.toFixed(0)).join('/')} ms, scroll ${s.frames} frames, longest ${s.maxFrameMs.toFixed(0)} ms (p95 ${s.p95FrameMs.toFixed(0)} ms)`);
    }

    const firsts: number[] = [];
    await page.goto(served.url);
    for (let r = 0; r < o.runs; r++) {
      await page.getByRole('textbox', { name: 'Image path' }).fill(o.image);
      await page.evaluate(() => { performance.clearMarks('memscope:open'); performance.clearMarks('memscope:first-row'); });
      await page.getByRole('button', { name: 'Open image' }).click();
      await page.waitForFunction(() => performance.getEntriesByName('memscope:first-row').length > 0, undefined, { timeout: 60_000 });
      firsts.push(await page.evaluate(() => performance.getEntriesByName('memscope:first-row')[0]!.startTime - performance.getEntriesByName('memscope:open')[0]!.startTime));
      // Let the scan end (or cancel it) before the next open, so runs do not overlap.
      await page.locator('.scan-text:not([data-state="running"]):not([data-state="opening"])').waitFor({ timeout: 300_000 });
    }
    o.log(`renderer: first row on screen ${firsts.map((v) => v.toFixed(0)).join(', ')} ms`);

    const quiet = settles.every((x) => x.busyAtStart === null)
      ? 'machine load not measurable here (no /proc/stat)'
      : `each pass started once the machine was under 15% busy for 1 s (busiest start ${pct(Math.max(...settles.map((x) => x.busyAtStart ?? 0)))}, longest wait ${(Math.max(...settles.map((x) => x.waitedMs)) / 1000).toFixed(1)} s of 30)`;
    const synthetic = `${ROWS.toLocaleString('en')} synthetic rows through the renderer's store and table (bench.html; the sample builder caps at 2,000 processes)`;
    return [
      makeRow({ id: 'renderer-sort-ms', image: '-', label: `sort ${ROWS.toLocaleString('en')} rows (synthetic, headless Chromium)`, unit: 'ms', values: sorts, target: { op: '<=', value: RENDERER_TARGETS.sortMs }, note: `header click → next painted frame, columns ${SORT_COLUMNS.join(', ')}; ${synthetic}` }),
      makeRow({ id: 'renderer-scroll-frame-ms', image: '-', label: `scroll through ${ROWS.toLocaleString('en')} rows: longest frame (synthetic)`, unit: 'ms', values: frames, target: { op: '<=', value: RENDERER_TARGETS.frameMs }, judgedOn: 'max', note: `top to end, 10 rows per frame, longest gap between animation frames (95th percentile ${Math.max(...p95s).toFixed(0)} ms); ${quiet}; ${synthetic}` }),
      makeRow({ id: 'renderer-timeline-paint-ms', image: '-', label: `timeline of ${ROWS.toLocaleString('en')} processes: mount → first paint (synthetic)`, unit: 'ms', values: tlPaints, target: { op: '<=', value: RENDERER_TARGETS.timelinePaintMs }, note: `TimelineScreen over the bench's rows (bench.html?view=timeline); ${quiet}` }),
      makeRow({ id: 'renderer-timeline-zoom-frame-ms', image: '-', label: 'timeline zoom / pan: longest key → painted frame (synthetic)', unit: 'ms', values: tlFrames, target: { op: '<=', value: RENDERER_TARGETS.frameMs }, judgedOn: 'max', note: '40 steps of + − ← → on the timeline, each key to its painted frame' }),
      makeRow({ id: 'renderer-first-row-ms', image: o.image.split('/').pop() ?? o.image, label: 'first process row on screen after Open image (bridge)', unit: 'ms', values: firsts, target: { op: '<=', value: RENDERER_TARGETS.firstRowMs }, note: 'real image through memscope serve: Open image click → frame showing the first psxview row (User Timing marks)' }),
    ];
  } finally {
    await browser?.close();
    await served.close();
  }
}
