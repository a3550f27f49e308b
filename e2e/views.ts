/** What the memory-view specs share: a sample opened through the bridge at 1280×720, its scan finished. */
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
