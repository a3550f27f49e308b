/**
 * The Live memory path on the simulated WinPmem device (`memscope serve` with
 * MEMSCOPE_SIMULATED_PMEM = a sample image): Live memory → the pre-flight panel (one line per check,
 * "Simulated device" said) → Start → the session header says winpmem and the process table fills as
 * for the image → Acquire… writes the memory to a file whose SHA-256 the panel shows and sha256sum
 * agrees with. Screenshots at 1280×720.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyRows, waitForScanEnd } from './flows.js';
import { browse, CACHE, sample, serve, shot, type Browsing, type Sample, type Served } from './harness.js';

describe('live memory (simulated WinPmem device)', () => {
  let server: Served;
  let b: Browsing;
  let img: Sample;
  const dir = join(CACHE, 'live');
  const out = join(dir, `acquired-${process.pid}.raw`);

  beforeAll(async () => {
    img = sample(19041, 'raw', 256);
    mkdirSync(dir, { recursive: true });
    rmSync(out, { force: true });
    rmSync(`${out}.json`, { force: true });
    process.env['MEMSCOPE_SIMULATED_PMEM'] = img.path;
    try {
      server = await serve();
    } finally {
      delete process.env['MEMSCOPE_SIMULATED_PMEM'];
    }
    b = await browse(server.url);
    await b.page.setViewportSize({ width: 1280, height: 720 });
  });
  afterAll(async () => {
    await b?.close();
    await server?.close();
    rmSync(out, { force: true });
    rmSync(`${out}.json`, { force: true });
  });

  it('pre-flight → Start → rows', async () => {
    const { page } = b;
    await page.getByRole('button', { name: 'Live memory' }).click();
    const dialog = page.getByRole('dialog', { name: 'Live memory' });
    await dialog.waitFor();
    const checks = dialog.getByRole('list', { name: 'Pre-flight checks' }).locator('li');
    await checks.first().waitFor({ timeout: 30_000 });
    expect(await dialog.getByText('Simulated device', { exact: true }).count()).toBe(1);
    const lines = await checks.allInnerTexts();
    expect(lines.length).toBe(5);
    expect(lines.find((l) => l.includes('Physical memory'))).toMatch(/pass[\s\S]*MiB in \d+ runs \(GET_INFO\)/i);
    expect(lines.every((l) => !/^fail/i.test(l))).toBe(true);
    await shot(page, 'live', 'preflight');

    await dialog.getByRole('button', { name: 'Start' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 60_000 });
    await bodyRows(page).first().waitFor({ timeout: 60_000 });
    const header = await page.getByRole('banner', { name: 'Session' }).innerText();
    expect(header).toMatch(/winpmem/);
    expect(header).toContain(img.truth.kernelBase);
    expect(await waitForScanEnd(page)).toBe('completed');
    const want = img.truth.processes.length; // every planted process has exactly one row, as for the image
    expect(await page.locator('.row-count').innerText()).toMatch(new RegExp(`^${want} rows$`));
    await shot(page, 'live', 'rows');
  });

  it('Acquire… writes the memory with progress, SHA-256 and a sidecar', async () => {
    const { page } = b;
    await page.getByRole('button', { name: 'Live memory' }).click();
    const dialog = page.getByRole('dialog', { name: 'Live memory' });
    await dialog.getByLabel('Acquire to').fill(out);
    await dialog.getByRole('button', { name: 'Acquire…' }).click();
    const status = dialog.getByRole('status').filter({ hasText: /Done:/ });
    await status.waitFor({ timeout: 120_000 });
    const text = await status.innerText();
    const sha = /SHA-256 ([0-9a-f]{64})/.exec(text)?.[1];
    expect(sha).toBe(execFileSync('sha256sum', [out], { encoding: 'utf8' }).split(' ')[0]);
    expect(text).toContain(`${out}.json`);
    await shot(page, 'live', 'acquired');
  });
});
