/** The bridge transport against a real WebSocket server (the `ws` package), as the page talks to `memscope serve`. */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws';
import type { RunEvent } from '../../common/contract.js';
import { bridgeSocketUrl, connectBridge } from './bridge.js';

let server: WebSocketServer | null = null;
afterEach(() => new Promise<void>((resolve) => {
  const s = server;
  server = null;
  if (!s) { resolve(); return; }
  for (const c of s.clients) c.terminate(); // close() waits for connected clients
  s.close(() => resolve());
}));

function listen(onConnection: (ws: NodeWebSocket, url: string) => void): Promise<number> {
  return new Promise((resolve) => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => resolve((server!.address() as { port: number }).port));
    server.on('connection', (ws, req) => onConnection(ws, req.url ?? ''));
  });
}

const loc = (port: number) => ({ host: `127.0.0.1:${port}`, search: '?token=abc%2B1', protocol: 'http:' });

describe('bridge transport', () => {
  it('takes the token from the page URL onto the socket URL', () => {
    expect(bridgeSocketUrl(loc(9))).toBe('ws://127.0.0.1:9/ws?token=abc%2B1');
  });

  it('pairs responses with requests by id and delivers run events to subscribers', async () => {
    let seenUrl = '';
    const port = await listen((ws, url) => {
      seenUrl = url;
      ws.on('message', (data) => {
        const f = JSON.parse(String(data)) as { id: number; method: string; args: unknown };
        const ev: RunEvent = { type: 'warning', runId: 'r1', message: `saw ${f.method}` };
        ws.send(JSON.stringify({ event: ev }));
        // Answer out of order: the later request first.
        setTimeout(() => ws.send(JSON.stringify({ id: f.id, response: { ok: true, value: { echo: f.method, args: f.args } } })), f.method === 'capabilities' ? 30 : 0);
      });
    });
    const api = connectBridge(loc(port), NodeWebSocket as unknown as typeof WebSocket);
    const events: RunEvent[] = [];
    api.onEvent((e) => events.push(e));
    const [a, b] = await Promise.all([api.capabilities({}), api.cancelRun({ runId: 'r1' })]);
    expect(a).toEqual({ ok: true, value: { echo: 'capabilities', args: {} } });
    expect(b).toEqual({ ok: true, value: { echo: 'cancelRun', args: { runId: 'r1' } } });
    expect(seenUrl).toBe('/ws?token=abc%2B1');
    expect(events.map((e) => e.type === 'warning' && e.message).sort()).toEqual(['saw cancelRun', 'saw capabilities']);
  });

  it('a refused or closed socket fails calls with a typed io error instead of hanging', async () => {
    const port = await listen((ws) => ws.close(4403, 'bad token'));
    const api = connectBridge(loc(port), NodeWebSocket as unknown as typeof WebSocket);
    const r = await api.capabilities({});
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('io');
      expect(r.error.message).toMatch(/closed \(code 4403: bad token\)/);
    }
    const again = await api.capabilities({});
    expect(again.ok).toBe(false);
  });
});

describe('bridge transport: the server goes away and comes back', () => {
  it('reports the loss at once, fails calls meanwhile, and reconnects with the token when the server returns', async () => {
    const urls: string[] = [];
    const port = await listen((ws, url) => {
      urls.push(url);
      ws.on('message', (data) => {
        const f = JSON.parse(String(data)) as { id: number };
        ws.send(JSON.stringify({ id: f.id, response: { ok: true, value: { n: urls.length } } }));
      });
    });
    const api = connectBridge(loc(port), NodeWebSocket as unknown as typeof WebSocket);
    const link: { up: boolean; reason: string | null }[] = [];
    api.onLink((s) => link.push(s));
    expect(await api.capabilities({})).toEqual({ ok: true, value: { n: 1 } });

    // The server dies: every client is cut off and the port stops listening.
    const old = server!;
    server = null;
    for (const c of old.clients) c.terminate();
    await new Promise<void>((r) => old.close(() => r()));
    await expect.poll(() => link.length).toBe(1);
    expect(link[0]!.up).toBe(false);
    expect(link[0]!.reason).toMatch(/connection to the MemScope server at 127\.0\.0\.1:\d+ was lost .*reconnecting/);
    const meanwhile = await api.capabilities({});
    expect(meanwhile).toMatchObject({ ok: false, error: { code: 'io' } });

    // It comes back on the same port: the page reconnects by itself, with its token.
    await new Promise<void>((resolve) => {
      server = new WebSocketServer({ host: '127.0.0.1', port }, () => resolve());
      server.on('connection', (ws, req) => {
        urls.push(req.url ?? '');
        ws.on('message', (data) => ws.send(JSON.stringify({ id: (JSON.parse(String(data)) as { id: number }).id, response: { ok: true, value: { n: urls.length } } })));
      });
    });
    await expect.poll(() => link.length, { timeout: 10_000 }).toBe(2);
    expect(link[1]).toEqual({ up: true, reason: null });
    expect(urls).toEqual(['/ws?token=abc%2B1', '/ws?token=abc%2B1']);
    expect(await api.capabilities({})).toEqual({ ok: true, value: { n: 2 } });
  });
});
