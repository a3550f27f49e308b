/**
 * The hex view's speed rows (issue 19, "Speed"), in headless Chromium through a real `memscope serve`
 * on the bench image:
 * - open: Enter on a selected process → the frame that shows its _EPROCESS bytes (no byte still
 *   loading) and the laid structure's field list;
 * - pointer jump: a click on ActiveProcessLinks.Flink → the frame showing the next _EPROCESS, bytes
 *   and fields; Go to: an address typed and submitted → the frame showing its bytes;
 * - scroll: a scripted scroll through 1 MiB of the process's virtual memory (from the kernel image,
 *   64 rows a frame); the longest gap between animation frames.
 * Without a built renderer or Chromium the rows say so (N/A), never PASS.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startServe } from './bridge-child.js';
import { settle } from './machine-idle.js';
import { repoRoot } from './paths.js';
import { makeRow, notApplicable, type BenchRow } from './report.js';

export const HEX_TARGETS = { openMs: 150, jumpMs: 100, frameMs: 50 } as const;
const CHROMIUM = '/usr/bin/chromium';
const SCROLL_BYTES = 1024 * 1024;
const ROWS_PER_FRAME = 64;

export interface HexBenchOptions {
  readonly image: string;
  readonly runs: number;
  readonly log: (line: string) => void;
}

const LABELS = {
  open: 'hex view open: Enter on a process → its _EPROCESS painted (bridge)',
  jump: 'hex view pointer jump / Go to → new view painted (bridge)',
  scroll: 'hex view: scroll 1 MiB of process memory, longest frame (bridge)',
} as const;

function unavailable(reason: string): BenchRow[] {
  return [
    notApplicable('hex-open-ms', LABELS.open, { op: '<=', value: HEX_TARGETS.openMs }, 'ms', reason),
    notApplicable('hex-jump-ms', LABELS.jump, { op: '<=', value: HEX_TARGETS.jumpMs }, 'ms', reason),
    notApplicable('hex-scroll-frame-ms', LABELS.scroll, { op: '<=', value: HEX_TARGETS.frameMs }, 'ms', reason),
  ];
}

export async function hexViewRows(o: HexBenchOptions): Promise<BenchRow[]> {
  const root = repoRoot();
  if (!existsSync(join(root, 'dist', 'renderer', 'index.html'))) return unavailable('n/a: dist/renderer not built (npm run build)');
  if (!existsSync(CHROMIUM)) return unavailable(`n/a: no ${CHROMIUM} (bash scripts/setup.sh installs it)`);
  try {
    return await measure(o);
  } catch (e) {
    return unavailable(`not measured: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
}

/**
 * In the page: run `act`, then wait for the first animation frame after which `header` contains
 * `expect`, no byte on screen is still loading and (when asked) the field list is there; ms elapsed.
 * Functions, not strings: the page's CSP forbids eval.
 */
async function timed(page: Page, act: 'enter' | 'flink' | 'goto', expectText: string, needFields: boolean, gotoText = ''): Promise<number> {
  return page.evaluate(async ({ act, expectText, needFields, gotoText }) => {
    // this side has no DOM types: the page's globals, as far as used here
    interface El { textContent: string | null; dispatchEvent(e: unknown): boolean; click(): void; getAttribute(n: string): string | null; value: string; form: { requestSubmit(): void } | null }
    const g = globalThis as unknown as {
      document: { querySelector(s: string): El | null; querySelectorAll(s: string): Iterable<El> };
      KeyboardEvent: new (t: string, i: object) => unknown; Event: new (t: string, i: object) => unknown;
      requestAnimationFrame(f: () => void): void;
    };
    const d = g.document;
    const painted = (): boolean => {
      const h = d.querySelector('.hex-header')?.textContent ?? '';
      return h.includes(expectText) && d.querySelector('.hex-grid .hb') !== null && d.querySelector('.hex-grid .hb.loading') === null
        && (!needFields || d.querySelector('.field-table') !== null);
    };
    const t0 = performance.now();
    if (act === 'enter') d.querySelector('.processes-screen')!.dispatchEvent(new g.KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    else if (act === 'flink') [...d.querySelectorAll('button')].find((b) => (b.getAttribute('aria-label') ?? '').startsWith('ActiveProcessLinks.Flink'))!.click();
    else {
      // React reads the value through the input event
      const input = d.querySelector('input.goto')!;
      const proto = Object.getPrototypeOf(input) as object;
      Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(input, gotoText);
      input.dispatchEvent(new g.Event('input', { bubbles: true }));
      input.form!.requestSubmit();
    }
    for (;;) {
      await new Promise((r) => g.requestAnimationFrame(() => r(null)));
      if (painted()) return performance.now() - t0;
      if (performance.now() - t0 > 10_000) throw new Error(`"${expectText}" was not painted within 10 s`);
    }
  }, { act, expectText, needFields, gotoText });
}

/** In the page: scroll the hex grid `bytes` down, `rows` a frame, by wheel events; frame gaps. */
async function scrollFrames(page: Page, bytes: number, rows: number): Promise<{ frames: number; maxFrameMs: number; p95FrameMs: number }> {
  return page.evaluate(async ({ bytes, rows }) => {
    const g = globalThis as unknown as {
      document: { querySelector(s: string): { dispatchEvent(e: unknown): boolean } | null };
      WheelEvent: new (t: string, i: object) => unknown; requestAnimationFrame(f: () => void): void;
    };
    const grid = g.document.querySelector('.hex-grid')!;
    const frames = Math.ceil(bytes / 16 / rows);
    const gaps: number[] = [];
    let last = performance.now();
    for (let i = 0; i < frames; i++) {
      grid.dispatchEvent(new g.WheelEvent('wheel', { deltaY: rows * 18, bubbles: true, cancelable: true }));
      await new Promise((r) => g.requestAnimationFrame(() => r(null)));
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }
    gaps.sort((a, b) => a - b);
    return { frames, maxFrameMs: gaps[gaps.length - 1]!, p95FrameMs: gaps[Math.floor(gaps.length * 0.95)]! };
  }, { bytes, rows });
}

async function measure(o: HexBenchOptions): Promise<BenchRow[]> {
  const { chromium } = await import('playwright-core');
  const served = await startServe();
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(served.url);
    await page.getByRole('textbox', { name: 'Image path' }).fill(o.image);
    await page.getByRole('button', { name: 'Open image' }).click();
    await page.locator('.scan-text:not([data-state="running"]):not([data-state="opening"])').waitFor({ timeout: 300_000 });
    const kernelBase = (await page.getByRole('banner', { name: 'Session' }).innerText()).match(/0xfffff[0-9a-f]+/)?.[0];
    if (!kernelBase) throw new Error('the session header shows no kernel base');

    const opens: number[] = [];
    const jumps: number[] = [];
    const frames: number[] = [];
    const p95s: number[] = [];
    const busy: (number | null)[] = [];
    for (let r = 0; r < o.runs; r++) {
      // each pass starts on a quiet machine (machine-idle.ts), as the other renderer rows do
      busy.push((await settle()).busyAtStart);
      await page.getByRole('tab', { name: 'Processes' }).click();
      // System (PID 4): the first process of the active list
      await page.locator('.grid-body [role="row"]').filter({ has: page.locator('[role="gridcell"]', { hasText: /^System$/ }) }).first().click();
      opens.push(await timed(page, 'enter', 'System (PID 4)', true));
      // the next _EPROCESS: Flink − the field's offset, as the view's header will show it
      const flink = BigInt((await page.getByRole('button', { name: /^ActiveProcessLinks\.Flink/ }).innerText()).trim());
      const off = BigInt(`0x${(await page.locator('.field-table tr', { has: page.locator('td.f-name', { hasText: /^ActiveProcessLinks$/ }) }).first().locator('td.f-off').innerText()).trim().slice(1)}`);
      jumps.push(await timed(page, 'flink', `_EPROCESS at 0x${(flink - off).toString(16)}`, true));
      await page.getByRole('button', { name: /Back/ }).click();
      jumps.push(await timed(page, 'goto', kernelBase, false, kernelBase));
      const s = await scrollFrames(page, SCROLL_BYTES, ROWS_PER_FRAME);
      frames.push(s.maxFrameMs);
      p95s.push(s.p95FrameMs);
      o.log(`hex view: run ${r + 1}: machine ${busy.at(-1) === null ? '?' : Math.round(busy.at(-1)! * 100)}% busy at start; open ${opens.at(-1)!.toFixed(0)} ms, jumps ${jumps.slice(-2).map((v) => v.toFixed(0)).join('/')} ms, scroll ${s.frames} frames, longest ${s.maxFrameMs.toFixed(0)} ms (p95 ${s.p95FrameMs.toFixed(0)} ms)`);
    }
    const img = o.image.split('/').pop() ?? o.image;
    return [
      makeRow({ id: 'hex-open-ms', image: img, label: LABELS.open, unit: 'ms', values: opens, target: { op: '<=', value: HEX_TARGETS.openMs }, note: 'System selected, Enter → the frame with its bytes (none loading) and the _EPROCESS field list' }),
      makeRow({ id: 'hex-jump-ms', image: img, label: LABELS.jump, unit: 'ms', values: jumps, target: { op: '<=', value: HEX_TARGETS.jumpMs }, note: 'ActiveProcessLinks.Flink click, and Go to the kernel base, each → the frame with the new place\'s bytes' }),
      makeRow({ id: 'hex-scroll-frame-ms', image: img, label: LABELS.scroll, unit: 'ms', values: frames, target: { op: '<=', value: HEX_TARGETS.frameMs }, judgedOn: 'max', note: `1 MiB from the kernel base in System's space, ${ROWS_PER_FRAME} rows a frame by wheel events; longest gap between animation frames (95th percentile ${Math.max(...p95s).toFixed(0)} ms)` }),
    ];
  } finally {
    await browser?.close();
    await served.close();
  }
}

/**
 * Only the hex rows, on an image already built (the bench's cache): after `npm run build`,
 * `node dist/bench/renderer-hex.js <image> [--runs N]` prints each pass and the rows as JSON.
 */
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const image = args.find((a) => !a.startsWith('--'));
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 3;
  if (!image || !Number.isInteger(runs) || runs < 1) {
    process.stderr.write('usage: node dist/bench/renderer-hex.js <image> [--runs N]\n');
    process.exit(2);
  }
  const rows = await hexViewRows({ image, runs, log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
}
