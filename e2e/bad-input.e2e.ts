/**
 * Bad input: a file that is not a memory image, a truncated image and a named pipe (which once froze
 * the server in open(2)) each give one clear error naming the file, the app stays usable, and
 * opening a good image afterwards works.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, readSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridgeDriver } from './bridge-driver.js';
import { bodyRows, waitForScanEnd } from './flows.js';
import { browse, CACHE, sample, serve, shot, type Browsing, type Served } from './harness.js';

describe('bad input', () => {
  let server: Served;
  let b: Browsing;
  const dir = join(CACHE, 'bad');
  const notImage = join(dir, 'notes.txt');
  const truncated = join(dir, 'truncated.dmp');
  const pipe = join(dir, 'evidence.raw');

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(notImage, 'meeting notes, not a memory image\n'.repeat(2000));
    // The first 64 KiB of a crash dump: a valid header that promises far more than the file holds.
    const good = sample(17763, 'crashdump', 256);
    const buf = Buffer.alloc(64 * 1024);
    const fd = openSync(good.path, 'r');
    readSync(fd, buf, 0, buf.length, 0);
    closeSync(fd);
    writeFileSync(truncated, buf);
    rmSync(pipe, { force: true });
    execFileSync('mkfifo', [pipe]); // no writer ever comes
    server = await serve();
    b = await browse(server.url);
  });
  afterAll(async () => {
    await b?.close();
    await server?.close();
  });

  for (const [what, file] of [['a text file', () => notImage], ['a truncated crash dump', () => truncated], ['a named pipe', () => pipe]] as const) {
    it(`${what}: one error naming the file, the app stays usable`, async () => {
      const { page } = b;
      await bridgeDriver(page).open(file());
      const alert = page.getByRole('alert');
      await alert.filter({ hasText: basename(file()) }).waitFor({ timeout: 30_000 }); // this file's error, not the last one's
      expect(await alert.count()).toBe(1);
      const text = await alert.innerText();
      expect(text).toContain(basename(file()));
      expect(text.split(/(?<=[.!?])\s+(?=[A-Z])/).length, `one sentence, got: ${text}`).toBeLessThanOrEqual(2);
      await shot(page, 'bad-input', what.replace(/\W+/g, '-'));
      await expect.poll(() => page.getByRole('button', { name: 'Open image' }).isEnabled()).toBe(true);
    });
  }

  it('after the errors, a good image opens and scans', async () => {
    const { page } = b;
    const good = sample(19041, 'raw', 256);
    await bridgeDriver(page).open(good.path);
    await bodyRows(page).first().waitFor({ timeout: 60_000 });
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await waitForScanEnd(page)).toBe('completed');
    await shot(page, 'bad-input', 'recovered');
  });

  it('Live memory explains what it needs', async () => {
    const { page } = b;
    await page.getByRole('button', { name: 'Live memory' }).click();
    const note = page.locator('.notice-panel');
    await note.waitFor();
    expect(await note.innerText()).toMatch(/Windows.*administrator/);
    await shot(page, 'bad-input', 'live-memory');
  });
});
