/** What the contract service may do when the bridge hosts it: image-only, no native dialogs, never live. */
import type { Capabilities } from '../../common/contract.js';
import type { ServiceHost } from '../service/types.js';

export const BRIDGE_LIVE_REASON = 'Live memory needs MemScope running on Windows as administrator (WinPmem driver)';

/** Live memory in the bridge: only the simulated WinPmem device (`memscope serve` with MEMSCOPE_SIMULATED_PMEM). */
export type BridgeLive = Required<Pick<ServiceHost, 'liveRef' | 'livePreflight' | 'acquire'>> & { readonly reason: string };

export function bridgeHost(opts: { initialImage: string | null; sampleImage: string | null; live?: BridgeLive }): ServiceHost {
  const caps: Capabilities = {
    host: 'bridge',
    nativeDialogs: false,
    live: opts.live ? { available: true, reason: opts.live.reason } : { available: false, reason: BRIDGE_LIVE_REASON },
    initialImage: opts.initialImage,
    sampleImage: opts.sampleImage,
  };
  // Export evidence…: the user types the folder on this host (a browser has no folder dialog here)
  if (!opts.live) return { capabilities: () => caps, namedEvidenceFolder: true };
  return { capabilities: () => caps, namedEvidenceFolder: true, liveRef: opts.live.liveRef, livePreflight: opts.live.livePreflight, acquire: opts.live.acquire };
}
