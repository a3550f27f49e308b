/**
 * Where a live evidence bundle's bytes came from: the host, the device (the WinPmem driver or the
 * simulated one), the driver file, and what the driver's GET_INFO reported (physical memory size and
 * runs, CR3, kernel base, NtBuildNumber). There is no image to hash: live memory changes while it is
 * read, so the manifest says so instead of naming a SHA-256 that no file would reproduce.
 */
import { hostname } from 'node:os';
import type { PhysicalSource } from '../sources/physical-source.js';
import type { LiveSourceRef } from '../sources/source-ref.js';
import { hex } from '../util/hex.js';

export const LIVE_SHA256_FROM = 'none: live memory changes while it is read (no image exists to hash; every file of the bundle is hashed)';

/** The driver file that was loaded for this run, when known. */
export interface DriverFile {
  readonly path: string | null;
  readonly sha256: string | null;
}

export interface LiveProvenance {
  readonly host: string;
  /** `\\.\pmem`, or the simulated device. */
  readonly device: string;
  /** The simulated WinPmem device (MEMSCOPE_SIMULATED_PMEM) served an image: not this machine's memory. */
  readonly simulated: boolean;
  /** The image the simulated device served (null for the real driver). */
  readonly simulatedImage: string | null;
  readonly driver: DriverFile | null;
  /** The acquisition mode in force (pte | physical); null when the driver kept a mode set before us. */
  readonly mode: string | null;
  /** What the driver's GET_INFO reported. */
  readonly getInfo: {
    /** Bytes in the runs (what the pre-flight calls physical memory). */
    readonly physicalMemorySize: number;
    /** Highest physical address served + 1. */
    readonly addressSpaceEnd: number;
    readonly runs: readonly { readonly start: string; readonly length: string }[];
    readonly build: number | null;
    readonly cr3: string | null;
    readonly kernelBase: string | null;
  };
  readonly notes: readonly string[];
  /** Pages the device could not serve while the bundle was made (zero-filled). */
  readonly unreadablePages: number;
}

/** The live facts the WinPmem source carries beyond PhysicalSource (native/winpmem/device.ts). */
type LiveSourceFacts = PhysicalSource & { readonly mode?: string | null; readonly notes?: readonly string[]; readFailures?(): { pages: number } };

export function liveProvenance(ref: LiveSourceRef, source: PhysicalSource, driver: DriverFile | null): LiveProvenance {
  const live = source as LiveSourceFacts;
  const h = source.hints;
  const runs = source.runs();
  return {
    host: hostname(),
    device: source.name,
    simulated: ref.kind === 'simulated',
    simulatedImage: ref.kind === 'simulated' ? ref.image : null,
    driver,
    mode: live.mode ?? null,
    getInfo: {
      physicalMemorySize: runs.reduce((n, r) => n + r.length, 0),
      addressSpaceEnd: source.size,
      runs: runs.map((r) => ({ start: hex(r.start), length: hex(r.length) })),
      build: h.buildNumber ?? null,
      cr3: h.dtb !== undefined ? hex(h.dtb) : null,
      kernelBase: h.kernelBase !== undefined ? hex(h.kernelBase) : null,
    },
    notes: [...(live.notes ?? [])],
    unreadablePages: live.readFailures?.().pages ?? 0,
  };
}
