/** Baseline (temporary): the process screen at 1280×720 and 1366×768. */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { bridgeDriver } from './bridge-driver.js';
import { bodyRows, waitForScanEnd } from './flows.js';
import { browse, sample, serve, shot, type Browsing, type Served } from './harness.js';

describe('laptop', () => {
  let server: Served;
  let b: Browsing;
  beforeAll(async () => { server = await serve(); b = await browse(server.url); });
  afterAll(async () => { await b?.close(); await server?.close(); });
  it('baseline', async () => {
    const s = sample(19041, 'raw', 1024);
    const { page } = b;
    await page.setViewportSize({ width: 1280, height: 720 });
    await bridgeDriver(page).open(s.path);
    await page.waitForTimeout(300);
    await shot(page, 'laptop', 'base-opening');
    await bodyRows(page).first().waitFor({ timeout: 60_000 });
    await waitForScanEnd(page);
    await shot(page, 'laptop', 'base-1280');
    await page.setViewportSize({ width: 1366, height: 768 });
    await shot(page, 'laptop', 'base-1366');
  });
});
