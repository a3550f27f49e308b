/**
 * The one way the renderer reaches the engine: a `MemScopeApi` (common/contract.ts). Inside Electron the
 * preload exposes it as `window.memscope`; in a browser it is the bridge's WebSocket, authorised by the
 * per-run token the bridge printed in the page URL.
 */
import type { MemScopeApi } from '../../common/contract.js';
import { connectBridge } from './bridge.js';

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge); absent in a browser. */
    readonly memscope?: MemScopeApi;
  }
}

export type { MemScopeApi };

/** Electron's preload API when present, otherwise the bridge at the page's own origin. */
export function connect(): MemScopeApi {
  if (window.memscope) return window.memscope;
  return connectBridge(window.location);
}
