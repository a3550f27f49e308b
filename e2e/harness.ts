/**
 * What every e2e spec shares: sample images built once by the engine's sample builder (cached under
 * .cache/e2e/, keyed by the builder's source hash), a real `memscope serve` child (its URL read from the
 * one line it prints), Debian's Chromium driven by playwright-core, and screenshots per step.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startServe, type ServedBridge } from '../bench/bridge-child.js';
import { builderVersion } from '../bench/images.js';
import { repoRoot } from '../bench/paths.js';
import type { RunEvent, ServerFrame } from '../common/contract.js';
import type { GroundTruth } from '../main/engine/sample/truth.js';

export const ROOT = repoRoot();
export const CHROMIUM = '/usr/bin/chromium';
const CLI = join(ROOT, 'bin', 'memscope.js');
export const CACHE = join(ROOT, '.cache', 'e2e');
export const SHOTS = join(ROOT, 'e2e', 'screenshots');

export type SampleFormat = 'raw' | 'elf' | 'crashdump' | 'crashdump-bitmap';
const EXT: Record<SampleFormat, string> = { raw: 'raw', elf: 'elf', crashdump: 'dmp', 'crashdump-bitmap': 'bmp.dmp' };

export interface Sample { readonly path: string; readonly truth: GroundTruth; readonly label: string }

/** A sample image from `memscope sample` (the CLI the user has), cached across runs. */
export function sample(build: number, format: SampleFormat, sizeMiB: number): Sample {
  mkdirSync(CACHE, { recursive: true });
  const path = join(CACHE, `b${build}-${sizeMiB}m-${builderVersion()}.${EXT[format]}`);
  if (!existsSync(path) || !existsSync(`${path}.truth.json`)) {
    const r = spawnSync(process.execPath, [CLI, 'sample', '--build', String(build), '--format', format, '--size', String(sizeMiB), '--out', path], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`memscope sample --build ${build} --format ${format} failed: ${r.stderr}`);
  }
  const truth = JSON.parse(readFileSync(`${path}.truth.json`, 'utf8')) as GroundTruth;
  return { path, truth, label: `${build} ${format}` };
}

/** The CLI's own bytes for a table, to compare an export with. */
export function cliBytes(args: readonly string[]): Buffer {
  const r = spawnSync(process.execPath, [CLI, ...args], { maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`memscope ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return r.stdout;
}

export type Served = ServedBridge;

/** `node bin/memscope.js serve [image] --port 0`, its URL read from the one line it prints. */
export const serve = (image?: string): Promise<Served> => startServe(image);

export interface Browsing {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Run events as they arrived on the bridge's WebSocket, in order. */
  readonly events: RunEvent[];
  close(): Promise<void>;
}

/** Debian's Chromium, headless, a laptop-sized window, downloads accepted. Root needs --no-sandbox. */
export async function browse(url: string): Promise<Browsing> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1440, height: 860 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  // React reports a recovered render error as a wrapper; log its cause too, or the report names no fault.
  await page.addInitScript(() => {
    const w = globalThis as unknown as { addEventListener(t: 'error', f: (e: { error?: { cause?: { stack?: string } } }) => void): void; console: { error(s: string): void } };
    w.addEventListener('error', (e) => { if (e.error?.cause?.stack) w.console.error(`caused by: ${e.error.cause.stack}`); });
  });
  const events: RunEvent[] = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    const frame = JSON.parse(String(f.payload)) as ServerFrame;
    if ('event' in frame) events.push(frame.event);
  }));
  await page.goto(url);
  return {
    browser, context, page, events,
    close: async () => {
      await browser.close();
      if (problems.length) throw new Error(`the page reported errors:\n${problems.join('\n')}`);
    },
  };
}

export async function shot(page: Page, spec: string, step: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${spec}-${step}.png`) });
}

/** The status word the screen must show for a planted process (the truth says what was planted). */
export function expectedStatus(p: GroundTruth['processes'][number]): 'hidden' | 'exited' | 'remnant' | 'normal' {
  if (p.planted.includes('dkom-unlinked')) return 'hidden';
  // An exited process whose EPROCESS survives only in unmapped memory is a remnant first.
  if (p.planted.includes('remnant') || p.planted.includes('unmapped-remnant')) return 'remnant';
  // An intact EPROCESS in a freed pool block (PoolType 0) is the trace of an earlier process.
  if (p.planted.includes('freed-pool-block')) return 'remnant';
  if (p.planted.includes('exited')) return 'exited';
  return 'normal';
}

/** The row key the engine gives a process: its EPROCESS VA, or `pa:…` when no page table maps it. */
export const rowKey = (p: GroundTruth['processes'][number]): string => (p.mapped === false ? `pa:${p.physicalOffset}` : p.offset);
