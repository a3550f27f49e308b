/**
 * The contract over the bridge's WebSocket (`memscope serve`): one request frame per call, answered by
 * `{id, response}`; run events arrive as `{event}`. The socket opens lazily and a call made while it
 * connects waits for it; a closed socket fails pending and later calls with a typed `io` error instead
 * of hanging.
 */
import {
  BRIDGE_TOKEN_PARAM, BRIDGE_WS_PATH, METHODS,
  type ClientFrame, type Envelope, type MemScopeApi, type Method, type RunEvent, type ServerFrame,
} from '../../common/contract.js';
import { decodeFrame } from '../../common/frame-bytes.js';

interface Pending { readonly resolve: (e: Envelope<unknown>) => void }

export function bridgeSocketUrl(location: Pick<Location, 'host' | 'search' | 'protocol'>): string {
  const token = new URLSearchParams(location.search).get(BRIDGE_TOKEN_PARAM) ?? '';
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${BRIDGE_WS_PATH}?${BRIDGE_TOKEN_PARAM}=${encodeURIComponent(token)}`;
}

export function connectBridge(location: Pick<Location, 'host' | 'search' | 'protocol'>, WebSocketImpl: typeof WebSocket = WebSocket): MemScopeApi {
  const url = bridgeSocketUrl(location);
  const listeners = new Set<(e: RunEvent) => void>();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let opened: Promise<WebSocket> | null = null;
  let closedReason: string | null = null;

  const fail = (reason: string): void => {
    closedReason = reason;
    for (const p of pending.values()) p.resolve({ ok: false, error: { code: 'io', message: reason } });
    pending.clear();
  };

  const open = (): Promise<WebSocket> => {
    if (opened) return opened;
    opened = new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocketImpl(url);
      ws.onopen = () => resolve(ws);
      ws.onerror = () => undefined; // onclose follows with the code
      ws.onclose = (ev) => {
        const reason = `the connection to the MemScope bridge at ${location.host} closed (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''}); restart "memscope serve" and open its URL again`;
        fail(reason);
        reject(new Error(reason));
      };
      ws.onmessage = (msg) => {
        if (typeof msg.data !== 'string') return;
        let frame: ServerFrame;
        try { frame = decodeFrame(msg.data) as ServerFrame; } catch { return; } // bytes arrive as base64 (common/frame-bytes.ts)
        if ('event' in frame) {
          for (const l of listeners) l(frame.event);
        } else if (frame.id !== null) {
          const p = pending.get(frame.id);
          if (p) { pending.delete(frame.id); p.resolve(frame.response); }
        }
      };
    });
    return opened;
  };

  const call = async (method: Method, args: unknown): Promise<Envelope<unknown>> => {
    if (closedReason) return { ok: false, error: { code: 'io', message: closedReason } };
    let ws: WebSocket;
    try { ws = await open(); } catch (e) {
      return { ok: false, error: { code: 'io', message: closedReason ?? String(e) } };
    }
    const id = nextId++;
    const frame: ClientFrame = { id, method, args };
    return new Promise<Envelope<unknown>>((resolve) => {
      pending.set(id, { resolve });
      ws.send(JSON.stringify(frame));
    });
  };

  const api: Record<string, unknown> = {
    onEvent: (listener: (e: RunEvent) => void) => {
      listeners.add(listener);
      void open().catch(() => undefined); // events need the socket even before the first call
      return () => { listeners.delete(listener); };
    },
  };
  for (const m of METHODS) api[m] = (args: unknown) => call(m, args);
  return api as unknown as MemScopeApi;
}
