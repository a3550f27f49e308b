/**
 * What the contract service may do when it runs in Electron's engine host. Dialogs are main's (a
 * utility process has none), so the host side has no pickImage. Live memory: on Windows the WinPmem
 * source (needs the driver loaded, or MEMSCOPE_WINPMEM_DRIVER naming winpmem_x64.sys, and an
 * administrator); elsewhere there is no physical memory device to read, and the service answers
 * `unsupported` with LIVE_UNSUPPORTED.
 */
import { ContractError, type Capabilities } from '../../common/contract.js';
import type { ServiceHost } from '../service/types.js';
import { toolVersion } from '../engine/util/tool-version.js';
import { simulatedLiveHost, windowsLiveHost, type LiveHostParts } from '../../native/winpmem/live-host.js';
import { guardRelease } from './live-driver.js';

/** How main hands the host MEMSCOPE_SIMULATED_PMEM (only when the app is not packaged: main checks app.isPackaged). */
export const SIMULATED_PMEM_FLAG = '--simulated-pmem';

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
  /** The simulated WinPmem device's image (never set in a packaged build). */
  readonly simulatedPmem?: string | null;
}

export function electronServiceHost(opts: ElectronHostOptions = {}): ServiceHost {
  const platform = opts.platform ?? process.platform;
  const windows = platform === 'win32';
  // Live memory: the simulated device when main passed one (development and tests), else the real
  // driver on Windows (MEMSCOPE_WINPMEM_DRIVER names winpmem_x64.sys to load; unloaded on every exit).
  const parts: LiveHostParts | null = opts.simulatedPmem
    ? simulatedLiveHost(opts.simulatedPmem, toolVersion())
    : windows
      ? windowsLiveHost(process.env['MEMSCOPE_WINPMEM_DRIVER'] ?? null, toolVersion(), undefined,
        (release) => guardRelease(release, process, (w) => process.stderr.write(`memscope: ${w}\n`)))
      : null;
  const capabilities = (): Capabilities => ({
    host: 'electron',
    nativeDialogs: true,
    live: parts ? { available: true, reason: parts.reason } : { available: false, reason: LIVE_UNSUPPORTED },
    initialImage: opts.initialImage ?? null,
    sampleImage: null,
  });
  // exportEvidence's `out`: main (ipc.ts) lets through only a folder its dialog returned
  if (!parts) return { capabilities, namedEvidenceFolder: true };
  return {
    capabilities,
    namedEvidenceFolder: true,
    livePreflight: () => parts.livePreflight(),
    acquire: parts.acquire,
    liveRef: async () => {
      try {
        return await parts.liveRef();
      } catch (e) {
        // not administrator, no driver loaded, no \\.\pmem: the one sentence, with what Windows said
        throw new ContractError('unsupported', `${LIVE_UNSUPPORTED}: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  };
}
