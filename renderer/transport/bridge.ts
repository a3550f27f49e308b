/**
 * The contract over the bridge's WebSocket (`memscope serve`): one request frame per call, answered by
 * `{id, response}`; run events arrive as `{event}`. The socket opens lazily and a call made while it
 * connects waits for it; a closed socket fails pending and later calls with a typed `io` error instead
 * of hanging. A connection that was up and is lost is reported at once (`onLink`) and retried, with the
 * page's token, until the server answers again; calls made meanwhile fail at once, saying so.
 */
import {
  BRIDGE_TOKEN_PARAM, BRIDGE_WS_PATH, METHODS,
  type ClientFrame, type Envelope, type MemScopeApi, type Method, type RunEvent, type ServerFrame,
} from '../../common/contract.js';
import { decodeFrame } from '../../common/frame-bytes.js';
import type { LinkEvents, LinkStatus } from '../store/app-store.js';

interface Pending { readonly resolve: (e: Envelope<unknown>) => void }

/** Waits between reconnect attempts: quick at first (a restarted server is back in a second), then every few seconds. */
export const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 3000] as const;

export function bridgeSocketUrl(location: Pick<Location, 'host' | 'search' | 'protocol'>): string {
  const token = new URLSearchParams(location.search).get(BRIDGE_TOKEN_PARAM) ?? '';
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${BRIDGE_WS_PATH}?${BRIDGE_TOKEN_PARAM}=${encodeURIComponent(token)}`;
}

export function connectBridge(location: Pick<Location, 'host' | 'search' | 'protocol'>, WebSocketImpl: typeof WebSocket = WebSocket): MemScopeApi & Required<LinkEvents> {
  const url = bridgeSocketUrl(location);
  const listeners = new Set<(e: RunEvent) => void>();
  const linkListeners = new Set<(s: LinkStatus) => void>();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let opened: Promise<WebSocket> | null = null;
  /** Why calls fail now (the socket closed), or null while it is up or first connecting. */
  let closedReason: string | null = null;
  let everUp = false;
  let attempts = 0;

  const notify = (): void => {
    const s: LinkStatus = { up: closedReason === null, reason: closedReason };
    for (const l of linkListeners) l(s);
  };

  const fail = (reason: string): void => {
    closedReason = reason;
    for (const p of pending.values()) p.resolve({ ok: false, error: { code: 'io', message: reason } });
    pending.clear();
  };

  const retry = (): void => {
    const delay = RECONNECT_DELAYS_MS[Math.min(attempts, RECONNECT_DELAYS_MS.length - 1)]!;
    attempts++;
    setTimeout(() => { void open().catch(() => undefined); }, delay);
  };

  const open = (): Promise<WebSocket> => {
    if (opened) return opened;
    opened = new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocketImpl(url);
      let up = false;
      ws.onopen = () => {
        up = true;
        const wasLost = closedReason !== null;
        closedReason = null;
        everUp = true;
        attempts = 0;
        resolve(ws);
        if (wasLost) notify();
      };
      ws.onerror = () => undefined; // onclose follows with the code
      ws.onclose = (ev) => {
        const code = `code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''}`;
        // 4000-4999: the server closed it on purpose (a refused token): trying again would not help
        const refused = ev.code >= 4000 && ev.code < 5000;
        if (refused) everUp = false;
        const reason = everUp
          ? `the connection to the MemScope server at ${location.host} was lost (${code}); reconnecting with this page's token (a server restarted with a new token needs the URL it printed)`
          : `the connection to the MemScope bridge at ${location.host} closed (${code}); restart "memscope serve" and open its URL again`;
        const wasUp = closedReason === null && up;
        fail(reason);
        if (!up) reject(new Error(reason));
        if (wasUp) notify();
        // A page that had its server keeps trying to get it back; one refused from the start does not
        // (its rejected connection stays, and every call says why).
        if (everUp) { opened = null; retry(); }
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
    onLink: (listener: (s: LinkStatus) => void) => {
      linkListeners.add(listener);
      return () => { linkListeners.delete(listener); };
    },
  };
  for (const m of METHODS) api[m] = (args: unknown) => call(m, args);
  return api as unknown as MemScopeApi & Required<LinkEvents>;
}
