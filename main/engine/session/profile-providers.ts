/**
 * The one wiring of profile providers for everything that analyses a kernel (CLI, app, bench):
 * bundled → user cache → symbol server (only when discovery is told the network is allowed) → a
 * heuristic profile derived from the image itself (when `heuristicFrom` names the open source and
 * its path), reported as such, never silently.
 */
import type { PhysicalSource } from '../sources/physical-source.js';
import type { PhysicalScanFn } from '../scan/scan-fn.js';
import type { ProfileProviders } from '../windows/discovery/profile-resolve.js';
import { defaultProfileProviders } from '../windows/discovery/providers.js';
import { heuristicProfileProvider, type HeuristicResult } from '../windows/heuristic-profile/index.js';

export interface HeuristicFrom {
  source: PhysicalSource;
  /** The session's scan function over that source. */
  scan: PhysicalScanFn;
  /** Told the derived profile when the heuristic serves (for its confidence and evidence). */
  onResult?: (r: HeuristicResult) => void;
  /** Skip bundled/cache/symbol server: derive from memory only (`info --heuristic-profile`). */
  heuristicOnly?: boolean;
}

export function profileProviders(heuristicFrom?: HeuristicFrom): ProfileProviders {
  if (!heuristicFrom) return defaultProfileProviders();
  const { source, scan, onResult, heuristicOnly } = heuristicFrom;
  const heuristic = heuristicProfileProvider(source, { scan, ...(onResult ? { onResult } : {}) });
  return heuristicOnly ? { heuristic } : defaultProfileProviders({ heuristic });
}
