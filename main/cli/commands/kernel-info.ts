/**
 * What `memscope info` adds once kernel discovery ran: the KernelInfoJson fields on success, or
 * `discoveryError` (one line naming every method tried) when no kernel could be accepted — info
 * still shows the image's format and runs, so it stays useful on a non-Windows image.
 */
import { openSession } from '../../engine/session/session.js';
import type { SourceRef } from '../../engine/sources/source-ref.js';
import { DiscoveryError } from '../../engine/windows/discovery/discover.js';
import { kernelInfoJson, type KernelInfoJson } from '../../engine/windows/discovery/report-json.js';
import type { HeuristicResult } from '../../engine/windows/heuristic-profile/index.js';

/** How far to trust a profile derived from memory, and why (only when profileSource is "heuristic"). */
export interface HeuristicProfileJson {
  confidence: number;
  family: string | null;
  evidence: Record<string, string>;
}

/** `forceHeuristic` (--heuristic-profile): skip bundled/cache/symbol server, derive from memory. */
/** Capture and boot time as `info` shows them (the session header's `time`). */
export interface ImageTimeJson {
  captureTime: string | null;
  captureSource: string;
  bootTime: string | null;
  bootRule: string | null;
  timeCrossCheck: { source: string; time: string; agrees: boolean } | null;
  timeWarnings?: string[];
}

export async function kernelInfo(path: string | SourceRef, allowNetwork: boolean, forceHeuristic = false):
  Promise<Partial<KernelInfoJson> & Partial<ImageTimeJson> & { discoveryError?: string; heuristicProfile?: HeuristicProfileJson }> {
  let derived: HeuristicResult | null = null;
  try {
    const session = await openSession(path, { allowNetwork, heuristicOnly: forceHeuristic, onHeuristic: (r) => { derived = r; } });
    await session.close();
    const out: Partial<KernelInfoJson> & Partial<ImageTimeJson> & { heuristicProfile?: HeuristicProfileJson } = kernelInfoJson(session.report) ?? {};
    const t = session.info.time;
    if (t) {
      Object.assign(out, { captureTime: t.captureTime, captureSource: t.captureSource, bootTime: t.bootTime, bootRule: t.bootRule, timeCrossCheck: t.crossCheck });
      const tw = session.info.warnings.filter((w) => !session.report.warnings.includes(w));
      if (tw.length) out.timeWarnings = tw;
    }
    const d = derived as HeuristicResult | null;
    if (out.profileSource === 'heuristic' && d) out.heuristicProfile = { confidence: d.confidence, family: d.family, evidence: { ...d.evidence } };
    return out;
  } catch (e) {
    if (e instanceof DiscoveryError) return { discoveryError: e.message, timings: e.report.timings };
    throw e;
  }
}
