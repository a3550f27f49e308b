/**
 * The bridge's limits over real sockets: a cap on sockets (503, and a refused handshake never holds a
 * place), sessions capped per socket and in all, a client that stops reading dropped once its unsent
 * output passes the bound (never buffered without end), an answer that cannot be serialized answered
 * with a typed error on a server that lives on, a half-sent handshake and a half-open socket timed
 * out. Where a test needs answers of a given size or shape, a scripted service stands in for the
 * contract service (the bridge only frames): its answers are what the test is about.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Envelope, RunEvent, ServerFrame, SessionInfo } from '../../common/contract.js';
import { buildSample } from '../engine/sample/index.js';
import { createContractService } from '../service/service.js';
import type { ContractService, ServiceConnection } from '../service/types.js';
import { bridgeHost } from './host.js';
import { SLOW_CLIENT_CLOSE, startBridge, type Bridge, type BridgeOptions } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-bridge-limits-'));
let image = '';
beforeAll(async () => {
  image = join(dir, 's.raw');
  await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 9, processes: 2 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A service whose every answer is `answer(method)`; it records the connections closed. */
function scripted(answer: (method: string) => Envelope<unknown>): ContractService & { closed: number } {
  const svc = {
    closed: 0,
    handle: async (method: string) => answer(method),
    onEvent: () => () => undefined,
    dispose: async () => undefined,
    connect: (): ServiceConnection => ({
      handle: async (method: string) => answer(method),
      onEvent: () => () => undefined,
      sessionCount: () => 0,
      close: async () => { svc.closed++; },
    }),
    stats: () => ({ sessions: 0, connections: 0, runsInFlight: 0, runsRemembered: 0 }),
  };
  return svc;
}

async function withBridge<T>(service: ContractService, options: Partial<BridgeOptions>, body: (b: Bridge) => Promise<T>): Promise<T> {
  const b = await startBridge({ service, staticDir: dir, ...options });
  try { return await body(b); } finally { await b.close(); }
}

const open = async (b: Bridge): Promise<WebSocket> => {
  const ws = new WebSocket(`ws://127.0.0.1:${b.port}/ws?token=${b.token}`, { origin: `http://127.0.0.1:${b.port}` });
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`))); });
  return ws;
};
const call = (ws: WebSocket, id: number, method: string, args: unknown): Promise<ServerFrame> => new Promise((resolve) => {
  const on = (d: WebSocket.RawData) => {
    const f = JSON.parse(d.toString()) as ServerFrame;
    if ('id' in f && f.id === id) { ws.off('message', on); resolve(f); }
  };
  ws.on('message', on);
  ws.send(JSON.stringify({ id, method, args }));
});
const closed = (ws: WebSocket): Promise<{ code: number; reason: string }> => new Promise((resolve) => {
  if (ws.readyState === WebSocket.CLOSED) resolve({ code: 1006, reason: '' });
  ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
});
/** A raw TCP client: resolves when the server closes it. */
const rawUntilClosed = (b: Bridge, lines: string | null): { sock: Socket; ended: Promise<string> } => {
  const sock = connect(b.port, '127.0.0.1', () => { if (lines !== null) sock.write(lines); });
  let text = '';
  sock.on('data', (d) => { text += d.toString('latin1'); });
  const ended = new Promise<string>((resolve) => { sock.on('close', () => resolve(text)); sock.on('error', () => undefined); });
  return { sock, ended };
};

describe('bridge caps', () => {
  it('a cap on concurrent sockets: one more is refused with 503; a malformed handshake holds no place', async () => {
    const lines: string[] = [];
    await withBridge(scripted(() => ({ ok: true, value: {} })), { limits: { sockets: 2 }, log: (l) => lines.push(l) }, async (b) => {
      for (let i = 0; i < 5; i++) { // valid token, Origin and Host, but no Sec-WebSocket-Key: ws refuses it
        const bad = rawUntilClosed(b, `GET /ws?token=${b.token} HTTP/1.1\r\nHost: 127.0.0.1:${b.port}\r\nOrigin: http://127.0.0.1:${b.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n`);
        expect((await bad.ended).split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      }
      const a = await open(b);
      const c = await open(b);
      await expect(open(b)).rejects.toThrow('HTTP 503');
      expect(b.clients()).toBe(2);
      expect(lines).toEqual(['refused a WebSocket: 2 are open already (the most this server allows)']);
      a.close();
      await expect.poll(() => b.clients()).toBe(1);
      const d = await open(b);
      d.close();
      c.close();
    });
  });

  it('sessions are capped per socket and in all, with a typed `limit` error', async () => {
    const service = createContractService(bridgeHost({ initialImage: null, sampleImage: null }), { session: { workers: 1 }, limits: { sessionsPerConnection: 1, sessions: 2 } });
    try {
      await withBridge(service, {}, async (b) => {
        const [x, y, z] = [await open(b), await open(b), await open(b)];
        expect(await call(x, 1, 'openSession', { path: image })).toMatchObject({ response: { ok: true } });
        expect(await call(x, 2, 'openSession', { path: image })).toEqual({ id: 2, response: { ok: false, error: { code: 'limit', message: 'at most 1 sessions may be open per connection: close one (or reload the page) before opening another' } } });
        expect(await call(y, 1, 'openSession', { path: image })).toMatchObject({ response: { ok: true } });
        expect(await call(z, 1, 'openSession', { path: image })).toEqual({ id: 1, response: { ok: false, error: { code: 'limit', message: 'at most 2 sessions may be open at once on this server: close one before opening another' } } });
        x.close();
        await expect.poll(() => service.stats().sessions).toBe(1);
        expect(((await call(z, 2, 'openSession', { path: image })) as { response: Envelope<SessionInfo> }).response.ok).toBe(true);
        y.close();
        z.close();
      });
    } finally {
      await service.dispose();
    }
  });
});

describe('bridge back-pressure and unsendable answers', () => {
  it('a client that stops reading is dropped with a reason once its unsent output passes the bound', async () => {
    const big = 'x'.repeat(1 << 20);
    const service = scripted(() => ({ ok: true, value: big }));
    const lines: string[] = [];
    await withBridge(service, { limits: { bufferedBytes: 4 << 20 }, log: (l) => lines.push(l) }, async (b) => {
      const ws = await open(b);
      const end = closed(ws);
      ws.pause(); // reads nothing from now on
      for (let i = 1; i <= 64; i++) ws.send(JSON.stringify({ id: i, method: 'capabilities', args: {} })); // 64 MiB of answers asked for
      await expect.poll(() => lines.length, { timeout: 15_000 }).toBe(1);
      expect(lines[0]).toMatch(/^dropped a WebSocket client that stopped reading \(\d+ bytes unsent\)$/);
      expect(Number(/\((\d+) bytes/.exec(lines[0]!)![1])).toBeLessThanOrEqual((4 << 20) + 2 * ((1 << 20) + 64)); // the bound, the largest answer as allowance, and the one answer past it
      ws.resume(); // reading again, it finds the close frame, with the reason, after what was queued
      expect(await end).toEqual(SLOW_CLIENT_CLOSE);
      await expect.poll(() => b.clients()).toBe(0);
      expect(service.closed).toBe(1); // its connection (sessions, runs) closed with it
    });
  });

  it('an answer too large for one string, or one JSON cannot hold, is a typed error; the server lives on', async () => {
    const tooLong = { toJSON: () => { throw new RangeError('Invalid string length'); } };
    const service = scripted((method) => (method === 'exportTable' ? { ok: true, value: tooLong } : method === 'pickImage' ? { ok: true, value: { n: 1n } } : { ok: true, value: { fine: true } }));
    await withBridge(service, {}, async (b) => {
      const ws = await open(b);
      expect(await call(ws, 7, 'exportTable', {})).toEqual({ id: 7, response: { ok: false, error: { code: 'limit', message: 'the answer is too large to send in one message: export large tables with the CLI (memscope <table> IMAGE --format csv --out FILE)' } } });
      expect(await call(ws, 8, 'pickImage', {})).toEqual({ id: 8, response: { ok: false, error: { code: 'internal', message: 'internal error: the answer could not be sent: Do not know how to serialize a BigInt' } } });
      expect(await call(ws, 9, 'capabilities', {})).toEqual({ id: 9, response: { ok: true, value: { fine: true } } });
      expect((await fetch(`http://127.0.0.1:${b.port}/`)).status).toBe(200);
      ws.close();
    });
  });

  it('the real service over the bridge: an export over the cap is a typed `limit` error, 1M repeated keys one row', async () => {
    const service = createContractService(bridgeHost({ initialImage: null, sampleImage: null }), { session: { workers: 1 }, limits: { exportChars: 2000 } });
    try {
      await withBridge(service, {}, async (b) => {
        const ws = await open(b);
        const events: RunEvent[] = [];
        ws.on('message', (d) => { const f = JSON.parse(d.toString()) as ServerFrame; if ('event' in f) events.push(f.event); });
        const info = ((await call(ws, 1, 'openSession', { path: image })) as { response: { value: SessionInfo } }).response.value;
        const { runId } = ((await call(ws, 2, 'startRun', { sessionId: info.sessionId, request: { plugin: 'psxview' } })) as { response: { value: { runId: string } } }).response.value;
        await expect.poll(() => events.some((e) => e.type === 'done' && e.runId === runId), { timeout: 30_000 }).toBe(true);
        const key = events.find((e) => e.type === 'row')!.key;
        expect(await call(ws, 3, 'exportTable', { sessionId: info.sessionId, table: 'psxview', format: 'json', keys: null }))
          .toMatchObject({ id: 3, response: { ok: false, error: { code: 'limit', message: expect.stringContaining('memscope psxview IMAGE --format json --out FILE') } } });
        const one = await call(ws, 4, 'exportTable', { sessionId: info.sessionId, table: 'psxview', format: 'csv', keys: Array.from({ length: 1_000_000 }, () => key) });
        expect(((one as { response: { value: { text: string } } }).response.value.text).trim().split('\r\n')).toHaveLength(2);
        expect((await fetch(`http://127.0.0.1:${b.port}/`)).status).toBe(200);
        ws.close();
      });
    } finally {
      await service.dispose();
    }
  });
});

describe('bridge timeouts', () => {
  it('a half-sent handshake is closed after the handshake timeout', async () => {
    await withBridge(scripted(() => ({ ok: true, value: {} })), { limits: { handshakeMs: 400 } }, async (b) => {
      const half = rawUntilClosed(b, `GET /ws?token=${b.token} HTTP/1.1\r\nHost: 127.0.0.1:${b.port}\r\n`); // no blank line: never finished
      const silent = rawUntilClosed(b, null); // connects and says nothing
      // both closed by the server with a 408 (the test waits until each is closed)
      expect((await half.ended).split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
      expect((await silent.ended).split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
      half.sock.destroy();
      silent.sock.destroy();
    });
  });

  it('a half-open WebSocket (no answer to pings) is dropped; a live client is kept', async () => {
    await withBridge(scripted(() => ({ ok: true, value: {} })), { limits: { idleMs: 200 } }, async (b) => {
      const key = 'dGhlIHNhbXBsZSBub25jZQ==';
      const mute = rawUntilClosed(b, `GET /ws?token=${b.token} HTTP/1.1\r\nHost: 127.0.0.1:${b.port}\r\nOrigin: http://127.0.0.1:${b.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
      const live = await open(b); // ws answers pings itself, as browsers do
      await expect.poll(() => b.clients()).toBe(2);
      expect((await mute.ended).split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
      await expect.poll(() => b.clients()).toBe(1);
      await new Promise((r) => setTimeout(r, 800));
      expect(live.readyState).toBe(WebSocket.OPEN);
      expect(await call(live, 1, 'capabilities', {})).toMatchObject({ response: { ok: true } });
      live.close();
    });
  });
});
