/**
 * 10,000 rows (the bench page: the real store, table model and ProcessTable over synthetic rows). The
 * table keeps only the rows in view in the DOM and reuses a row's nodes for the row that scrolls in, so
 * this checks, at many scroll positions, down and back up, flat and sorted, that every row on screen
 * shows its own process: PID, name, status word and each source tick, in row order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticRows } from '../renderer/bench/synthetic-rows.js';
import type { ProcessTableRow } from '../common/contract.js';
import { PSXVIEW_SOURCES } from '../common/contract.js';
import { browse, serve, shot, type Browsing, type Served } from './harness.js';

const ROWS = 10_000;
const truth = new Map<string, ProcessTableRow>(syntheticRows(ROWS).map((r) => [r.key, r]));

interface ShownRow { key: string; rowIndex: number; pid: string; name: string; word: string; ticks: string[] }

describe('process table with 10,000 rows', () => {
  let server: Served;
  let b: Browsing;

  beforeAll(async () => {
    server = await serve();
    b = await browse(`${new URL(server.url).origin}/bench.html?rows=${ROWS}`);
    await b.page.locator('.grid-body [role="row"]').first().waitFor();
  });
  afterAll(async () => {
    await b?.close();
    await server?.close();
  });

  async function shownAt(scrollTop: number): Promise<ShownRow[]> {
    await b.page.locator('.table-scroll').evaluate((el, top) => { el.scrollTop = top; }, scrollTop);
    // Two frames: the scroll event renders the new window, the next frame has it on screen.
    await b.page.evaluate(() => new Promise<void>((r) => {
      const raf = (globalThis as unknown as { requestAnimationFrame(f: () => void): number }).requestAnimationFrame;
      raf(() => raf(() => r()));
    }));
    return b.page.$$eval('.grid-body [role="row"]', (rows) => rows.map((row) => ({
      key: row.getAttribute('data-key') ?? '',
      rowIndex: Number(row.getAttribute('aria-rowindex')),
      pid: row.querySelector('[role="gridcell"]')?.textContent?.trim() ?? '',
      name: row.querySelector('.name-cell')?.textContent?.trim() ?? '',
      word: row.querySelector('.status-word')?.textContent?.trim() ?? '',
      ticks: [...row.querySelectorAll('.tick')].map((t) => t.getAttribute('aria-label') ?? ''),
    })));
  }

  /** Every row shown is its own process, rows run in order without gaps, and only a window is in the DOM. */
  function check(inDom: ShownRow[], where: string): string[] {
    const wrong: string[] = [];
    const shown = [...inDom].sort((a, b) => a.rowIndex - b.rowIndex);
    if (shown.length === 0 || shown.length > 120) wrong.push(`${where}: ${shown.length} rows in the DOM`);
    shown.forEach((s, i) => {
      const r = truth.get(s.key);
      if (!r) { wrong.push(`${where}: unknown key ${s.key}`); return; }
      const ticks = PSXVIEW_SOURCES.map((src) => `${src}: ${r.psxview[src] ? 'seen' : 'not seen'}`);
      if (s.pid !== String(r.psxview.pid) || s.name !== r.psxview.name || s.word !== r.status || s.ticks.join('|') !== ticks.join('|')) {
        wrong.push(`${where}: row ${s.key} shows pid ${s.pid} ${s.name} ${s.word} [${s.ticks.join(', ')}], is pid ${r.psxview.pid} ${r.psxview.name} ${r.status}`);
      }
      if (i > 0 && s.rowIndex !== shown[i - 1]!.rowIndex + 1) wrong.push(`${where}: aria-rowindex ${shown[i - 1]!.rowIndex} then ${s.rowIndex}`);
    });
    return wrong;
  }

  it('shows each row its own process while scrolling down and back up', async () => {
    const wrong: string[] = [];
    const pids: number[] = [];
    const positions = [0, 230, 460, 3000, 3230, 100_000, 100_115, 229_000, 120_000, 119_770, 500, 0];
    for (const top of positions) {
      const shown = await shownAt(top);
      wrong.push(...check(shown, `scrollTop ${top}`));
      pids.push(Number(shown[0]?.pid));
    }
    expect(wrong).toEqual([]);
    // The default order is the engine's (PID order in these rows) with hidden, exited and remnant rows
    // first: the first row shown is the first hidden one, and deep in the (normal) rows PIDs rise with the scroll.
    const firstHidden = [...truth.values()].find((r) => r.status === 'hidden')!;
    expect(pids[0]).toBe(firstHidden.psxview.pid);
    expect(pids[7]).toBeGreaterThan(pids[5]!);
    expect(pids[5]).toBeGreaterThan(pids[3]!);
    await shot(b.page, 'large-table', 'scrolled');
  });

  it('lets only cells that might overflow clip: an unclipped cell never spills out of its box', async () => {
    // Cells clip (overflow: hidden, for the ellipsis) only when their text may not fit (ColumnMeta.fits):
    // here, with Chromium's real fonts, each unclipped cell's content must fit inside it.
    const spills = (): Promise<{ unclipped: number; spilled: string[] }> => b.page.$$eval('.grid-body [role="gridcell"]', (cells) => {
      const open = cells.filter((c) => !c.classList.contains('clip'));
      return { unclipped: open.length, spilled: open.filter((c) => c.scrollWidth > c.clientWidth).map((c) => `${c.getAttribute('data-col')}: ${c.textContent}`) };
    });
    const wrong: string[] = [];
    for (const top of [0, 3000, 100_000, 229_000]) {
      await shownAt(top);
      const r = await spills();
      if (r.unclipped === 0) wrong.push(`scrollTop ${top}: no unclipped cells`);
      wrong.push(...r.spilled.map((x) => `scrollTop ${top}: ${x}`));
    }
    expect(wrong).toEqual([]);
    // At the rule's limit: in a copy of a row, each monospace column holds the longest text the rule lets
    // go unclipped (digits: in a monospace face every glyph is as wide); none spills.
    // The control, a PID far longer than its cell, must spill, or the measure proves nothing.
    const limits = await b.page.evaluate('window.memscopeBench.fitLimits()') as Record<string, number>;
    const longest = Object.entries(limits).map(([col, n]) => ({ col, text: '0'.repeat(n) }));
    expect(longest.map((l) => l.col)).toEqual(expect.arrayContaining(['pid', 'createTime', 'offset']));
    const atLimit = await b.page.$eval('.grid-body', (bodyElement, cases) => {
      // This side has no DOM types: the little of the DOM the check uses.
      interface El { querySelector(s: string): El | null; cloneNode(deep: boolean): El; append(n: El): void; remove(): void; classList: { remove(c: string): void }; textContent: string | null; scrollWidth: number; clientWidth: number }
      const body = bodyElement as unknown as El;
      const copy = body.querySelector('[role="row"]')!.cloneNode(true);
      body.append(copy);
      const spilled: string[] = [];
      for (const { col, text } of [...cases, { col: 'pid', text: '1234567890123' }]) {
        const cell = copy.querySelector(`[data-col="${col}"]`);
        if (!cell) continue;
        cell.classList.remove('clip');
        cell.textContent = text;
        if (cell.scrollWidth > cell.clientWidth) spilled.push(`${col}: ${text.length} chars`);
        if (col === 'pid') cell.textContent = '0';
      }
      copy.remove();
      return spilled;
    }, longest.filter((l) => ['pid', 'ppid', 'offset', 'threads', 'createTime', 'exitTime'].includes(l.col)));
    expect(atLimit).toEqual(['pid: 13 chars']);
  });

  it('gives assistive technology the rows in screen order, though the DOM keeps them in slot order', async () => {
    const shown = await shownAt(100_000);
    const domPids = shown.map((s) => Number(s.pid));
    // Deep in the list the recycled slots have wrapped: DOM order is not screen order...
    expect(domPids).not.toEqual([...domPids].sort((a, b) => a - b));
    // ...but Chromium's accessibility tree (what a screen reader reads) follows the rowgroup's aria-owns.
    const cdp = await b.page.context().newCDPSession(b.page);
    await cdp.send('Accessibility.enable');
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    const byId = new Map(nodes.map((n) => [n.nodeId, n]));
    const grid = nodes.find((n) => n.role?.value === 'grid' && n.name?.value === 'Processes');
    expect(grid, 'a grid named Processes in the accessibility tree').toBeDefined();
    const axRows: string[] = [];
    const walk = (id: string): void => {
      const n = byId.get(id);
      if (!n) return;
      if (n.role?.value === 'row') axRows.push(String(n.name?.value ?? ''));
      for (const c of n.childIds ?? []) walk(c);
    };
    walk(grid!.nodeId);
    await cdp.detach();
    const axPids = axRows.slice(1).map((name) => Number(/^\s*(\d+)/.exec(name)?.[1]));
    expect(axRows.length).toBe(shown.length + 1);
    expect(axPids).toEqual([...domPids].sort((a, b) => a - b));
  });

  it('gives a hovered cell the tooltip of the row it shows, also after rows scroll under a resting pointer', async () => {
    await shownAt(4600);
    const tooltipUnderPointer = async (): Promise<{ key: string; title: string | null }> => b.page.evaluate(() => {
      const d = globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null; closest(s: string): { getAttribute(a: string): string | null } | null } | null } };
      const cell = d.document.querySelector('[role="gridcell"][data-col="thrdscan"]:hover');
      return { key: cell?.closest('[role="row"]')?.getAttribute('data-key') ?? '', title: cell?.getAttribute('title') ?? null };
    });
    const expected = (key: string): string => truth.get(key)!.evidence.thrdscan!;
    const cell = b.page.locator('.grid-body [role="row"][aria-rowindex="215"] [role="gridcell"][data-col="thrdscan"]');
    await cell.hover();
    const first = await tooltipUnderPointer();
    expect(first.title).toBe(expected(first.key));
    // Scroll under the resting pointer: the cell there now shows another process, and so must its tooltip.
    const wrong: string[] = [];
    for (const top of [4830, 5060, 9000, 9230]) {
      await shownAt(top);
      const now = await tooltipUnderPointer();
      if (!now.key || now.title !== expected(now.key)) wrong.push(`scrollTop ${top}: ${now.key} has tooltip ${JSON.stringify(now.title)}`);
    }
    expect(wrong).toEqual([]);
    // Every cell that has a tooltip has its own row's (none kept one from a process it no longer shows).
    const titled = await b.page.$$eval('.grid-body [role="gridcell"][title]', (cells) => cells.map((c) => ({
      key: c.closest('[role="row"]')?.getAttribute('data-key') ?? '', col: c.getAttribute('data-col'), title: c.getAttribute('title'),
    })));
    expect(titled.length).toBeGreaterThan(0);
    expect(titled.filter((t) => t.col !== 'thrdscan' || t.title !== expected(t.key))).toEqual([]);
  });

  it('keeps rows true after a sort, at the top and deep in the list', async () => {
    await shownAt(0);
    const header = b.page.getByRole('columnheader', { name: 'PID', exact: true });
    await header.getByRole('button').click();
    await header.getByRole('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    const wrong: string[] = [];
    const firsts: number[] = [];
    for (const top of [0, 50_000, 50_230, 0]) {
      const shown = await shownAt(top);
      wrong.push(...check(shown, `PID descending, scrollTop ${top}`));
      const pids = [...shown].sort((a, b) => a.rowIndex - b.rowIndex).map((s) => Number(s.pid));
      if (pids.some((p, i) => i > 0 && p >= pids[i - 1]!)) wrong.push(`PID descending, scrollTop ${top}: not descending`);
      firsts.push(pids[0]!);
    }
    expect(wrong).toEqual([]);
    expect(firsts[0]).toBe(4 + (ROWS - 1) * 4);
    expect(firsts[1]).toBeLessThan(firsts[0]!);
    await shot(b.page, 'large-table', 'sorted-pid-descending');
  });
});
