/**
 * The DTB inspector through the bridge on two builds in two formats: LockApp's DirBase with its …002
 * low bits explained, the count of processes a page-alignment check (Rekall's) would drop, the kernel
 * DTB candidates above, a row opening its PML4 in the hex view (physical), Export CSV byte for byte
 * `memscope dtb <image> --processes --format csv`, and switching screens never rescanning.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bodyRows } from './flows.js';
import { cliBytes, shot, type Browsing, type Sample } from './harness.js';
import { openForSpec } from './views.js';

const IMAGES: readonly [number, 'raw' | 'crashdump'][] = [[19041, 'raw'], [17763, 'crashdump']];

describe.each(IMAGES)('DTB inspector, build %i, %s image', (build, format) => {
  const spec = `dtb-inspector-${build}-${format}`;
  let s: Sample;
  let b: Browsing;
  openForSpec(build, format, (o) => ({ s, b } = o));

  it('explains LockApp\'s …002 DirBase and counts what an alignment check would drop', async () => {
    const { page } = b;
    await page.getByRole('tab', { name: 'DTB inspector' }).click();
    const count = page.locator('.dtb-count');
    await expect.poll(() => count.innerText(), { timeout: 60_000 }).toMatch(/would be dropped/);
    // pslist ∪ psscan, as the dtb plugin inspects them; a DirBase with low bits set is what Rekall skipped
    const seen = s.truth.processes.filter((p) => p.foundBy.pslist || p.foundBy.psscan);
    const dropped = seen.filter((p) => (BigInt(p.dtb) & 0xfffn) !== 0n).length;
    expect(await count.innerText()).toMatch(new RegExp(`^${dropped} of ${seen.length} processes would be dropped`));
    const lock = s.truth.processes.find((p) => p.name === 'LockApp.exe')!;
    expect(BigInt(lock.dtb) & 0xfffn).toBe(2n);
    const row = page.getByRole('table', { name: 'Process DirBases' }).locator('tbody tr', { hasText: 'LockApp.exe' });
    const text = await row.innerText();
    expect(text).toContain(lock.dtb);
    expect(text).toMatch(/PCID 2/);
    expect(text).toMatch(/valid: .*\(PCID 0x002\) — an alignment check like Rekall's would skip this process/);
    // discovery's candidates, the winner named
    const cands = page.getByRole('table', { name: 'DTB candidates' });
    expect(await cands.locator('tr.won').innerText()).toContain(s.truth.pml4);
    await shot(page, spec, 'inspector');
  });

  it('Export CSV is byte for byte `memscope dtb --processes --format csv`', async () => {
    const { page } = b;
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV (DTB table)' }).click()]);
    const got = readFileSync((await download.path())!);
    expect(got.equals(cliBytes(['dtb', s.path, '--processes', '--format', 'csv']))).toBe(true);
  });

  it('a row opens its PML4 in the hex view, physical; switching screens never rescans', async () => {
    const { page } = b;
    const runsBefore = b.events.filter((e) => e.type === 'done').length;
    const lock = s.truth.processes.find((p) => p.name === 'LockApp.exe')!;
    const pml4 = `0x${(BigInt(lock.dtb) & ~0xfffn).toString(16)}`;
    await page.getByRole('button', { name: new RegExp(`^Open PML4 of LockApp\\.exe ${pml4}$`) }).click();
    const header = page.locator('.hex-header');
    await expect.poll(() => header.innerText()).toContain('PML4 of LockApp.exe');
    expect(await header.innerText()).toContain('physical memory');
    expect(await page.getByRole('radio', { name: 'Physical' }).isChecked()).toBe(true);
    const first = await page.locator('.hex-row .hex-offset').first().innerText();
    expect(BigInt(`0x${first}`)).toBe(BigInt(pml4));
    await shot(page, spec, 'pml4-hex');
    // back to the inspector and the process list: the kept results, no new scan
    await page.getByRole('tab', { name: 'DTB inspector' }).click();
    await expect.poll(() => page.locator('.dtb-count').innerText()).toMatch(/would be dropped/);
    await page.getByRole('tab', { name: 'Processes' }).click();
    await bodyRows(page).first().waitFor();
    expect(b.events.filter((e) => e.type === 'done').length).toBe(runsBefore);
  });
});
