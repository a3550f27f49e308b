/**
 * The bridge over real sockets on 127.0.0.1: refused upgrades get no 101 (token missing or wrong,
 * foreign Origin, foreign Host), malformed frames get a typed error on a socket that stays usable,
 * a psxview run streams over the socket, the page loads without the token (strict CSP, MIME types,
 * no path traversal). Each rule of the bridge (issue 22 part 5) is one test here or in
 * limits.test.ts (caps, back-pressure, timeouts); sessions and run events belong to their socket.
 */
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Envelope, RunEvent, ServerFrame, SessionInfo } from '../../common/contract.js';
import { buildSample } from '../engine/sample/index.js';
import { createContractService } from '../service/service.js';
import type { ContractService } from '../service/types.js';
import { bridgeHost, BRIDGE_LIVE_REASON } from './host.js';
import { fifoWithValve } from '../engine/sources/testing/fifo.js';
import { bridgeCsp, startBridge, type Bridge } from './server.js';

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
    ['the `null` Origin (a sandboxed frame, a file: page)', () => upgrade(`/ws?token=${encodeURIComponent(bridge.token)}`, { ...good(), Origin: 'null' })],
    ['no Origin', () => upgrade(`/ws?token=${encodeURIComponent(bridge.token)}`, { Host: `127.0.0.1:${bridge.port}` })],
    ['the loopback Origin on another port', () => upgrade(`/ws?token=${encodeURIComponent(bridge.token)}`, { ...good(), Origin: `http://127.0.0.1:${bridge.port + 1}` })],
    ['a foreign Host (DNS rebinding)', () => upgrade(`/ws?token=${encodeURIComponent(bridge.token)}`, { ...good(), Host: `evil.example:${bridge.port}` })],
    ['Host localhost', () => upgrade(`/ws?token=${encodeURIComponent(bridge.token)}`, { ...good(), Host: `localhost:${bridge.port}` })],
  ])('refuses an upgrade with %s: 403, no 101', async (_what, attempt) => {
    const r = await attempt();
    expect(r.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(r).not.toContain('101');
  });

  it('refuses an absolute-form request target (GET http://evil.example/ws?token=…): 400, no 101', async () => {
    const r = await rawRequest([`GET http://evil.example/ws?token=${encodeURIComponent(bridge.token)} HTTP/1.1`, ...Object.entries(good()).map(([k, v]) => `${k}: ${v}`),
      'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']);
    expect(r.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    const page = await rawRequest([`GET http://127.0.0.1:${bridge.port}/ HTTP/1.1`, `Host: 127.0.0.1:${bridge.port}`]);
    expect(page.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
  });

  it('is not reachable from a non-loopback interface (it listens on 127.0.0.1 only)', async (ctx) => {
    const other = Object.values(networkInterfaces()).flat().find((a) => a !== undefined && !a.internal && a.family === 'IPv4')?.address;
    if (other === undefined) { ctx.skip(); return; } // this machine has no address but loopback
    const outcome = await new Promise<string>((resolve) => {
      const sock = connect(bridge.port, other, () => { sock.destroy(); resolve('connected'); });
      sock.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    expect(outcome).toBe('ECONNREFUSED');
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

  it('every response carries the strict CSP: page, asset, 404, 403, 405, 426, 400 and refused upgrades', async () => {
    const csp = bridgeCsp(bridge.port);
    const heads = await Promise.all([
      rawRequest([`GET / HTTP/1.1`, `Host: 127.0.0.1:${bridge.port}`]),
      rawRequest([`GET /assets/app.js HTTP/1.1`, `Host: 127.0.0.1:${bridge.port}`]),
      rawRequest([`GET /missing HTTP/1.1`, `Host: 127.0.0.1:${bridge.port}`]),
      rawRequest([`GET / HTTP/1.1`, 'Host: evil.example']),
      rawRequest([`POST / HTTP/1.1`, `Host: 127.0.0.1:${bridge.port}`, 'Content-Length: 0']),
      rawRequest([`GET /ws HTTP/1.1`, `Host: 127.0.0.1:${bridge.port}`]),
      rawRequest([`GET http://evil.example/ HTTP/1.1`, `Host: 127.0.0.1:${bridge.port}`]),
      upgrade('/ws?token=wrong', { Host: `127.0.0.1:${bridge.port}`, Origin: origin() }),
      upgrade('/elsewhere', { Host: `127.0.0.1:${bridge.port}`, Origin: origin() }),
    ]);
    expect(heads.map((h) => h.split('\r\n')[0])).toEqual(['200 OK', '200 OK', '404 Not Found', '403 Forbidden', '405 Method Not Allowed', '426 Upgrade Required', '400 Bad Request', '403 Forbidden', '404 Not Found'].map((s) => `HTTP/1.1 ${s}`));
    for (const h of heads) expect(h.toLowerCase()).toContain(`content-security-policy: ${csp.toLowerCase()}\r\n`);
  });

  it('lists no directory: a folder (with or without its slash) is 404, its files unnamed', async () => {
    for (const path of ['/assets', '/assets/', '/assets/.', '/assets//']) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(r.body).not.toMatch(/app\.js|app\.css/);
    }
  });

  it.each(['/%252e%252e/secret.txt', '/assets/%252e%252e%252f%252e%252e%252fsecret.txt', '/assets/..\\..\\secret.txt', '/assets\\..\\..\\secret.txt', '/%5c..%5csecret.txt', '/assets/%2e%2e%5c%2e%2e%5csecret.txt'])(
    'a double-encoded or backslashed escape stays inside the renderer: %s → 404', async (path) => {
      const r = await rawRequest([`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${bridge.port}`]);
      expect(r.split('\r\n')[0]).toBe('HTTP/1.1 404 Not Found');
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

/** File descriptors of this process open on `path` (a session's source, its scan workers' opens). */
const fdsOn = (path: string): number => readdirSync('/proc/self/fd').filter((fd) => {
  try { return readlinkSync(`/proc/self/fd/${fd}`) === path; } catch { return false; }
}).length;

describe('bridge sessions and events belong to their socket', () => {
  it('closing the socket closes its sessions, cancels its scan and ends its workers', async () => {
    const before = fdsOn(image);
    const c = await client();
    const opened = await Promise.all([c.call('openSession', { path: image }), c.call('openSession', { path: image })]);
    const [s1] = opened.map((o) => (o as { value: SessionInfo }).value);
    expect(service.stats().sessions).toBe(2);
    const started = await c.call('startRun', { sessionId: s1!.sessionId, request: { plugin: 'psscan' } });
    expect(started.ok).toBe(true);
    await expect.poll(() => c.events.some((e) => e.type === 'progress' && e.bytesDone > 0), { timeout: 30_000 }).toBe(true);
    expect(fdsOn(image)).toBeGreaterThan(before + 2);
    c.close();
    await expect.poll(() => service.stats().sessions, { timeout: 15_000 }).toBe(0);
    await expect.poll(() => fdsOn(image), { timeout: 15_000 }).toBe(before);
    expect(service.stats().runsInFlight).toBe(0);
  });

  it("run events go only to the socket that started the run; another socket cannot touch its session", async () => {
    const a = await client();
    const b = await client();
    try {
      const info = ((await a.call('openSession', { path: image })) as { value: SessionInfo }).value;
      expect(await b.call('startRun', { sessionId: info.sessionId, request: { plugin: 'pslist' } })).toMatchObject({ ok: false, error: { code: 'not-found' } });
      const { runId } = ((await a.call('startRun', { sessionId: info.sessionId, request: { plugin: 'pslist' } })) as { value: { runId: string } }).value;
      await expect.poll(() => a.events.some((e) => e.type === 'done' && e.runId === runId), { timeout: 30_000 }).toBe(true);
      expect(a.events.filter((e) => e.runId === runId && e.type === 'row').length).toBeGreaterThan(0);
      expect(await b.call('capabilities', {})).toMatchObject({ ok: true }); // b's frames so far are all read
      expect(b.events).toEqual([]);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('bridge under bad input', () => {
  it('openSession of a named pipe answers at once naming it, and HTTP answers meanwhile', async () => {
    const pipe = join(dir, 'evidence.raw');
    const valve = fifoWithValve(pipe);
    const c = await client();
    try {
      const [answer, page] = await Promise.all([c.call('openSession', { path: pipe }), get('/')]);
      expect(answer).toEqual({ ok: false, error: { code: 'io', message: `${pipe}: is a named pipe (FIFO), not a memory image` } });
      expect(page.status).toBe(200);
      expect(valve.fired()).toBe(false); // answered without waiting for a writer
      expect(await c.call('openSession', { path: '/dev/zero' })).toEqual({ ok: false, error: { code: 'io', message: '/dev/zero: is a character device, not a memory image' } });
      expect(await c.call('openSession', { path: '/proc/self/mem' })).toEqual({ ok: false, error: { code: 'io', message: '/proc/self/mem: is a /proc pseudo-file, not a memory image' } });
      expect(await c.call('openSession', { path: www })).toMatchObject({ ok: false, error: { code: 'io', message: `${www}: is a directory, not an image file` } });
    } finally {
      c.close();
      valve.stop();
    }
  });
});
