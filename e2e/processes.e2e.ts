/**
 * The process screen through the bridge on three builds in three formats: rows stream in, hidden and
 * exited processes are labelled as the image's truth says, sort and filter work, and Export CSV / JSON
 * are the CLI's bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridgeDriver } from './bridge-driver.js';
import { exportMatchesCli, keyboard, labelsMatchTruth, openAndStream, sortAndFilter, type Driver } from './flows.js';
import type { Page } from 'playwright-core';
import type { TruthProcess } from '../main/engine/sample/index.js';
import { browse, cliBytes, sample, serve, shot, type Browsing, type Sample, type Served } from './harness.js';

// 1 GiB each: the pool scan takes long enough that the active-list rows visibly arrive first.
const IMAGES: readonly [number, 'raw' | 'elf' | 'crashdump'][] = [[19041, 'raw'], [17763, 'crashdump'], [22000, 'elf']];

describe.each(IMAGES)('process screen, build %i, %s image', (build, format) => {
  const spec = `processes-${build}-${format}`;
  let s: Sample;
  let server: Served;
  let b: Browsing;
  let d: Driver;

  beforeAll(async () => {
    s = sample(build, format, 1024);
    server = await serve();
    b = await browse(server.url);
    d = bridgeDriver(b.page, b.events);
    await b.page.getByRole('button', { name: 'Open image' }).waitFor();
    await shot(b.page, spec, 'empty');
  });
  afterAll(async () => {
    await b?.close();
    await server?.close();
  });

  it('shows the session header and streams rows before the scan ends', () => openAndStream(d, s, spec));
  it('labels hidden, exited and remnant processes as the truth says', () => labelsMatchTruth(d, s, spec));
  it('exports exactly what the CLI writes', () => exportMatchesCli(d, s, (f) => cliBytes(['psxview', s.path, '--format', f])));
  it('sorts and filters', () => sortAndFilter(d, s, spec));
  it('works from the keyboard (Ctrl+F, ↑/↓, Esc, Ctrl+E)', () => keyboard(d, () => cliBytes(['psxview', s.path, '--format', 'csv'])));
  it('builds the tree by parent: every process rendered under the process its truth names as parent', async () => {
    const { page } = b;
    await page.getByRole('checkbox', { name: 'Tree by parent' }).check();
    const rows = await renderedTree(page);
    expect(rows).toHaveLength(s.truth.processes.length);
    expect(await page.locator('.row-count').innerText()).toBe(`${s.truth.processes.length} rows`);
    // The rendered parent: the nearest row above that is one level shallower.
    const renderedParent = new Map<string, string | null>();
    rows.forEach((r, i) => {
      let parent: string | null = null;
      for (let j = i - 1; r.depth > 0 && j >= 0; j--) if (rows[j]!.depth === r.depth - 1) { parent = rows[j]!.key; break; }
      renderedParent.set(r.key, parent);
    });
    // The truth's parent: the process whose PID is the PPID (the builder hands out each CID once);
    // none (a root) when that process is not in the image, as smss's per-session copies and userinit.
    const keyOf = (p: TruthProcess): string => (p.mapped === false ? `pa:${p.physicalOffset}` : p.offset);
    const truthParent = (c: TruthProcess): TruthProcess | null => s.truth.processes.find((p) => p.pid === c.ppid && p !== c) ?? null;
    for (const c of s.truth.processes) {
      const want = truthParent(c);
      expect(renderedParent.get(keyOf(c)), `${c.name} (${c.pid}) under ${want?.name ?? 'nothing'}`).toBe(want ? keyOf(want) : null);
    }
    const parentName = (name: string): string | null => {
      const c = s.truth.processes.find((p) => p.name === name)!;
      const key = renderedParent.get(keyOf(c));
      return key ? s.truth.processes.find((p) => keyOf(p) === key)!.name : null;
    };
    expect(parentName('smss.exe')).toBe('System');
    expect(parentName('services.exe')).toBe('wininit.exe');
    expect(parentName('lsass.exe')).toBe('wininit.exe');
    expect(parentName('wininit.exe')).toBeNull(); // its parent, smss's session-0 copy, has exited and is gone
    await page.getByTestId('process-scroll').evaluate((el) => { el.scrollTop = 0; });
    await shot(page, spec, 'tree');
    await page.getByRole('checkbox', { name: 'Tree by parent' }).uncheck();
  });
});

/**
 * Every row of the process table in row order, with its tree depth as rendered (the name cell's indent,
 * 14 px a level): the table is virtualized, so it is scrolled through and the rows seen are merged.
 */
async function renderedTree(page: Page): Promise<{ key: string; depth: number }[]> {
  const scroll = page.getByTestId('process-scroll');
  const seen = new Map<number, { key: string; depth: number }>();
  await scroll.evaluate((el) => { el.scrollTop = 0; });
  for (let more = true; more;) {
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
    const rows = await page.locator('.grid-body [role="row"]').evaluateAll((els) => els.map((el) => ({
      index: Number(el.getAttribute('aria-rowindex')),
      key: el.getAttribute('data-key') ?? '',
      depth: Math.round(parseFloat(/padding-left:\s*([\d.]+)px/.exec(el.querySelector('.name-cell')?.getAttribute('style') ?? '')?.[1] ?? '0') / 14),
    })));
    for (const r of rows) seen.set(r.index, { key: r.key, depth: r.depth });
    more = await scroll.evaluate((el) => { const before = el.scrollTop; el.scrollTop += el.clientHeight / 2; return el.scrollTop > before; });
  }
  return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
}
