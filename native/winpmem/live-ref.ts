/**
 * Opens the live kinds of a SourceRef (main/engine/sources/source-ref.ts): the WinPmem device on
 * Windows, or the simulated driver serving an image. Importing this module registers the opener
 * (scan workers import it by URL before opening their own view of the device).
 *
 * The simulated machine: the image's bytes, and for GET_INFO what the driver would read from the
 * running kernel (CR3 in System context, kernel base, NtBuildNumber, MmGetPhysicalMemoryRanges).
 * A sample image's `<image>.truth.json` records exactly those for the machine it describes; a crash
 * dump or ELF core carries CR3 (and a dump the kernel base) in its header; a bare raw image has
 * neither, so GET_INFO reports CR3 0 and discovery has to find the kernel itself, as it says.
 */
import { existsSync, readFileSync } from 'node:fs';
import { MemScopeError } from '../../main/engine/errors.js';
import type { PhysicalRun, PhysicalSource } from '../../main/engine/sources/physical-source.js';
import { registerLiveOpener, type LiveSourceRef } from '../../main/engine/sources/source-ref.js';
import { WinPmemSource } from './device.js';
import { SimulatedPmemDevice, type SimulatedPmemOptions } from './simulated-device.js';
import { pinReaderThread, raiseReaderThreadPriority, Win32PmemDevice } from './win32-device.js';

interface MachineTruth {
  readonly runs?: readonly { readonly start: string; readonly length: string }[];
  readonly dtb?: string;
  readonly kernelBase?: string;
  readonly buildNumber?: number;
}

/** GET_INFO fields of the machine an image was taken from, when its truth file records them. */
export function simulatedMachine(image: string): SimulatedPmemOptions {
  const path = `${image}.truth.json`;
  if (!existsSync(path)) return {};
  let t: MachineTruth;
  try {
    t = JSON.parse(readFileSync(path, 'utf8')) as MachineTruth;
  } catch (e) {
    throw new MemScopeError('format', `${path}: not readable as the image's truth JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const big = (v: string | undefined): bigint | undefined => (typeof v === 'string' && /^(0x)?[0-9a-f]+$/i.test(v) ? BigInt(v) : undefined);
  const runs: PhysicalRun[] | undefined = Array.isArray(t.runs) ? t.runs.map((r) => ({ start: Number(r.start), length: Number(r.length) })) : undefined;
  const cr3 = big(t.dtb);
  const kernBase = big(t.kernelBase);
  return {
    ...(runs ? { runs } : {}),
    ...(cr3 !== undefined ? { cr3 } : {}),
    ...(kernBase !== undefined ? { kernBase } : {}),
    ...(typeof t.buildNumber === 'number' ? { ntBuildNumber: BigInt(t.buildNumber & 0xffff) } : {}),
  };
}

export function openLiveRef(ref: LiveSourceRef): WinPmemSource & PhysicalSource {
  if (ref.kind === 'simulated') {
    const dev = SimulatedPmemDevice.open(ref.image, { ...simulatedMachine(ref.image), ...(ref.driver ? { driver: ref.driver } : {}), ...(ref.unreadablePages ? { unreadablePages: ref.unreadablePages } : {}) });
    return WinPmemSource.open(dev, { mode: ref.mode ?? 'auto' });
  }
  pinReaderThread(0); // every thread that reads \\.\pmem stays on one CPU (2.0.1 PTE mode: WINPMEM-NOTES §3)
  raiseReaderThreadPriority(); // the workers it wakes must not take its CPU (scan/feed.ts)
  const handle = Win32PmemDevice.open(ref.device);
  return WinPmemSource.open(handle, { mode: ref.mode, ...(ref.physicalFallback !== undefined ? { physicalFallback: ref.physicalFallback } : {}) });
}

registerLiveOpener({ module: import.meta.url, open: openLiveRef });
