/**
 * The hex view through the bridge on two builds in two formats: a selected process opens (Enter) at
 * its _EPROCESS with the structure laid over it, ImageFileName's bytes at the profile's offset decoded
 * to the name; ActiveProcessLinks.Flink lands on the next process of the active list (named), Back
 * and Alt+→ walk the history; a DKOM-hidden process's self-pointing links are called out; an
 * unreadable page shows ?? with its reason; Go to nt!PsActiveProcessHead works. Screenshots at 1280×720.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { rowKey, shot, type Browsing, type Sample } from './harness.js';
import { openForSpec } from './views.js';

const IMAGES: readonly [number, 'raw' | 'crashdump'][] = [[19041, 'raw'], [17763, 'crashdump']];

const header = (page: Page) => page.getByRole('region', { name: 'Hex view' }).locator('.hex-header');
const goTo = async (page: Page, text: string): Promise<void> => {
  await page.getByRole('textbox', { name: 'Go to address' }).fill(text);
  await page.getByRole('button', { name: 'Go', exact: true }).click();
};
/** The selected bytes as the ASCII column shows them. */
const selectedAscii = (page: Page): Promise<string> => page.locator('.hex-ascii .ab.hl-selected').evaluateAll((els) => els.map((e) => e.textContent ?? '').join(''));
/** The name of the field laid at `name`, as the field list decodes it. */
const fieldValue = (page: Page, name: string) => page.locator('.field-table tr', { has: page.locator('td.f-name', { hasText: new RegExp(`^${name}$`) }) }).first().locator('td.f-value');

describe.each(IMAGES)('hex view, build %i, %s image', (build, format) => {
  const spec = `hex-view-${build}-${format}`;
  let s: Sample;
  let b: Browsing;
  openForSpec(build, format, (o) => ({ s, b } = o));

  it('Enter on a selected process opens its _EPROCESS with ImageFileName at the profile offset, decoded to the name', async () => {
    const { page } = b;
    const sys = s.truth.processes.find((p) => p.pid === 4)!;
    await page.locator(`.grid-body [role="row"][data-key="${rowKey(sys)}"]`).click();
    await page.getByRole('tab', { name: 'Processes' }).waitFor();
    await page.keyboard.press('Enter');
    await expect.poll(() => header(page).innerText()).toContain('System');
    expect(await page.getByRole('tab', { name: 'Hex view' }).getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => fieldValue(page, 'ImageFileName').innerText()).toBe('"System"');
    // CreateTime in UTC, then how long before the capture (KUSER_SHARED_DATA.SystemTime), as every screen words it
    expect(s.truth.captureTime, 'the sample records its capture time').toBeTruthy();
    const minutes = Math.round((Date.parse(s.truth.captureTime!) - Date.parse(sys.createTime)) / 60_000);
    await expect.poll(() => fieldValue(page, 'CreateTime').innerText()).toMatch(new RegExp(`UTC · (${minutes} min|\\d+ h \\d+ min) before capture$`));
    // the name's bytes, selected from the field list, read "System" in the ASCII column at the profile offset
    const off = Number('0x' + /\+([0-9a-f]+)/.exec(await page.locator('.field-table tr', { hasText: 'ImageFileName' }).first().locator('td.f-off').innerText())![1]!.trim());
    await page.locator('td.f-name', { hasText: /^ImageFileName$/ }).click();
    await expect.poll(() => selectedAscii(page)).toMatch(/^System\.+$/);
    const firstSelected = await page.locator('.hex-row', { has: page.locator('.hb.hl-selected') }).first().locator('.hex-offset').innerText();
    expect(BigInt(`0x${firstSelected.replace('`', '')}`)).toBe((BigInt(sys.offset) + BigInt(off)) & ~0xfn);
    await shot(page, spec, 'eprocess');
  });

  it('ActiveProcessLinks.Flink lands on the next process of the active list, named; Back returns, Alt+→ goes forward', async () => {
    const { page } = b;
    const link = page.getByRole('button', { name: /^ActiveProcessLinks\.Flink/ });
    const flink = BigInt((await link.innerText()).trim());
    const off = Number('0x' + /\+([0-9a-f]+)/.exec(await page.locator('.field-table tr', { hasText: 'ActiveProcessLinks' }).first().locator('td.f-off').innerText())![1]!.trim());
    const next = s.truth.processes.find((p) => BigInt(p.offset) === flink - BigInt(off))!;
    expect(next, `the Flink ${flink.toString(16)} − ${off.toString(16)} is a process of the truth`).toBeTruthy();
    await link.click();
    await expect.poll(() => header(page).innerText()).toContain(next.name);
    await expect.poll(() => fieldValue(page, 'ImageFileName').innerText()).toBe(JSON.stringify(next.name));
    await shot(page, spec, 'followed-flink');
    await page.getByRole('button', { name: /Back/ }).click();
    await expect.poll(() => header(page).innerText()).toContain('System');
    await page.keyboard.press('Alt+ArrowRight');
    await expect.poll(() => header(page).innerText()).toContain(next.name);
    await page.keyboard.press('Alt+ArrowLeft');
    await expect.poll(() => header(page).innerText()).toContain('System');
  });

  it('a DKOM-hidden process: its self-pointing ActiveProcessLinks are called out in words', async () => {
    const { page } = b;
    const hidden = s.truth.processes.find((p) => p.planted.includes('dkom-unlinked'))!;
    await goTo(page, `pid ${hidden.pid}`);
    await expect.poll(() => header(page).innerText()).toContain(hidden.name);
    const callout = page.locator('.dkom-callout');
    await expect.poll(() => callout.innerText()).toMatch(/Hidden process\..*points to this _EPROCESS itself.*unlinked from the active process list/);
    await shot(page, spec, 'dkom-hidden');
  });

  it('an unreadable page shows ?? with its reason on hover', async () => {
    const { page } = b;
    const pte = (s.truth.kernelSoftwarePtes ?? []).find((p) => p.kind === 'pagefile' || p.kind === 'demand-zero')!;
    expect(pte).toBeTruthy();
    await goTo(page, pte.va);
    const cell = page.locator('.hex-bytes .hb.unreadable').first();
    await cell.waitFor();
    // a run of unreadable bytes is one text run: "?? ?? …"
    expect((await cell.innerText()).trim()).toMatch(/^\?\?( \?\?)*$/);
    const why = pte.kind === 'pagefile' ? /paged-out: page file PTE/ : /not-present: demand-zero/;
    expect(await cell.getAttribute('title')).toMatch(why);
    // and said in words under the bytes, not only on hover
    expect(await page.getByRole('note').innerText()).toMatch(why);
    await shot(page, spec, 'unreadable');
  });

  it('the details panel: parent named beside PPID, absent values with a reason, WinDbg forms to copy, Hex view button', async () => {
    const { page } = b;
    await page.getByRole('tab', { name: 'Processes' }).click();
    const lock = s.truth.processes.find((p) => p.name === 'LockApp.exe')!;
    const parent = s.truth.processes.find((p) => p.pid === lock.ppid && p.foundBy.pslist);
    await page.locator(`.grid-body [role="row"][data-key="${rowKey(lock)}"]`).click();
    const details = page.getByRole('complementary', { name: 'Process details' });
    const text = await details.innerText();
    expect(text).toContain(parent ? `${lock.ppid} (${parent.name})` : `${lock.ppid} (parent not among`);
    expect(await details.getByRole('button', { name: `Copy WinDbg dt dt nt!_EPROCESS ${lock.offset}` }).count()).toBe(1);
    expect(await details.getByRole('button', { name: `Copy WinDbg !process !process ${lock.offset} 1` }).count()).toBe(1);
    // the engine does not report these yet (or could not read them): a reason, never a blank
    expect(await details.locator('.absent').count()).toBeGreaterThan(0);
    for (const t of await details.locator('.absent').allInnerTexts()) expect(t.trim().length).toBeGreaterThan(8);
    await shot(page, spec, 'details');
    await details.getByRole('button', { name: 'Hex view' }).click();
    await expect.poll(() => header(page).innerText()).toContain('LockApp.exe');
    expect(await header(page).innerText()).toContain(lock.dtb);
  });

  it('Go to nt!PsActiveProcessHead (and the bare name) lands on the list head; a bad address says why', async () => {
    const { page } = b;
    const head = s.truth.symbols['PsActiveProcessHead']!;
    for (const text of ['nt!PsActiveProcessHead', 'PsActiveProcessHead']) {
      await goTo(page, text);
      await expect.poll(() => header(page).innerText()).toContain('nt!PsActiveProcessHead');
      expect(await header(page).innerText()).toContain(head);
    }
    await expect.poll(() => fieldValue(page, 'Flink').innerText()).toMatch(/^0xffff/);
    await shot(page, spec, 'ps-active-process-head');
    // the head's Flink lands on the first process of the active list (System), typed _EPROCESS
    await page.getByRole('button', { name: /^Flink → / }).click();
    await expect.poll(() => fieldValue(page, 'ImageFileName').innerText()).toBe('"System"');
    await page.keyboard.press('Alt+ArrowLeft');
    await expect.poll(() => header(page).innerText()).toContain('nt!PsActiveProcessHead');
    await goTo(page, '0x0000800000000000');
    await expect.poll(() => page.locator('.hex-message').innerText()).toMatch(/non-canonical/);
    await goTo(page, 'nt!NoSuchSymbol');
    await expect.poll(() => page.locator('.hex-message').innerText()).toMatch(/has no symbol NoSuchSymbol/);
    // WinDbg's backtick form
    const [hi, lo] = [head.slice(2, 10), head.slice(10)];
    await goTo(page, `${hi}\`${lo}`);
    await expect.poll(() => header(page).innerText()).toContain(head);
  });

  it('Virtual → Physical for a kernel address (no process) translates through the kernel DTB: the same bytes; an unmapped one says so and stays', async () => {
    const { page } = b;
    const head = s.truth.symbols['PsActiveProcessHead']!;
    await page.getByRole('tab', { name: 'Hex view' }).click();
    // from physical memory, a symbol opens in the kernel's own space
    await goTo(page, 'nt!PsActiveProcessHead');
    await expect.poll(() => header(page).innerText()).toContain(head);
    await page.getByRole('radio', { name: 'Physical' }).click();
    await expect.poll(() => header(page).innerText()).toContain('physical memory');
    await goTo(page, 'nt!PsActiveProcessHead');
    await expect.poll(() => header(page).innerText()).toContain('kernel virtual memory');
    const firstRowBytes = () => page.locator('.hex-grid .hex-row').first().locator('.hex-bytes').innerText();
    await expect.poll(firstRowBytes).not.toMatch(/·/);
    const virtualBytes = await firstRowBytes();
    await page.getByRole('radio', { name: 'Physical' }).click();
    await expect.poll(() => header(page).innerText()).toContain('physical memory');
    const pa = /(0x[0-9a-f]+)$/.exec((await header(page).locator('span.mono').first().innerText()).trim())![1]!;
    expect(BigInt(pa) & 0xfffn).toBe(BigInt(head) & 0xfffn);
    expect(BigInt(pa)).not.toBe(0n);
    await expect.poll(firstRowBytes).not.toMatch(/·/);
    expect(await firstRowBytes()).toBe(virtualBytes);
    await shot(page, spec, 'kernel-va-to-physical');
    // a pointer read in physical memory is a virtual address: it is followed in the kernel's space
    const flink = (await page.getByRole('button', { name: /^Flink → / }).innerText()).trim();
    await page.getByRole('button', { name: /^Flink → / }).click();
    await expect.poll(() => header(page).innerText()).toContain(`_LIST_ENTRY at ${flink}`);
    expect(await header(page).innerText()).toContain('kernel virtual memory');
    // an address no page of the kernel's space maps: the view says so and stays virtual
    await goTo(page, 'nt!PsActiveProcessHead');
    await goTo(page, '0x10000000');
    await expect.poll(() => header(page).innerText()).toContain('0x10000000');
    await page.getByRole('radio', { name: 'Physical' }).click();
    await expect.poll(() => page.locator('.hex-message').innerText()).toMatch(/0x10000000 is not mapped to physical memory through DTB 0x[0-9a-f]+ \(not-present: .+\); staying in kernel virtual memory/);
    expect(await page.getByRole('radio', { name: 'Virtual' }).isChecked()).toBe(true);
    expect(await header(page).innerText()).toContain('kernel virtual memory');
  });

  it('mapped ranges: a stretch with no page in memory is called out as such, N jumps to the next mapped range, P back; the scrollbar marks them', async () => {
    const { page } = b;
    // in the kernel's space (the previous test left the view at 0x10000000 there)
    await expect.poll(() => page.locator('.hex-gap').innerText()).toMatch(/Not in memory: no page of kernel virtual memory is mapped to RAM from the start to 0x[0-9a-f]+/);
    expect(await page.locator('.hex-track .hex-mark').count()).toBeGreaterThan(0);
    const next = /to (0x[0-9a-f]+)/.exec(await page.locator('.hex-gap').innerText())![1]!;
    await page.locator('.hex-grid').focus();
    await page.keyboard.press('n');
    await expect.poll(() => header(page).innerText()).toContain(`mapped range ${next}`);
    await expect.poll(() => page.locator('.hex-gap').count()).toBe(0);
    // the first row of a mapped range reads (or says why not, page by page): never the gap's note
    await expect.poll(() => page.locator('.hex-grid .hex-row').first().locator('.hex-bytes').innerText()).not.toMatch(/·/);
    await shot(page, spec, 'mapped-range');
    await page.keyboard.press('n');
    await expect.poll(() => header(page).innerText()).not.toContain(`mapped range ${next}`);
    expect(await header(page).innerText()).toMatch(/mapped range 0x/);
    await page.keyboard.press('p');
    await expect.poll(() => header(page).innerText()).toContain(`mapped range ${next}`);
  });
});
