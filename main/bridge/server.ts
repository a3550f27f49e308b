/**
 * The browser bridge: the built renderer over HTTP and the contract over a WebSocket (`ws`), on
 * 127.0.0.1 only. A WebSocket upgrade is refused at the handshake (403, never 101, before any message
 * is read) without the per-run token, with an Origin other than this server's, or with a Host other
 * than the loopback address it serves (DNS rebinding). Pages and scripts load without the token;
 * every HTTP answer carries the same strict CSP as Electron's window. The bridge only frames
 * messages: validation, sessions and runs are the contract service's.
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
import { answerFrameText, malformedFrame } from '../service/frames.js';
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
}

export interface Bridge {
  readonly port: number;
  readonly token: string;
  /** `http://127.0.0.1:PORT/?token=TOKEN`: the one line `memscope serve` prints. */
  readonly url: string;
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

  const server = createServer(onRequest);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES });
  const clients = new Set<WebSocket>();

  const refuse = (socket: Duplex, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try { url = new URL(req.url ?? '/', origin()); } catch { refuse(socket, '400 Bad Request'); return; }
    if (url.pathname !== BRIDGE_WS_PATH) { refuse(socket, '404 Not Found'); return; }
    if (!sameToken(url.searchParams.get(BRIDGE_TOKEN_PARAM), token)) { refuse(socket, '403 Forbidden'); return; }
    if (req.headers.origin !== origin()) { refuse(socket, '403 Forbidden'); return; }
    if (req.headers.host !== host()) { refuse(socket, '403 Forbidden'); return; }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const send = (ws: WebSocket, frame: ServerFrame) => { if (ws.readyState === ws.OPEN) ws.send(encodeFrame(frame)); }; // bytes as base64 (common/frame-bytes.ts)
  const unsubscribe = opts.service.onEvent((event) => { for (const ws of clients) send(ws, { event }); });

  wss.on('connection', (ws: WebSocket) => {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('error', () => clients.delete(ws));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) { send(ws, malformedFrame('frames must be JSON text, not binary')); return; }
      void answerFrameText(opts.service, rawText(data)).then((frame) => send(ws, frame));
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
    close: async () => {
      unsubscribe();
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
