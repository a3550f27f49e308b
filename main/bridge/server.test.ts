/**
 * The bridge over real sockets on 127.0.0.1: refused upgrades get no 101 (token missing or wrong,
 * foreign Origin, foreign Host), malformed frames get a typed error on a socket that stays usable,
 * a psxview run streams over the socket, the page loads without the token (strict CSP, MIME types,
 * no path traversal).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Envelope, RunEvent, ServerFrame, SessionInfo } from '../../common/contract.js';
import { buildSample } from '../engine/sample/index.js';
import { createContractService } from '../service/service.js';
import type { ContractService } from '../service/types.js';
import { bridgeHost, BRIDGE_LIVE_REASON } from './host.js';
import { startBridge, type Bridge } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-bridge-'));
const www = join(dir, 'renderer');
const secret = join(dir, 'secret.txt');
let image = '';
let service: ContractService;
let bridge: Bridge;

beforeAll(async () => {
  mkdirSync(join(www, 'assets'), { recursive: true });
  writeFileSync(join(www, 'index.html'), '<!doctype html><title>MemScope</title><script type="module" src="./assets/app.js"></script>');
  writeFileSync(join(www, 'assets', 'app.js'), 'export const x = 1;\n');
  writeFileSync(join(www, 'assets', 'app.css'), 'body{}\n');
  writeFileSync(secret, 'not for the browser\n');
  symlinkSync(secret, join(www, 'assets', 'escape.txt'));
  image = join(dir, 's19041.raw');
  await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 5, processes: 4 });
  service = createContractService(bridgeHost({ initialImage: image, sampleImage: null }), { session: { workers: 2 } });
  bridge = await startBridge({ service, staticDir: www });
});
afterAll(async () => {
  await bridge.close();
  await service.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const origin = () => `http://127.0.0.1:${bridge.port}`;
const wsUrl = (token: string | null = bridge.token) => `ws://127.0.0.1:${bridge.port}/ws${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;

/** A raw HTTP exchange (so a test controls every header, Host included). Resolves with the status line and headers. */
function rawRequest(lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(bridge.port, '127.0.0.1', () => sock.write(lines.join('\r\n') + '\r\n\r\n'));
    let text = '';
    sock.on('data', (d) => {
      text += d.toString('latin1');
      if (text.includes('\r\n\r\n')) { sock.destroy(); resolve(text); } // the status line and headers are all a test reads
    });
    sock.on('end', () => resolve(text));
    sock.on('close', () => resolve(text));
    sock.on('error', reject);
    setTimeout(() => { sock.destroy(); resolve(text); }, 2000);
  });
}
const upgrade = (path: string, headers: Record<string, string>) => rawRequest([
  `GET ${path} HTTP/1.1`,
  ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
]);

function get(path: string, host = `127.0.0.1:${bridge.port}`): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: bridge.port, path, headers: { Host: host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString('utf8'); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A connected client: send frames, await answers by id, collect events. */
async function client(): Promise<{ ws: WebSocket; call: (method: string, args: unknown) => Promise<Envelope<unknown>>; next: () => Promise<ServerFrame>; events: RunEvent[]; log: ServerFrame[]; close: () => void }> {
  const ws = new WebSocket(wsUrl(), { origin: origin() });
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const events: RunEvent[] = [];
  const waiting = new Map<number, (e: Envelope<unknown>) => void>();
  const unmatched: ServerFrame[] = [];
  const unmatchedWaiters: ((f: ServerFrame) => void)[] = [];
  const log: ServerFrame[] = [];
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as ServerFrame;
    log.push(f);
    if ('event' in f) { events.push(f.event); return; }
    if (f.id !== null && waiting.has(f.id)) { waiting.get(f.id)!(f.response); waiting.delete(f.id); return; }
    const w = unmatchedWaiters.shift();
    if (w) w(f); else unmatched.push(f);
  });
  let id = 0;
  return {
    ws,
    events,
    log,
    call: (method, args) => new Promise((resolve) => { const n = ++id; waiting.set(n, resolve); ws.send(JSON.stringify({ id: n, method, args })); }),
    next: () => new Promise((resolve) => { const f = unmatched.shift(); if (f) resolve(f); else unmatchedWaiters.push(resolve); }),
    close: () => ws.close(),
  };
}

describe('bridge handshake', () => {
  const good = () => ({ Host: `127.0.0.1:${bridge.port}`, Origin: origin() });

  it('accepts the right token, Origin and Host with 101', async () => {
    const r = await upgrade(`/ws?token=${encodeURIComponent(bridge.token)}`, good());
    expect(r.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
  });

  it.each([
    ['no token', () => upgrade('/ws', good())],
    ['a wrong token', () => upgrade('/ws?token=wrong', good())],
    ['a token one character short', () => upgrade(`/ws?token=${encodeURIComponent(bridge.token.slice(0, -1))}`, good())],
    ['a foreign Origin', () => upgrade(`/ws?token=${encodeURIComponent(bridge.token)}`, { ...good(), Origin: 'http://evil.example' })],
    ['no Origin', () => upgrade(`/ws?token=${encodeURIComponent(bridge.token)}`, { Host: `127.0.0.1:${bridge.port}` })],
    ['the loopback Origin on another port', () => upgrade(`/ws?token=${encodeURIComponent(bridge.token)}`, { ...good(), Origin: `http://127.0.0.1:${bridge.port + 1}` })],
    ['a foreign Host (DNS rebinding)', () => upgrade(`/ws?token=${encodeURIComponent(bridge.token)}`, { ...good(), Host: `evil.example:${bridge.port}` })],
    ['Host localhost', () => upgrade(`/ws?token=${encodeURIComponent(bridge.token)}`, { ...good(), Host: `localhost:${bridge.port}` })],
  ])('refuses an upgrade with %s: 403, no 101', async (_what, attempt) => {
    const r = await attempt();
    expect(r.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(r).not.toContain('101');
  });

  it('a ws client with a wrong token fails to connect', async () => {
    const ws = new WebSocket(wsUrl('nope'), { origin: origin() });
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
  });
});

describe('bridge static files', () => {
  it('serves the page without the token, with the strict CSP and the right MIME types', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toBe(`default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws://127.0.0.1:${bridge.port}; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(page.body).toContain('<title>MemScope</title>');
    expect((await get('/assets/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get('/assets/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get(`/?token=${bridge.token}`)).status).toBe(200);
  });

  it.each(['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/assets/escape.txt', '/assets/..%5c..%5csecret.txt', '/%00', '/missing.js', '/assets/'])(
    'no file outside the renderer, nothing listed: %s → 404', async (path) => {
      const r = await get(path);
      expect(r.status).toBe(404);
      expect(r.body).not.toContain('not for the browser');
    });

  it('refuses HTTP requests for a foreign Host', async () => {
    expect((await get('/', 'evil.example')).status).toBe(403);
  });
});

describe('bridge frames', () => {
  it('a malformed frame gets a typed error and the socket stays usable', async () => {
    const c = await client();
    try {
      for (const bad of ['not json', '[]', '{"id":1}', '{"id":-1,"method":"capabilities","args":{}}', '{"id":1,"method":"capabilities","args":{},"extra":1}']) {
        c.ws.send(bad);
        const f = await c.next();
        expect(f).toMatchObject({ id: null, response: { ok: false, error: { code: 'invalid-request' } } });
      }
      c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      expect(await c.next()).toMatchObject({ id: null, response: { ok: false, error: { code: 'invalid-request', message: expect.stringMatching(/binary/) } } });
      expect(await c.call('nosuch', {})).toMatchObject({ ok: false, error: { code: 'unknown-method' } });
      expect(await c.call('openSession', { path: 42 })).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringMatching(/^openSession: path:/) } });
      const caps = await c.call('capabilities', {});
      expect(caps).toMatchObject({ ok: true, value: { host: 'bridge', nativeDialogs: false, live: { available: false, reason: BRIDGE_LIVE_REASON }, initialImage: image } });
      expect(await c.call('openLive', {})).toEqual({ ok: false, error: { code: 'unsupported', message: BRIDGE_LIVE_REASON } });
      expect(await c.call('pickImage', {})).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    } finally {
      c.close();
    }
  });

  it('a psxview run streams over the socket: the runId first, rows, then one done', async () => {
    const c = await client();
    try {
      const opened = await c.call('openSession', { path: image });
      expect(opened.ok).toBe(true);
      const info = (opened as { value: SessionInfo }).value;
      expect(info.source.fileName).toBe('s19041.raw');
      const started = await c.call('startRun', { sessionId: info.sessionId, request: { plugin: 'psxview' } });
      expect(started.ok).toBe(true);
      const { runId } = (started as { value: { runId: string } }).value;
      const answered = c.log.findIndex((f) => 'response' in f && f.response.ok && (f.response.value as { runId?: string }).runId === runId);
      const firstEvent = c.log.findIndex((f) => 'event' in f && f.event.runId === runId);
      expect(answered).toBeGreaterThanOrEqual(0);
      if (firstEvent >= 0) expect(firstEvent).toBeGreaterThan(answered); // the answer comes before any event of the run
      await expect.poll(() => c.events.some((e) => e.type === 'done' && e.runId === runId), { timeout: 30_000 }).toBe(true);
      const mine = c.events.filter((e) => e.runId === runId);
      expect(mine.filter((e) => e.type === 'row').length).toBeGreaterThan(0);
      expect(mine[mine.length - 1]).toMatchObject({ type: 'done', outcome: 'completed' });
      const exported = await c.call('exportTable', { sessionId: info.sessionId, table: 'psxview', format: 'csv', keys: null });
      expect(exported).toMatchObject({ ok: true, value: { kind: 'download', fileName: 's19041.raw.psxview.csv', mime: 'text/csv;charset=utf-8' } });
      expect(await c.call('closeSession', { sessionId: info.sessionId })).toEqual({ ok: true, value: {} });
      expect(await c.call('closeSession', { sessionId: info.sessionId })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    } finally {
      c.close();
    }
  });
});
