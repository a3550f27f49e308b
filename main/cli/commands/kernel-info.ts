/**
 * What `memscope info` adds once kernel discovery ran: the KernelInfoJson fields on success, or
 * `discoveryError` (one line naming every method tried) when no kernel could be accepted — info
 * still shows the image's format and runs, so it stays useful on a non-Windows image.
 */
import type { PhysicalSource } from '../../engine/sources/physical-source.js';
import { DiscoveryError, discoverKernel } from '../../engine/windows/discovery/discover.js';
import { kernelInfoJson, type KernelInfoJson } from '../../engine/windows/discovery/report-json.js';
import type { HeuristicResult } from '../../engine/windows/heuristic-profile/index.js';
import { profileProviders } from '../../engine/session/profile-providers.js';

/** How far to trust a profile derived from memory, and why (only when profileSource is "heuristic"). */
export interface HeuristicProfileJson {
  confidence: number;
  family: string | null;
  evidence: Record<string, string>;
}

/** `forceHeuristic` (--heuristic-profile): skip bundled/cache/symbol server, derive from memory. */
export async function kernelInfo(source: PhysicalSource, path: string, allowNetwork: boolean, forceHeuristic = false):
  Promise<Partial<KernelInfoJson> & { discoveryError?: string; heuristicProfile?: HeuristicProfileJson }> {
  let derived: HeuristicResult | null = null;
  const store = profileProviders({ source, path, onResult: (r) => { derived = r; }, heuristicOnly: forceHeuristic });
  try {
    const { report } = await discoverKernel(source, { store, allowNetwork, sourcePath: path });
    const out: Partial<KernelInfoJson> & { heuristicProfile?: HeuristicProfileJson } = kernelInfoJson(report) ?? {};
    const d = derived as HeuristicResult | null;
    if (out.profileSource === 'heuristic' && d) out.heuristicProfile = { confidence: d.confidence, family: d.family, evidence: { ...d.evidence } };
    return out;
  } catch (e) {
    if (e instanceof DiscoveryError) return { discoveryError: e.message, timings: e.report.timings };
    throw e;
  }
}
