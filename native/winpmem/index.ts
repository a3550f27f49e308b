/**
 * Live memory through WinPmem, in one call: (optionally) load the driver, open `\\.\pmem`, and
 * serve it as a PhysicalSource. Closing the source closes the handle and, if we loaded the driver,
 * stops and deletes its service. Windows only (koffi is loaded on first use); the pieces are
 * exported for tests and for callers that manage the driver themselves.
 */
import type { PhysicalSource } from '../../main/engine/sources/physical-source.js';
import { type PmemDevice, WinPmemSource, type WinPmemOptions } from './device.js';
import { type LoadedDriver, loadDriver } from './driver.js';
import { PMEM_DEVICE_PATH } from './protocol.js';
import { Win32PmemDevice } from './win32-device.js';

export { HOLE_REASON, hintsFromInfo, WinPmemSource, type AbsentWithReason, type PmemDevice, type WinPmemOptions } from './device.js';
export { checkDriverPath, loadDriver, type LoadedDriver } from './driver.js';
export * from './protocol.js';
export { SimulatedPmemDevice, type SimulatedPmemOptions } from './simulated-device.js';
export { Win32PmemDevice } from './win32-device.js';
export { Win32Error, win32Reason } from './win32-errors.js';

export interface LiveOptions extends WinPmemOptions {
  /** Path of winpmem_x64.sys to load first; omit when the driver is already loaded. */
  readonly driverPath?: string;
  readonly devicePath?: string;
  /** Called with warnings from unloading the driver at close. */
  readonly onWarning?: (message: string) => void;
}

/** Open live physical memory (run as administrator). */
export function openLiveWinPmem(opts: LiveOptions = {}): WinPmemSource & PhysicalSource {
  const driver: LoadedDriver | null = opts.driverPath ? loadDriver(opts.driverPath) : null;
  const unload = () => { for (const w of driver?.unload() ?? []) opts.onWarning?.(w); };
  let handle: Win32PmemDevice;
  try {
    handle = Win32PmemDevice.open(opts.devicePath ?? PMEM_DEVICE_PATH);
  } catch (e) {
    unload();
    throw e;
  }
  const device: PmemDevice = {
    name: handle.name,
    ioctl: (code, input, outLength) => handle.ioctl(code, input, outLength),
    readAt: (pa, length) => handle.readAt(pa, length),
    close: () => { try { handle.close(); } finally { unload(); } },
  };
  return WinPmemSource.open(device, opts); // closes the device (and unloads) on failure
}
