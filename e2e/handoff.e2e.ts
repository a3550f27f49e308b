/**
 * Hand-off through the bridge: Export evidence… makes the host write the bundle into a new folder
 * under $MEMSCOPE_HOME/evidence/ (the bridge cannot hand a folder to a browser download), `memscope
 * verify` accepts it and then rejects it after one byte of one file is changed; the Timeline tab shows
 * the sample's exited processes ending before capture and its hidden process labelled in words; a
 * bar selects the process in the table and a table selection shows on the timeline; the incident
 * marker highlights the processes created near it. Screenshots at 1280×720.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TruthProcess } from '../main/engine/sample/truth.js';
import { relativeToCapture } from '../renderer/components/capture-time.js';
import { bridgeDriver } from './bridge-driver.js';
import { grid, waitForScanEnd, type Driver } from './flows.js';
import { ROOT, browse, expectedStatus, sample, serve, shot, type Browsing, type Sample, type Served } from './harness.js';

const SPEC = 'handoff';
const CLI = join(ROOT, 'bin', 'memscope.js');
const rowKey = (p: TruthProcess): string => (p.mapped === false ? `pa:${p.physicalOffset}` : p.offset);
const verify = (dir: string) => spawnSync(process.execPath, [CLI, 'verify', dir], { encoding: 'utf8' });

describe('hand-off: evidence bundle and timeline', () => {
  let s: Sample;
  let server: Served;
  let b: Browsing;
  let d: Driver;
  const home = mkdtempSync(join(tmpdir(), 'memscope-e2e-home-'));
  const savedHome = process.env['MEMSCOPE_HOME'];

  beforeAll(async () => {
    s = sample(19041, 'raw', 256);
    process.env['MEMSCOPE_HOME'] = home; // the serve child writes its bundles here
    server = await serve();
    b = await browse(server.url);
    await b.page.setViewportSize({ width: 1280, height: 720 });
    d = bridgeDriver(b.page, b.events);
    await d.open(s.path);
    await grid(b.page).locator('.grid-body [role="row"]').first().waitFor({ timeout: 60_000 });
    expect(await waitForScanEnd(b.page)).toBe('completed');
  });
  afterAll(async () => {
    await b?.close();
    await server?.close();
    if (savedHome === undefined) delete process.env['MEMSCOPE_HOME'];
    else process.env['MEMSCOPE_HOME'] = savedHome;
    rmSync(home, { recursive: true, force: true });
  });

  it('Export evidence… writes a bundle memscope verify accepts, then rejects after one byte changed', async () => {
    const { page } = b;
    await page.getByRole('button', { name: 'Export evidence…' }).click();
    // the bridge has no folder dialog on the host: a form takes the folder; left empty, the host chooses
    const form = page.getByRole('dialog', { name: 'Export evidence' });
    await form.waitFor();
    await shot(page, SPEC, 'evidence-form');
    await form.getByRole('button', { name: 'Write bundle' }).click();
    const notice = page.getByRole('status').filter({ hasText: 'Evidence bundle written to' });
    await notice.waitFor({ timeout: 120_000 });
    await shot(page, SPEC, 'evidence-exported');
    const dir = /Evidence bundle written to (\S+) \(/.exec(await notice.innerText())?.[1];
    expect(dir?.startsWith(join(home, 'evidence'))).toBe(true);
    expect(await notice.innerText()).toMatch(/image SHA-256 [0-9a-f]{16}…/);
    const ok = verify(dir!);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/^OK: .* 13 files match SHA256SUMS and manifest\.json; the bundle is complete\n$/);
    expect(spawnSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: dir! }).status).toBe(0);
    // the bundle's table is the CLI's bytes
    const cli = spawnSync(process.execPath, [CLI, 'psxview', s.path, '--format', 'csv'], { maxBuffer: 64 << 20 });
    expect(readFileSync(join(dir!, 'psxview.csv')).equals(cli.stdout)).toBe(true);

    const file = join(dir!, 'psxview.csv');
    const bytes = readFileSync(file);
    bytes[100] = bytes[100]! ^ 0x01;
    writeFileSync(file, bytes);
    const bad = verify(dir!);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/psxview\.csv changed: its SHA-256 is [0-9a-f]{64}, SHA256SUMS says [0-9a-f]{64}/);
  });

  it('the timeline shows exited processes ending before capture and the hidden process labelled', async () => {
    const { page } = b;
    await page.getByRole('tab', { name: 'Timeline' }).click();
    const body = page.getByRole('grid', { name: 'Processes on the time axis' });
    await body.waitFor();
    await shot(page, SPEC, 'timeline');
    const capture = Date.parse(s.truth.captureTime!);
    const captureX = await page.locator('.tl-marker.capture').evaluate((el) => el.getBoundingClientRect().left);
    const exited = s.truth.processes.filter((p) => p.exitTime !== null && p.mapped !== false);
    expect(exited.length).toBeGreaterThan(0);
    for (const p of exited) {
      const row = body.locator(`[role="row"][data-key="${rowKey(p)}"]`);
      await row.scrollIntoViewIfNeeded();
      const label = (await row.getAttribute('aria-label'))!;
      expect(label).toContain(`${p.name} PID ${p.pid}, ${expectedStatus(p)}`);
      expect(label, label).toMatch(/exited \S+ \(\d+ (ms|s|min|h \d+ min) before capture\)/);
      expect(Date.parse(p.exitTime!)).toBeLessThan(capture);
      const barRight = await row.locator('.tl-bar').evaluate((el) => el.getBoundingClientRect().right);
      expect(barRight, `${p.name}'s bar ends at or before the capture line`).toBeLessThanOrEqual(captureX + 1);
      if (await row.locator('.tl-end').count()) expect(await row.locator('.tl-end').innerText()).toMatch(/^exited .* before capture$/);
    }
    const hidden = s.truth.processes.find((p) => expectedStatus(p) === 'hidden')!;
    const hrow = body.locator(`[role="row"][data-key="${rowKey(hidden)}"]`);
    await hrow.scrollIntoViewIfNeeded();
    expect((await hrow.locator('.status-word').innerText()).toLowerCase()).toBe('hidden');
    expect(await hrow.getAttribute('aria-label')).toMatch(/, hidden, created .* running at capture/);
    // every process of the truth has its row (none dropped); the sample has none undated
    expect(Number(await body.getAttribute('aria-rowcount'))).toBe(s.truth.processes.length);
  });

  it('clicking a bar selects that row in the table; a table selection shows on the timeline', async () => {
    const { page } = b;
    const body = page.getByRole('grid', { name: 'Processes on the time axis' });
    const hidden = s.truth.processes.find((p) => expectedStatus(p) === 'hidden')!;
    const hrow = body.locator(`[role="row"][data-key="${rowKey(hidden)}"]`);
    await hrow.scrollIntoViewIfNeeded();
    await hrow.locator('.tl-bar').click();
    expect(await hrow.getAttribute('aria-selected')).toBe('true');
    const details = page.getByRole('complementary', { name: 'Process details' });
    await expect.poll(() => details.innerText()).toContain(String(hidden.pid));
    // the details panel says how long before capture it was created (the image's capture time, not this clock)
    const beforeCapture = relativeToCapture(Date.parse(hidden.createTime), Date.parse(s.truth.captureTime!));
    expect(beforeCapture).toMatch(/before capture$/);
    const createdText = (await details.locator('dt', { hasText: /^Created$/ }).locator('xpath=following-sibling::dd').innerText()).replace(/\s+/g, ' ');
    expect(createdText).toBe(`${hidden.createTime} ${beforeCapture}`);
    await shot(page, SPEC, 'timeline-selected');
    await page.getByRole('tab', { name: 'Processes' }).click();
    const tableRow = grid(page).locator(`.grid-body [role="row"][data-key="${rowKey(hidden)}"]`);
    await expect.poll(() => tableRow.getAttribute('aria-selected')).toBe('true');
    // and so does the Created cell's tooltip in the table
    const created = tableRow.locator('[data-col="createTime"]');
    await created.hover();
    await expect.poll(() => created.getAttribute('title')).toBe(`${hidden.createTime} · ${beforeCapture}`);
    // the hover scrolled the table to the time columns: back to PID and name, as a responder reads it
    await tableRow.locator('[data-col="pid"]').scrollIntoViewIfNeeded();
    await shot(page, SPEC, 'details-capture-relative');

    const other = s.truth.processes.find((p) => p.name === 'lsass.exe')!;
    await grid(page).locator(`.grid-body [role="row"][data-key="${rowKey(other)}"]`).click();
    await page.getByRole('tab', { name: 'Timeline' }).click();
    await expect.poll(() => body.locator(`[role="row"][data-key="${rowKey(other)}"]`).getAttribute('aria-selected')).toBe('true');
  });

  it('an incident time set from the keyboard highlights the processes created near it', async () => {
    const { page } = b;
    const body = page.getByRole('grid', { name: 'Processes on the time axis' });
    const hidden = s.truth.processes.find((p) => expectedStatus(p) === 'hidden')!;
    await body.locator(`[role="row"][data-key="${rowKey(hidden)}"] .tl-label`).click();
    await body.focus();
    await page.keyboard.press('i'); // the incident marker at the selected process's create time
    await expect.poll(() => page.getByRole('textbox', { name: 'Incident time (UTC)' }).inputValue()).toBe(hidden.createTime);
    await page.getByRole('combobox', { name: 'Window' }).selectOption({ label: '±1 min' });
    const t = Date.parse(hidden.createTime);
    const expected = s.truth.processes.filter((p) => Math.abs(Date.parse(p.createTime) - t) <= 60_000);
    await expect.poll(() => page.locator('.tl-near').innerText()).toMatch(new RegExp(`^${expected.length} process(es)? created within ±1 min of`));
    expect(await body.locator(`[role="row"][data-key="${rowKey(hidden)}"]`).getAttribute('class')).toContain('near');
    await shot(page, SPEC, 'timeline-incident');
  });
});
