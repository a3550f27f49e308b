/**
 * The browser bridge: the built renderer over HTTP and the contract over a WebSocket (`ws`), on
 * 127.0.0.1 only. A WebSocket upgrade is refused at the handshake (403, never 101, before any message
 * is read) without the per-run token, with an Origin other than this server's, or with a Host other
 * than the loopback address it serves (DNS rebinding). Pages and scripts load without the token;
 * every HTTP answer carries the same strict CSP as Electron's window. Only origin-form request
 * targets are served (`GET http://evil.example/ws` is refused, whatever its Host says).
 *
 * Each socket is a connection of the contract service: the sessions it opens are its own and close
 * with it, and it hears only its own runs' events. Limits keep a local process from exhausting the
 * machine: a cap on sockets, a handshake timeout, a ping every idle period (a half-open peer is
 * dropped), and a client that stops reading is dropped once its unsent output passes a bound. No
 * request can end the server: a frame that cannot be serialized is answered with a typed error.
 * The bridge only frames messages: validation, sessions and runs are the contract service's.
 */
import { contentSecurityPolicy } from '../../common/csp.js';
import { encodeFrame } from '../../common/frame-bytes.js';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { BRIDGE_TOKEN_PARAM, BRIDGE_WS_PATH, MAX_CLIENT_FRAME_BYTES, type ServerFrame } from '../../common/contract.js';
import { MemScopeError } from '../engine/errors.js';
import { answerFrameText, malformedFrame, oneLine } from '../service/frames.js';
import type { ContractService } from '../service/types.js';
import { mimeOf, staticFile } from './static-files.js';
import { PLACEHOLDER_HTML } from './placeholder.js';

export const LOOPBACK = '127.0.0.1';

export interface BridgeOptions {
  readonly service: ContractService;
  /** The built renderer (dist/renderer/). */
  readonly staticDir: string;
  /** 0 (default): a free port. */
  readonly port?: number;
  /** The per-run token; random by default (tests pass none). */
  readonly token?: string;
  /** Caps and timeouts (default BRIDGE_LIMITS). */
  readonly limits?: Partial<BridgeLimits>;
  /** A line about a dropped client or a refused socket (never a URL, never the token). */
  readonly log?: (line: string) => void;
}

export interface BridgeLimits {
  /** WebSockets open at once; one more is refused with 503. */
  readonly sockets: number;
  /**
   * Output queued for one socket beyond which the client, having stopped reading, is dropped. The
   * largest frame the socket was sent is allowed on top, so a reader still taking in one big export
   * answer is not mistaken for a stalled one.
   */
  readonly bufferedBytes: number;
  /** Time a connection may take to send its request head (a half-sent handshake is closed). */
  readonly handshakeMs: number;
  /** A socket is pinged every period; one that has not answered the previous ping is dropped. */
  readonly idleMs: number;
}

export const BRIDGE_LIMITS: BridgeLimits = {
  sockets: 8,
  bufferedBytes: 16 * 2 ** 20,
  handshakeMs: 10_000,
  idleMs: 30_000,
};

/** WebSocket close code and reason of a client dropped for not reading (1008: policy violation). */
export const SLOW_CLIENT_CLOSE = { code: 1008, reason: 'dropped: the client stopped reading its answers' } as const;
/** How long a dropped slow client has to read up to the close frame before its connection is cut. */
const SLOW_CLIENT_GRACE_MS = 2000;

export interface Bridge {
  readonly port: number;
  readonly token: string;
  /** `http://127.0.0.1:PORT/?token=TOKEN`: the one line `memscope serve` prints. */
  readonly url: string;
  /** WebSockets open now. */
  clients(): number;
  close(): Promise<void>;
}

/** The CSP of every page (the renderer uses no inline script or style; React style props are CSSOM). */
/** The one renderer CSP (common/csp.ts), its connect-src widened to this bridge's WebSocket origin. */
export const bridgeCsp = (port: number): string => contentSecurityPolicy([`ws://${LOOPBACK}:${port}`]);

function sameToken(given: string | null, token: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}


export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const limits: BridgeLimits = { ...BRIDGE_LIMITS, ...opts.limits };
  const log = (line: string): void => { try { opts.log?.(line); } catch { /* logging never ends the server */ } };
  let port = 0;
  const host = () => `${LOOPBACK}:${port}`;
  const origin = () => `http://${LOOPBACK}:${port}`;

  const headers = (type: string): Record<string, string> => ({
    'Content-Type': type,
    'Content-Security-Policy': bridgeCsp(port),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer', // the token is in the page URL
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-store',
  });
  const reply = (res: ServerResponse, status: number, text: string) => {
    res.writeHead(status, headers('text/plain; charset=utf-8'));
    res.end(text);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (!originForm(req.url)) { reply(res, 400, 'bad request: the request target must be a path (origin-form)\n'); return; }
    if (req.headers.host !== host()) { reply(res, 403, `forbidden: this server answers only as ${host()}\n`); return; }
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.setHeader('Allow', 'GET, HEAD'); reply(res, 405, 'method not allowed\n'); return; }
    const pathname = new URL(req.url ?? '/', origin()).pathname;
    if (pathname === BRIDGE_WS_PATH) { reply(res, 426, 'upgrade required\n'); return; }
    const file = staticFile(opts.staticDir, pathname);
    if (file === null) {
      if (pathname === '/' || pathname === '/index.html') { // renderer not built yet
        res.writeHead(200, headers('text/html; charset=utf-8'));
        res.end(req.method === 'HEAD' ? undefined : PLACEHOLDER_HTML);
        return;
      }
      reply(res, 404, 'not found\n');
      return;
    }
    res.writeHead(200, headers(mimeOf(file)));
    if (req.method === 'HEAD') { res.end(); return; }
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };

  const server = createServer({
    headersTimeout: limits.handshakeMs,
    requestTimeout: limits.handshakeMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.handshakeMs / 2))),
  }, onRequest);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES });
  const clients = new Set<WebSocket>();
  /** Upgrades accepted but not yet connected (they count against the socket cap). */
  let upgrading = 0;

  const refuse = (socket: Duplex, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nContent-Security-Policy: ${bridgeCsp(port)}\r\n\r\n`);
    socket.destroy();
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (!originForm(req.url)) { refuse(socket, '400 Bad Request'); return; }
    let url: URL;
    try { url = new URL(req.url ?? '/', origin()); } catch { refuse(socket, '400 Bad Request'); return; }
    if (url.pathname !== BRIDGE_WS_PATH) { refuse(socket, '404 Not Found'); return; }
    if (!sameToken(url.searchParams.get(BRIDGE_TOKEN_PARAM), token)) { refuse(socket, '403 Forbidden'); return; }
    if (req.headers.origin !== origin()) { refuse(socket, '403 Forbidden'); return; }
    if (req.headers.host !== host()) { refuse(socket, '403 Forbidden'); return; }
    if (clients.size + upgrading >= limits.sockets) {
      log(`refused a WebSocket: ${limits.sockets} are open already (the most this server allows)`);
      refuse(socket, '503 Service Unavailable');
      return;
    }
    upgrading++;
    let counted = true;
    const settled = () => { if (counted) { counted = false; upgrading--; } };
    socket.once('close', settled); // ws refuses a malformed handshake without calling back
    wss.handleUpgrade(req, socket, head, (ws) => { settled(); wss.emit('connection', ws, req); });
  });

  /** Drop a client that stopped reading: its queued output would otherwise grow without bound. */
  const dropSlow = (ws: WebSocket): void => {
    if (ws.readyState !== ws.OPEN) return;
    log(`dropped a WebSocket client that stopped reading (${ws.bufferedAmount} bytes unsent)`);
    ws.close(SLOW_CLIENT_CLOSE.code, SLOW_CLIENT_CLOSE.reason); // nothing more is queued once it is closing
    const cut = setTimeout(() => ws.terminate(), SLOW_CLIENT_GRACE_MS); // the close frame waits behind what it does not read
    ws.once('close', () => clearTimeout(cut));
  };

  /** The largest frame each socket was sent (its allowance on top of limits.bufferedBytes). */
  const largest = new WeakMap<WebSocket, number>();
  /** Send one frame; a frame that cannot be serialized becomes a typed error. Never throws. */
  const send = (ws: WebSocket, frame: ServerFrame): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > limits.bufferedBytes + (largest.get(ws) ?? 0)) { dropSlow(ws); return; }
    let text: string;
    try {
      text = encodeFrame(frame); // bytes as base64 (common/frame-bytes.ts)
    } catch (e) {
      text = JSON.stringify(unsendable(frame, e));
    }
    if (text.length > (largest.get(ws) ?? 0)) largest.set(ws, text.length);
    try {
      ws.send(text);
    } catch {
      ws.terminate();
    }
  };

  wss.on('connection', (ws: WebSocket) => {
    clients.add(ws);
    const connection = opts.service.connect();
    connection.onEvent((event) => send(ws, { event }));
    let alive = true;
    ws.on('pong', () => { alive = true; });
    const ping = setInterval(() => {
      if (!alive) { ws.terminate(); return; } // no pong in a whole period: a half-open peer
      alive = false;
      try { ws.ping(); } catch { ws.terminate(); }
    }, limits.idleMs);
    const gone = () => {
      clearInterval(ping);
      clients.delete(ws);
      void connection.close(); // its sessions, runs and scan workers go with it
    };
    ws.on('close', gone);
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) { send(ws, malformedFrame('frames must be JSON text, not binary')); return; }
      void answerFrameText(connection, rawText(data)).then((frame) => send(ws, frame), (e: unknown) => send(ws, unsendable({ id: null, response: { ok: false, error: { code: 'internal', message: '' } } }, e)));
    });
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(
      e.code === 'EADDRINUSE' ? new MemScopeError('io', `port ${opts.port} on ${LOOPBACK} is already in use; choose another with --port`, { cause: e })
        : new MemScopeError('io', `cannot listen on ${LOOPBACK}:${opts.port ?? 0}: ${e.message}`, { cause: e }),
    ));
    server.listen(opts.port ?? 0, LOOPBACK, () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;

  return {
    port,
    token,
    url: `http://${LOOPBACK}:${port}/?${BRIDGE_TOKEN_PARAM}=${encodeURIComponent(token)}`,
    clients: () => clients.size,
    close: async () => {
      for (const ws of clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** An origin-form request target (`/path?query`), the only form a browser sends to this server. */
const originForm = (target: string | undefined): boolean => target !== undefined && target.startsWith('/') && !target.startsWith('//');

/** The typed answer in place of a frame that could not be serialized (an answer too large for one string, a value JSON cannot hold). */
function unsendable(frame: ServerFrame, e: unknown): ServerFrame {
  const tooLarge = e instanceof RangeError;
  const error = tooLarge
    ? { code: 'limit' as const, message: 'the answer is too large to send in one message: export large tables with the CLI (memscope <table> IMAGE --format csv --out FILE)' }
    : { code: 'internal' as const, message: oneLine(`internal error: the answer could not be sent: ${e instanceof Error ? e.message : String(e)}`) };
  return { id: 'id' in frame ? frame.id : null, response: { ok: false, error } } as ServerFrame;
}
