/**
 * What `memscope info` adds once kernel discovery ran: the KernelInfoJson fields on success, or
 * `discoveryError` (one line naming every method tried) when no kernel could be accepted — info
 * still shows the image's format and runs, so it stays useful on a non-Windows image.
 */
import type { PhysicalSource } from '../../sources/physical-source.js';
import { DiscoveryError, discoverKernel } from '../../windows/discovery/discover.js';
import { defaultProfileProviders } from '../../windows/discovery/providers.js';
import { kernelInfoJson, type KernelInfoJson } from '../../windows/discovery/report-json.js';

export async function kernelInfo(source: PhysicalSource, path: string, allowNetwork: boolean): Promise<Partial<KernelInfoJson> & { discoveryError?: string }> {
  try {
    const { report } = await discoverKernel(source, { store: defaultProfileProviders(), allowNetwork, sourcePath: path });
    return kernelInfoJson(report) ?? {};
  } catch (e) {
    if (e instanceof DiscoveryError) return { discoveryError: e.message, timings: e.report.timings };
    throw e;
  }
}
