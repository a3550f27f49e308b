/**
 * The process screen through the bridge on three builds in three formats: rows stream in, hidden and
 * exited processes are labelled as the image's truth says, sort and filter work, and Export CSV / JSON
 * are the CLI's bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridgeDriver } from './bridge-driver.js';
import { exportMatchesCli, keyboard, labelsMatchTruth, openAndStream, sortAndFilter, type Driver } from './flows.js';
import { browse, cliBytes, sample, serve, shot, type Browsing, type Sample, type Served } from './harness.js';

// 1 GiB each: the pool scan takes long enough that the active-list rows visibly arrive first.
const IMAGES: readonly [number, 'raw' | 'elf' | 'crashdump'][] = [[19041, 'raw'], [17763, 'crashdump'], [22000, 'elf']];

describe.each(IMAGES)('process screen, build %i, %s image', (build, format) => {
  const spec = `processes-${build}-${format}`;
  let s: Sample;
  let server: Served;
  let b: Browsing;
  let d: Driver;

  beforeAll(async () => {
    s = sample(build, format, 1024);
    server = await serve();
    b = await browse(server.url);
    d = bridgeDriver(b.page, b.events);
    await b.page.getByRole('button', { name: 'Open image' }).waitFor();
    await shot(b.page, spec, 'empty');
  });
  afterAll(async () => {
    await b?.close();
    await server?.close();
  });

  it('shows the session header and streams rows before the scan ends', () => openAndStream(d, s, spec));
  it('labels hidden, exited and remnant processes as the truth says', () => labelsMatchTruth(d, s, spec));
  it('exports exactly what the CLI writes', () => exportMatchesCli(d, s, (f) => cliBytes(['psxview', s.path, '--format', f])));
  it('sorts and filters', () => sortAndFilter(d, s, spec));
  it('works from the keyboard (Ctrl+F, ↑/↓, Esc, Ctrl+E)', () => keyboard(d, () => cliBytes(['psxview', s.path, '--format', 'csv'])));
  it('builds the tree by parent', async () => {
    const { page } = b;
    await page.getByRole('checkbox', { name: 'Tree by parent' }).check();
    // The System process (PID 4) is a root; smss.exe sits under it.
    const smss = s.truth.processes.find((p) => p.name === 'smss.exe')!;
    const row = page.locator(`.grid-body [role="row"][data-key="${smss.offset}"]`);
    expect(await row.locator('.tree-mark').count()).toBe(1);
    expect(await page.locator('.row-count').innerText()).toBe(`${s.truth.processes.length} rows`);
    await shot(page, spec, 'tree');
    await page.getByRole('checkbox', { name: 'Tree by parent' }).uncheck();
  });
});
