/**
 * Cancel mid-scan: on a 4 GiB image the pool scan runs for seconds, the test waits until the progress
 * bar has moved (and the scan is still running), cancels, and expects a usable table that says the scan
 * was cancelled and how far it got.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridgeDriver } from './bridge-driver.js';
import { bodyRows, grid, scanState, waitForScanEnd } from './flows.js';
import { browse, sample, serve, shot, type Browsing, type Served } from './harness.js';

describe('cancel a scan', () => {
  let server: Served;
  let b: Browsing;
  beforeAll(async () => {
    server = await serve();
    b = await browse(server.url);
  });
  afterAll(async () => {
    await b?.close();
    await server?.close();
  });

  it('Cancel scan mid-scan leaves the rows found so far, sortable, and says the scan was cancelled', async () => {
    const s = sample(19041, 'raw', 4096);
    const { page } = b;
    await bridgeDriver(page).open(s.path);
    await bodyRows(page).first().waitFor({ timeout: 60_000 });
    const bar = page.getByRole('progressbar', { name: 'Scan progress' });
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
    expect(await scanState(page)).toBe('running');
    await shot(page, 'cancel', 'scanning');
    await page.getByRole('button', { name: 'Cancel scan' }).click();
    expect(await waitForScanEnd(page)).toBe('cancelled');
    const status = await page.getByRole('status').first().innerText();
    expect(status).toMatch(/Scan cancelled after [\d.]+ \w+ of [\d.]+ GiB \((\d+)%\)/);
    const pct = Number(/\((\d+)%\)/.exec(status)![1]);
    expect(pct).toBeLessThan(100);
    expect(await page.getByRole('button', { name: 'Cancel scan' }).count()).toBe(0);
    // The table stays usable: the active-list rows are there and sort.
    const rows = await bodyRows(page).count();
    expect(rows).toBeGreaterThanOrEqual(s.truth.processes.filter((p) => p.foundBy.pslist).length);
    const pid = grid(page).getByRole('columnheader', { name: 'PID', exact: true });
    await pid.getByRole('button').click();
    expect(await pid.getAttribute('aria-sort')).toBe('ascending');
    await shot(page, 'cancel', 'cancelled');
  });

  it('Esc cancels a scan too', async () => {
    const s = sample(19041, 'raw', 4096);
    const { page } = b;
    await bridgeDriver(page).open(s.path);
    const bar = page.getByRole('progressbar', { name: 'Scan progress' });
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow') ?? 0), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
    await grid(page).click();
    await page.keyboard.press('Escape');
    expect(await waitForScanEnd(page)).toBe('cancelled');
  });
});
