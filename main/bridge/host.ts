/** What the contract service may do when the bridge hosts it: image-only, no native dialogs, never live. */
import type { Capabilities } from '../../common/contract.js';
import type { ServiceHost } from '../service/types.js';

export const BRIDGE_LIVE_REASON = 'Live memory needs MemScope running on Windows as administrator (WinPmem driver)';

export function bridgeHost(opts: { initialImage: string | null; sampleImage: string | null }): ServiceHost {
  const caps: Capabilities = {
    host: 'bridge',
    nativeDialogs: false,
    live: { available: false, reason: BRIDGE_LIVE_REASON },
    initialImage: opts.initialImage,
    sampleImage: opts.sampleImage,
  };
  return { capabilities: () => caps };
}
