/**
 * What a contract host (the Electron engine host, `memscope serve`) needs for live memory: the
 * pre-flight lines, the SourceRef the session opens (loading the driver first, once), acquisition's
 * tool facts, and release() to unload the driver. Two flavours: the simulated device serving an
 * image (MEMSCOPE_SIMULATED_PMEM; tests, demos; never in a packaged build) and the real WinPmem
 * driver on Windows.
 */
import type { LivePreflight } from '../../common/contract.js';
import { MemScopeError } from '../../main/engine/errors.js';
import type { SourceRef } from '../../main/engine/sources/source-ref.js';
import { acquireDriver, type LifecycleDeps, type OwnedDriver } from './lifecycle.js';
import type { PhysicalSource } from '../../main/engine/sources/physical-source.js';
import { openLiveRef } from './live-ref.js';
import { driverFileFacts, loadPreflightApi, physicalFallbackAllowed, preflightChecks, type PreflightApi } from './preflight.js';
import { PMEM_DEVICE_PATH } from './protocol.js';

export interface LiveHostParts {
  /** Capabilities' live reason (what Live memory will read). */
  readonly reason: string;
  liveRef(): Promise<SourceRef>;
  livePreflight(): Promise<LivePreflight>;
  readonly acquire: { readonly tool: { readonly name: string; readonly version: string }; readonly driverSha256: () => string | null };
  /** Unload the driver we loaded (idempotent); warnings. */
  release(): string[];
}

const verdict = (simulated: boolean, checks: LivePreflight['checks']): LivePreflight => ({ simulated, checks, canStart: checks.every((c) => c.status !== 'fail') });

/** The simulated WinPmem device serving `image`. */
export function simulatedLiveHost(image: string, version: string): LiveHostParts {
  const ref: SourceRef = { kind: 'simulated', image };
  return {
    reason: `Simulated WinPmem device serving ${image} (MEMSCOPE_SIMULATED_PMEM)`,
    liveRef: async () => ref,
    livePreflight: async () => {
      let memory: { bytes: number; runs: number } | null = null;
      try {
        const src = openLiveRef(ref); // the simulated driver answers GET_INFO at once
        const runs = src.runs();
        memory = { bytes: runs.reduce((n, r) => n + r.length, 0), runs: runs.length };
        src.close();
      } catch (e) {
        return verdict(true, [...preflightChecks({ platform: process.platform, api: null, driverPath: null, simulatedImage: image }).filter((c) => c.id !== 'memory'),
          { id: 'memory', status: 'fail', label: 'Physical memory', detail: e instanceof Error ? e.message : String(e) }]);
      }
      return verdict(true, preflightChecks({ platform: process.platform, api: null, driverPath: null, simulatedImage: image, memory }));
    },
    acquire: { tool: { name: 'MemScope', version }, driverSha256: () => null },
    release: () => [],
  };
}

/** What windowsLiveHost uses of the machine; tests hand a fake service manager, a temp directory and the simulated device. */
export interface WindowsLiveDeps {
  /** The driver's lifecycle (service manager, private directory, pid); default the real ones. */
  readonly lifecycle?: Partial<LifecycleDeps>;
  /** Open the device a winpmem reference names; default openLiveRef (\\.\pmem). */
  readonly openDevice?: (ref: Extract<SourceRef, { kind: 'winpmem' }>) => PhysicalSource;
}

/** The real driver on Windows: `driverPath` is loaded (private copy, service winpmem) at the first Start. */
export function windowsLiveHost(
  driverPath: string | null, version: string, api: () => PreflightApi = loadPreflightApi, onDriverLoaded?: (release: () => string[]) => void, deps: WindowsLiveDeps = {},
): LiveHostParts {
  let driver: OwnedDriver | null = null;
  let memory: { bytes: number; runs: number } | null = null;
  const release = (): string[] => {
    const d = driver;
    driver = null;
    return d?.release() ?? [];
  };
  const ref = (): SourceRef => ({ kind: 'winpmem', device: PMEM_DEVICE_PATH, mode: 'auto', physicalFallback: physicalFallbackAllowed(api()) });
  return {
    reason: 'Reads physical memory through the WinPmem driver; MemScope must run as administrator',
    liveRef: async () => {
      const a = api();
      if (!a.isElevated()) throw new MemScopeError('io', 'live analysis needs Windows and administrator rights (WinPmem driver): MemScope is not running as administrator');
      if (driverPath && !driver) {
        driver = acquireDriver(driverPath, deps.lifecycle);
        onDriverLoaded?.(release); // the host hooks every way out of the process to it
      }
      const r = ref();
      const probe = (deps.openDevice ?? openLiveRef)(r as Extract<SourceRef, { kind: 'winpmem' }>); // the driver answers: memory size and runs for the pre-flight panel
      const runs = probe.runs();
      memory = { bytes: runs.reduce((n, x) => n + x.length, 0), runs: runs.length };
      probe.close();
      return r;
    },
    livePreflight: async () => verdict(false, preflightChecks({ platform: process.platform, api: safeApi(api), driverPath, memory })),
    acquire: { tool: { name: 'MemScope', version }, driverSha256: () => (driverPath ? safeSha(driverPath) : null) },
    release,
  };
}

function safeApi(api: () => PreflightApi): PreflightApi | null {
  try {
    return api();
  } catch {
    return null;
  }
}

function safeSha(path: string): string | null {
  try {
    return driverFileFacts(path).sha256;
  } catch {
    return null;
  }
}
