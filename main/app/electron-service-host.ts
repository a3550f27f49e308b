/**
 * What the contract service may do when it runs in Electron's engine host. Dialogs are main's (a
 * utility process has none), so the host side has no pickImage. Live memory: on Windows the WinPmem
 * source (needs the driver loaded, or MEMSCOPE_WINPMEM_DRIVER naming winpmem_x64.sys, and an
 * administrator); elsewhere there is no physical memory device to read, and the service answers
 * `unsupported` with LIVE_UNSUPPORTED.
 */
import { ContractError, type Capabilities } from '../../common/contract.js';
import type { ServiceHost } from '../service/types.js';

export const LIVE_UNSUPPORTED = 'Live memory needs MemScope running on Windows as administrator (WinPmem driver)';

export function electronServiceHost(platform: NodeJS.Platform = process.platform): ServiceHost {
  const windows = platform === 'win32';
  const capabilities = (): Capabilities => ({
    host: 'electron',
    nativeDialogs: true,
    live: windows
      ? { available: true, reason: 'Reads physical memory through the WinPmem driver; MemScope must run as administrator' }
      : { available: false, reason: LIVE_UNSUPPORTED },
    initialImage: null,
    sampleImage: null,
  });
  if (!windows) return { capabilities };
  return {
    capabilities,
    openLive: async () => {
      const { openLiveWinPmem } = await import('../../native/winpmem/index.js'); // koffi loads on Windows only
      const driverPath = process.env['MEMSCOPE_WINPMEM_DRIVER'];
      try {
        return openLiveWinPmem(driverPath ? { driverPath } : {});
      } catch (e) {
        // not administrator, no driver loaded, no \\.\pmem: the one sentence, with what Windows said
        throw new ContractError('unsupported', `${LIVE_UNSUPPORTED}: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  };
}
