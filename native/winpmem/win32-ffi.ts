/**
 * Lazy koffi loading for the Win32 bindings. koffi is required only when a Windows binding is first
 * used, and only on win32, so importing any native/winpmem module works on every OS (the tests,
 * the Linux CLI) and a missing koffi build surfaces as one clear error, not an import crash.
 * (koffi, not ffi-napi: ffi-napi does not load in current Electron.)
 */
import { createRequire } from 'node:module';
import type * as KoffiModule from 'koffi';
import { MemScopeError } from '../../main/engine/errors.js';

export type Koffi = typeof KoffiModule;
export type KoffiLibrary = ReturnType<Koffi['load']>;

let koffi: Koffi | undefined;

/** koffi itself; throws a MemScopeError off Windows or when koffi's Windows build is missing. */
export function loadKoffi(platform: string = process.platform): Koffi {
  if (platform !== 'win32') {
    throw new MemScopeError('usage', `live memory through WinPmem needs Windows (this is ${platform}); analyse a saved image instead`);
  }
  if (!koffi) {
    try {
      koffi = createRequire(import.meta.url)('koffi') as Koffi;
    } catch (e) {
      throw new MemScopeError('io', `cannot load koffi (the FFI module MemScope uses for Win32 calls): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  return koffi;
}

/** A system DLL through koffi (kernel32.dll, advapi32.dll). */
export function loadDll(name: string): KoffiLibrary {
  const k = loadKoffi();
  try {
    return k.load(name);
  } catch (e) {
    throw new MemScopeError('io', `cannot load ${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
