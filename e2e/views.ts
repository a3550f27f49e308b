/** What the memory-view specs share: a sample opened through the bridge at 1280×720, its scan finished. */
import { afterAll, beforeAll } from 'vitest';
import { bridgeDriver } from './bridge-driver.js';
import { bodyRows, waitForScanEnd } from './flows.js';
import { browse, sample, serve, type Browsing, type Sample, type SampleFormat, type Served } from './harness.js';

export interface Opened { readonly s: Sample; readonly server: Served; readonly b: Browsing; close(): Promise<void> }

export async function openAtLaptopSize(build: number, format: SampleFormat, sizeMiB = 256): Promise<Opened> {
  const s = sample(build, format, sizeMiB);
  const server = await serve();
  const b = await browse(server.url);
  await b.page.setViewportSize({ width: 1280, height: 720 });
  await bridgeDriver(b.page, b.events).open(s.path);
  await bodyRows(b.page).first().waitFor({ timeout: 60_000 });
  await waitForScanEnd(b.page);
  return { s, server, b, close: async () => { await b.close(); await server.close(); } };
}

/** Open the sample before a spec's tests (handing it to `got`) and close it after them. */
export function openForSpec(build: number, format: SampleFormat, got: (o: Opened) => void): void {
  let o: Opened | undefined;
  beforeAll(async () => { o = await openAtLaptopSize(build, format); got(o); });
  afterAll(async () => { await o?.close(); });
}
