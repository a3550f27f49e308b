/**
 * The renderer's only door to the app: `window.memscope`, exactly the contract's methods (each one
 * `ipcRenderer.invoke` on its channel, answered with an envelope) plus `onEvent` for run events. Raw
 * `ipcRenderer` never crosses contextBridge, and neither does the IPC event (it carries the sender).
 * Bundled into one CommonJS file (scripts/build-preload.mjs): a sandboxed preload has no module loader
 * beyond `require('electron')`.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { channelOf, EVENT_CHANNEL, METHODS, type MemScopeApi, type RunEvent } from '../common/contract.js';

function buildApi(): MemScopeApi {
  const methods = Object.fromEntries(METHODS.map((m) => [m, (args: unknown) => ipcRenderer.invoke(channelOf(m), args)]));
  const onEvent = (listener: (event: RunEvent) => void): (() => void) => {
    const forward = (_event: IpcRendererEvent, runEvent: RunEvent): void => listener(runEvent);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  };
  return { ...methods, onEvent } as MemScopeApi; // keys are METHODS by construction
}

contextBridge.exposeInMainWorld('memscope', buildApi());
