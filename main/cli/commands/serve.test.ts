/**
 * `memscope serve` as a real process: exactly one line on stdout (the URL with its token), the page
 * loads without the token, the WebSocket answers with it, the initial image is offered, SIGTERM
 * shuts it down cleanly; bad --port and a missing image fail before anything is served.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildSample } from '../../engine/sample/index.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const ENTRY = join(ROOT, 'main', 'cli', 'testing', 'cli-entry.ts');
const dir = mkdtempSync(join(tmpdir(), 'memscope-serve-'));
let image = '';

beforeAll(async () => {
  image = join(dir, 's.raw');
  await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 3, processes: 2 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function memscope(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MEMSCOPE_HOME: join(dir, 'home') } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const firstLine = new Promise<string>((r, reject) => {
    const check = () => { const i = stdout.indexOf('\n'); if (i >= 0) r(stdout.slice(0, i)); };
    child.stdout.on('data', check);
    void exited.then(() => reject(new Error(`memscope exited before printing a line: ${stderr}`)));
  });
  firstLine.catch(() => undefined); // only the test that serves awaits it
  return { child, exited, firstLine, out: () => stdout, err: () => stderr };
}

describe('memscope serve', () => {
  it('prints one line with the URL and token, serves the page without it, answers over the socket, stops on SIGTERM', async () => {
    const p = memscope(['serve', image, '--port', '0']);
    try {
      const line = await p.firstLine;
      const m = /^MemScope: open (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]{20,}))$/.exec(line);
      expect(m, line).not.toBeNull();
      const [, url, port, token] = m!;
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toMatch(/<title>MemScope<\/title>/);
      expect((await fetch(url!)).status).toBe(200);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`, { origin: `http://127.0.0.1:${port}` });
      const caps = await new Promise<unknown>((r, reject) => {
        ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'capabilities', args: {} })));
        ws.once('message', (d) => r(JSON.parse(d.toString())));
        ws.once('error', reject);
      });
      expect(caps).toMatchObject({ id: 1, response: { ok: true, value: { host: 'bridge', initialImage: image } } });
      ws.close();
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
    expect(p.out().split('\n').filter(Boolean)).toHaveLength(1);
    expect(p.err()).toBe('');
  });

  it('never writes the token to its output beyond the one URL line, whatever clients do', async () => {
    const p = memscope(['serve', image, '--port', '0']);
    let token = '';
    try {
      const m = /^MemScope: open http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+)$/.exec(await p.firstLine);
      const [, port, t] = m!;
      token = t!;
      const base = `127.0.0.1:${port}`;
      await fetch(`http://${base}/?token=${token}`);
      await fetch(`http://${base}/no/such/file?token=${token}`);
      const refused = await new Promise<number>((r) => {
        const ws = new WebSocket(`ws://${base}/ws?token=${token}`, { origin: 'http://evil.example' });
        ws.once('unexpected-response', (_q, res) => r(res.statusCode ?? 0));
        ws.once('error', () => r(-1));
      });
      expect(refused).toBe(403);
      // fill the socket cap so the server logs a refusal, each socket holding the real token in its URL
      const sockets: WebSocket[] = [];
      for (let i = 0; i < 9; i++) {
        const ws = new WebSocket(`ws://${base}/ws?token=${token}`, { origin: `http://${base}` });
        sockets.push(ws);
        await new Promise<void>((r) => { ws.once('open', () => r()); ws.once('unexpected-response', () => r()); ws.once('error', () => r()); });
      }
      await expect.poll(() => p.err()).toMatch(/refused a WebSocket: 8 are open already/);
      for (const ws of sockets) ws.close();
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
    const all = p.out() + p.err();
    expect(all.split(token)).toHaveLength(2); // once: the URL line
    expect(p.out().split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('`memscope info` of a named pipe answers at once naming it (exit 1), without waiting for a writer', async () => {
    const pipe = join(dir, 'evidence.raw');
    execFileSync('mkfifo', [pipe]); // no writer ever comes: a blocking open would hang until killed
    const info = memscope(['info', pipe]);
    const hung = setTimeout(() => info.child.kill('SIGKILL'), 45_000);
    try {
      expect(await info.exited).toBe(1);
      expect(info.err()).toBe(`memscope: ${pipe}: is a named pipe (FIFO), not a memory image\n`);
      expect(info.out()).toBe('');
    } finally {
      clearTimeout(hung);
    }
  });

  it('refuses a bad --port (usage, exit 2), a missing image and a named pipe (exit 1) before serving', async () => {
    const bad = memscope(['serve', '--port', '70000']);
    expect(await bad.exited).toBe(2);
    expect(bad.err()).toMatch(/^memscope: --port must be an integer in 0\.\.65535 \(got "70000"\)\n$/);
    const missing = memscope(['serve', join(dir, 'nope.raw')]);
    expect(await missing.exited).toBe(1);
    expect(missing.err()).toMatch(/nope\.raw: no such file\n$/);
    expect(missing.out()).toBe('');
    const pipe = join(dir, 'served.fifo');
    execFileSync('mkfifo', [pipe]);
    const fifo = memscope(['serve', pipe]);
    expect(await fifo.exited).toBe(1);
    expect(fifo.err()).toBe(`memscope: ${pipe}: is a named pipe (FIFO), not a memory image\n`);
    expect(fifo.out()).toBe('');
  });
});
