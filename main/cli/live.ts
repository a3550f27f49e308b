/**
 * `--live [--driver PATH]` for the analysis commands: the live machine's memory through WinPmem,
 * opened as a SourceRef through the same session as an image. Off Windows or not elevated the
 * command fails with one line (exit 1). `MEMSCOPE_SIMULATED_PMEM=<image>` makes the live source the
 * simulated WinPmem device serving that image (any OS; tests and demos) — the CLI honours it, a
 * packaged app does not (main/app checks app.isPackaged).
 */
import { MemScopeError, usageError } from '../engine/errors.js';
import { detectFormat } from '../engine/sources/detect.js';
import type { PhysicalSource } from '../engine/sources/physical-source.js';
import { describeRef, fileRef, openSourceRef, type SourceRef } from '../engine/sources/source-ref.js';
import '../../native/winpmem/live-ref.js'; // registers the live opener (koffi loads on Windows only, on first use)
import { acquireDriver, type OwnedDriver } from '../../native/winpmem/lifecycle.js';
import { loadPreflightApi, physicalFallbackAllowed } from '../../native/winpmem/preflight.js';
import { PMEM_DEVICE_PATH } from '../../native/winpmem/protocol.js';
import type { CliIo } from './context.js';

export const LIVE_NEEDS = 'live analysis needs Windows and administrator rights (WinPmem driver)';
export const SIMULATED_ENV = 'MEMSCOPE_SIMULATED_PMEM';

export interface LiveFlags {
  readonly live?: boolean;
  readonly driver?: string;
}

/** The simulated device's image, when the environment names one. */
export function simulatedImage(env: NodeJS.ProcessEnv = process.env): string | null {
  const v = env[SIMULATED_ENV];
  return v && v.trim() ? v : null;
}

export interface Target {
  /** What the session opens. */
  readonly ref: SourceRef;
  /** What to call it. */
  readonly path: string;
  readonly simulated: boolean;
  /** This run loaded the driver (and must unload it). */
  readonly ownsDriver: boolean;
  /** Unload a driver we loaded (idempotent); returns warnings. */
  release(): string[];
}

/** The one check every live entry shares: Windows and elevated, unless simulated. */
export function liveRef(flags: LiveFlags, platform: string = process.platform): { ref: SourceRef; driver: OwnedDriver | null; simulated: boolean } {
  const sim = simulatedImage();
  if (sim) {
    if (flags.driver) throw usageError(`--driver is not used with ${SIMULATED_ENV} (the simulated device needs no driver)`);
    detectFormat(sim); // a missing / unreadable image is named now, not inside the device
    return { ref: { kind: 'simulated', image: sim }, driver: null, simulated: true };
  }
  if (platform !== 'win32') throw new MemScopeError('io', LIVE_NEEDS);
  const api = loadPreflightApi();
  if (!api.isElevated()) throw new MemScopeError('io', `${LIVE_NEEDS}: MemScope is not running as administrator`);
  const driver = flags.driver ? acquireDriver(flags.driver) : null;
  return { ref: { kind: 'winpmem', device: PMEM_DEVICE_PATH, mode: 'auto', physicalFallback: physicalFallbackAllowed(api) }, driver, simulated: false };
}

/** Resolve `<image>` or `--live` to what the command opens; exactly one of them. */
export function resolveTarget(image: string | undefined, flags: LiveFlags): Target {
  if (flags.driver !== undefined && !flags.live) throw usageError('--driver applies only with --live');
  if (flags.live && image !== undefined) throw usageError(`give an image or --live, not both (got "${image}")`);
  if (!flags.live) {
    if (image === undefined) throw usageError("missing required argument 'image'");
    return { ref: fileRef(image), path: image, simulated: false, ownsDriver: false, release: () => [] };
  }
  const { ref, driver, simulated } = liveRef(flags);
  for (const n of driver?.notes ?? []) process.stderr.write(`memscope: ${n}\n`);
  return { ref, path: describeRef(ref), simulated, ownsDriver: driver?.owner === true, release: () => driver?.release() ?? [] };
}

/**
 * The CLI's target: the image path as given (image commands behave byte for byte as before), or the
 * live reference. A driver we loaded is unloaded when the process ends — normally, on an error, or on
 * Ctrl-C / SIGTERM.
 */
export function cliTarget(image: string | undefined, flags: LiveFlags, io: CliIo): string | SourceRef {
  const t = resolveTarget(image, flags);
  if (t.ref.kind === 'file') return t.path;
  if (!t.ownsDriver) return t.ref; // nothing to unload (the driver was loaded before us, or simulated)
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    for (const w of t.release()) io.err(`memscope: ${w}\n`);
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    release();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', release);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return t.ref;
}

export const targetName = (t: string | SourceRef): string => (typeof t === 'string' ? t : describeRef(t));

/** Open the target's source (an image as before, or the live device). */
export const openTarget = (t: string | SourceRef): PhysicalSource => openSourceRef(typeof t === 'string' ? fileRef(t) : t);

/** translate's `[image] <va...>`: with --live, commander put the first address in `image`. */
export function liveArgs(image: string | undefined, rest: string[], flags: LiveFlags): { image: string | undefined; rest: string[] } {
  return flags.live && image !== undefined ? { image: undefined, rest: [image, ...rest] } : { image, rest };
}

export const LIVE_OPTION = ['--live', 'analyse this machine\'s memory through the WinPmem driver (Windows, administrator)'] as const;
export const DRIVER_OPTION = ['--driver <path>', 'with --live: load this winpmem_x64.sys first (copied to a private directory; unloaded at exit)'] as const;
