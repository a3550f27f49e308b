/**
 * The Live memory path on the simulated WinPmem device (`memscope serve` with
 * MEMSCOPE_SIMULATED_PMEM = a sample image): Live memory → the pre-flight panel (one line per check,
 * "Simulated device" said) → Start → the session header says winpmem and the process table fills as
 * for the image → Acquire… writes the memory to a file whose SHA-256 the panel shows and sha256sum
 * agrees with; Export evidence… writes the live session's bundle into the folder typed, and `memscope
 * verify` accepts it. Screenshots at 1280×720.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyRows, waitForScanEnd } from './flows.js';
import { browse, CACHE, ROOT, sample, serve, shot, type Browsing, type Sample, type Served } from './harness.js';

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

  it('Export evidence… of the live session: into the folder typed, a bundle memscope verify accepts, no image hash', async () => {
    const { page } = b;
    const folder = join(dir, `evidence-${process.pid}`);
    rmSync(folder, { recursive: true, force: true });
    try {
      await page.getByRole('button', { name: 'Export evidence…' }).click();
      const form = page.getByRole('dialog', { name: 'Export evidence' });
      await form.getByLabel('Folder on the host (new or empty)').fill(folder);
      await form.getByRole('button', { name: 'Write bundle' }).click();
      const notice = page.getByRole('status').filter({ hasText: 'Evidence bundle written to' });
      await notice.waitFor({ timeout: 120_000 });
      expect(await notice.innerText()).toContain(`Evidence bundle written to ${folder} (14 files; no image SHA-256: live memory changes while it is read`);
      await shot(page, 'live', 'evidence-exported');
      const v = spawnSync(process.execPath, [join(ROOT, 'bin', 'memscope.js'), 'verify', folder], { encoding: 'utf8' });
      expect(v.stderr).toBe('');
      expect(v.stdout).toMatch(/^OK: .* 13 files match SHA256SUMS and manifest\.json; the bundle is complete\n$/);
      const m = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as { source: { kind: string; sha256: string | null; live?: { simulated: boolean; getInfo: { kernelBase: string } } } };
      expect(m.source).toMatchObject({ kind: 'live', sha256: null, live: { simulated: true, getInfo: { kernelBase: img.truth.kernelBase } } });
      // the same rows as the table on screen (the bundle ran in the open session)
      expect(readFileSync(join(folder, 'psxview.csv'), 'utf8').trim().split('\n').length - 1).toBe(img.truth.processes.length);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
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
