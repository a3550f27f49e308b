/**
 * What the contract service may do when it runs in Electron's engine host. Dialogs are main's (a
 * utility process has none), so the host side has no pickImage. Live memory: on Windows the WinPmem
 * source (needs the driver loaded, or MEMSCOPE_WINPMEM_DRIVER naming winpmem_x64.sys, and an
 * administrator); elsewhere there is no physical memory device to read, and the service answers
 * `unsupported` with LIVE_UNSUPPORTED.
 */
import { ContractError, type Capabilities } from '../../common/contract.js';
import type { ServiceHost } from '../service/types.js';

/** How main hands the host an image named on the command line. */
export const INITIAL_IMAGE_FLAG = '--initial-image';

/** The image named on Electron's command line: after `electron .` in development, after the exe when packaged; flags skipped. */
export function initialImageFrom(argv: readonly string[], defaultApp: boolean): string | null {
  return argv.slice(defaultApp ? 2 : 1).find((a) => !a.startsWith('-')) ?? null;
}

export const LIVE_UNSUPPORTED = 'Live memory needs MemScope running on Windows as administrator (WinPmem driver)';

export interface ElectronHostOptions {
  readonly platform?: NodeJS.Platform;
  /** An image named on the command line (`electron . image.raw`), opened by the renderer at start. */
  readonly initialImage?: string | null;
}

export function electronServiceHost(opts: ElectronHostOptions = {}): ServiceHost {
  const platform = opts.platform ?? process.platform;
  const windows = platform === 'win32';
  const capabilities = (): Capabilities => ({
    host: 'electron',
    nativeDialogs: true,
    live: windows
      ? { available: true, reason: 'Reads physical memory through the WinPmem driver; MemScope must run as administrator' }
      : { available: false, reason: LIVE_UNSUPPORTED },
    initialImage: opts.initialImage ?? null,
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
