/**
 * The user's path through the screens, written once and run through the bridge in Chromium and (where an
 * Electron binary exists) through Playwright's Electron launcher. Only roles, names and the screen's
 * own words are used to find things, as a screen reader would.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { Download, Locator, Page } from 'playwright-core';
import type { RunEvent } from '../common/contract.js';
import { expectedStatus, rowKey, shot, type Sample } from './harness.js';

export interface Driver {
  readonly page: Page;
  /** Open an image the way this host does it (bridge: the path field; Electron: the open dialog). */
  open(path: string): Promise<void>;
  /** The run events as the transport delivered them, where the test can see them (the bridge's socket). */
  readonly events?: () => readonly RunEvent[];
}

/** Records, inside the page, the scan state at the moment the first process row enters the DOM. */
const FIRST_ROW_PROBE = `(() => {
  window.__firstRowState = null;
  const mo = new MutationObserver(() => {
    if (!document.querySelector('[role="grid"][aria-label="Processes"] .grid-body [role="row"]')) return;
    window.__firstRowState = document.querySelector('.scan-text').getAttribute('data-state');
    mo.disconnect();
  });
  mo.observe(document.body, { subtree: true, childList: true, attributes: true });
})()`;

export const grid = (page: Page): Locator => page.getByRole('grid', { name: 'Processes' });
export const bodyRows = (page: Page): Locator => grid(page).locator('.grid-body [role="row"]');
export const scanState = (page: Page): Promise<string | null> => page.locator('.scan-text').getAttribute('data-state');

export async function waitForScanEnd(page: Page, timeout = 120_000): Promise<string> {
  await page.locator('.scan-text:not([data-state="running"]):not([data-state="opening"])').waitFor({ timeout });
  return (await scanState(page))!;
}

/** Open, see the header, see rows while the scan still runs, then the done state with totals. */
export async function openAndStream(d: Driver, s: Sample, spec: string): Promise<void> {
  const { page } = d;
  const before = d.events?.().length ?? 0;
  await page.evaluate(FIRST_ROW_PROBE);
  await d.open(s.path);
  await bodyRows(page).first().waitFor({ timeout: 60_000 });
  // The active-list rows are on screen before the pool scan has finished.
  expect(await page.evaluate('window.__firstRowState'), 'scan state when the first row entered the table').toBe('running');
  await shot(page, spec, 'streaming');
  const header = page.getByRole('banner', { name: 'Session' });
  await expect.poll(() => header.innerText()).toContain(s.truth.kernelBase);
  expect(await header.innerText()).toContain(String(s.truth.buildNumber));
  expect(await waitForScanEnd(page)).toBe('completed');
  expect(await page.getByRole('status').first().innerText()).toMatch(/Scan complete: \d+ processes .* in /);
  if (d.events) {
    // On the wire: the first row came before the scan had covered memory, progress followed, then done.
    const evs = d.events().slice(before);
    const firstRow = evs.findIndex((e) => e.type === 'row');
    const done = evs.findIndex((e) => e.type === 'done');
    expect(firstRow).toBeGreaterThanOrEqual(0);
    expect(firstRow).toBeLessThan(done);
    const later = evs.slice(firstRow, done).filter((e) => e.type === 'progress');
    expect(later.some((e) => e.type === 'progress' && e.bytesDone < e.bytesTotal), 'scan progress after the first row').toBe(true);
  }
  await shot(page, spec, 'done');
}

/** Every planted process shows with the status word the truth implies, highlighted by status. */
export async function labelsMatchTruth(d: Driver, s: Sample, spec: string): Promise<void> {
  const { page } = d;
  const wrong: string[] = [];
  for (const p of s.truth.processes) {
    const want = expectedStatus(p);
    const row = grid(page).locator(`.grid-body [role="row"][data-key="${rowKey(p)}"]`);
    if ((await row.count()) !== 1) { wrong.push(`${p.name} (${rowKey(p)}): ${await row.count()} rows`); continue; }
    const word = (await row.locator('.status-word').innerText()).trim().toLowerCase();
    const cls = (await row.getAttribute('class')) ?? '';
    if (word !== want || !cls.includes(`status-row-${want}`)) wrong.push(`${p.name} pid ${p.pid}: shows "${word}" (${cls}), truth says ${want} (${p.planted.join(',')})`);
  }
  expect(wrong).toEqual([]);
  const hidden = s.truth.processes.find((p) => expectedStatus(p) === 'hidden');
  if (hidden) {
    const row = grid(page).locator(`.grid-body [role="row"][data-key="${rowKey(hidden)}"]`);
    // Each source tick is named in words for a screen reader, not only by its glyph and colour.
    await expect.poll(() => row.getByRole('img', { name: 'pslist: not seen' }).count()).toBe(1);
    expect(await row.getByRole('img', { name: /^(pslist|psscan|thrdscan|cidtable|csrss|session): (seen|not seen)$/ }).count()).toBe(6);
    // The tick's tooltip says what the source saw (set when the pointer comes over the cell).
    await row.locator('[role="gridcell"][data-col="pslist"]').hover();
    expect(await row.locator('[role="gridcell"][data-col="pslist"]').getAttribute('title')).toBe('not on the PsActiveProcessHead list');
    await row.click();
    await expect.poll(() => page.getByRole('complementary', { name: 'Process details' }).innerText()).toContain('not seen');
    await shot(page, spec, 'hidden-selected');
  }
}

async function pidColumn(page: Page): Promise<number[]> {
  // Screen order is aria-rowindex order (the DOM keeps rows in their recycled slots' order).
  return page.$$eval('[role="grid"][aria-label="Processes"] .grid-body [role="row"]', (trs) => trs
    .map((tr) => [Number(tr.getAttribute('aria-rowindex')), Number(tr.querySelector('[role="gridcell"]')?.textContent?.trim())] as const)
    .sort((a, b) => a[0] - b[0]).map(([, pid]) => pid));
}

/** Sort by PID both ways (aria-sort follows), filter by name and by status word, then clear. */
export async function sortAndFilter(d: Driver, s: Sample, spec: string): Promise<void> {
  const { page } = d;
  const pidHeader = grid(page).getByRole('columnheader', { name: 'PID', exact: true });
  await pidHeader.getByRole('button').click();
  expect(await pidHeader.getAttribute('aria-sort')).toBe('ascending');
  const asc = await pidColumn(page);
  expect(asc.length).toBeGreaterThan(10);
  expect(asc).toEqual([...asc].sort((a, b) => a - b));
  await pidHeader.getByRole('button').click();
  expect(await pidHeader.getAttribute('aria-sort')).toBe('descending');
  const desc = await pidColumn(page);
  expect(desc).toEqual([...asc].sort((a, b) => b - a).slice(0, desc.length));
  await shot(page, spec, 'sorted-desc');

  const filter = page.getByRole('searchbox', { name: 'Filter processes' });
  await filter.fill('svchost');
  const svchosts = s.truth.processes.filter((p) => p.name === 'svchost.exe').length;
  await expect.poll(() => bodyRows(page).count()).toBe(svchosts);
  const names = await bodyRows(page).locator('[role="gridcell"]:nth-child(3)').allInnerTexts();
  expect(names.every((n) => n.includes('svchost'))).toBe(true);
  await filter.fill('hidden');
  const hidden = s.truth.processes.filter((p) => expectedStatus(p) === 'hidden').length;
  await expect.poll(() => bodyRows(page).count()).toBe(hidden);
  await shot(page, spec, 'filtered-hidden');
  await filter.fill('');
  // Back to the default order: a third click on the sorted header removes the sort.
  await pidHeader.getByRole('button').click();
  expect(await pidHeader.getAttribute('aria-sort')).toBe('none');
}

async function download(page: Page, button: string): Promise<Buffer> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]) as [Download, void];
  const path = await dl.path();
  return readFileSync(path);
}

/** Export of the default table is the CLI's bytes; of a filtered table, exactly the rows shown. */
export async function exportMatchesCli(d: Driver, s: Sample, cli: (format: 'csv' | 'json') => Buffer): Promise<void> {
  const { page } = d;
  const csv = await download(page, 'Export CSV');
  expect(csv.equals(cli('csv')), 'Export CSV is byte for byte memscope psxview --format csv').toBe(true);
  const json = await download(page, 'Export JSON');
  expect(json.equals(cli('json')), 'Export JSON is byte for byte memscope psxview --format json').toBe(true);

  const filter = page.getByRole('searchbox', { name: 'Filter processes' });
  await filter.fill('svchost');
  await expect.poll(() => bodyRows(page).count()).toBe(s.truth.processes.filter((p) => p.name === 'svchost.exe').length);
  const shownKeys = await bodyRows(page).evaluateAll((trs) => trs
    .sort((a, b) => Number(a.getAttribute('aria-rowindex')) - Number(b.getAttribute('aria-rowindex')))
    .map((tr) => tr.getAttribute('data-key')));
  const filtered = JSON.parse((await download(page, 'Export JSON')).toString('utf8')) as { offset: string | null }[];
  expect(filtered.map((r) => r.offset)).toEqual(shownKeys);
  await filter.fill('');
}

/** Keyboard first: Ctrl+F to the filter, ↓/↑ move the selection (details follow), Esc closes them, Ctrl+E exports. */
export async function keyboard(d: Driver, cli: () => Buffer): Promise<void> {
  const { page } = d;
  await page.keyboard.press('Control+f');
  expect(await page.evaluate('document.activeElement && document.activeElement.getAttribute("aria-label")')).toBe('Filter processes');
  await page.getByTestId('process-scroll').focus();
  await page.keyboard.press('Escape'); // no selection: ↓ starts at the first row
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  const selected = grid(page).locator('[role="row"][aria-selected="true"]');
  expect(await selected.getAttribute('aria-rowindex')).toBe('3');
  await page.keyboard.press('ArrowUp');
  expect(await selected.getAttribute('aria-rowindex')).toBe('2');
  const details = page.getByRole('complementary', { name: 'Process details' });
  expect(await details.count()).toBe(1);
  await page.keyboard.press('Escape');
  expect(await details.count()).toBe(0);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Control+e')]) as [Download, void];
  expect(readFileSync(await dl.path()).equals(cli())).toBe(true);
}
