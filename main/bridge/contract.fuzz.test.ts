/**
 * Door 3 of the contract fuzz: the bridge over a real WebSocket. The same cases as the service and
 * IPC doors (main/testing/contract-fuzz.ts), framed as JSON text, each get exactly one typed answer
 * under their id; then malformed frames (not JSON, binary, wrong or missing ids, wrong shapes,
 * 100,000-level nesting, 16 MiB of text) get `{id: null}` errors or an answer under their own id,
 * and frames that break the WebSocket itself (over MAX_CLIENT_FRAME_BYTES, invalid UTF-8) close only
 * that connection: the next one is served. Nothing writes a file; the heap comes back down.
 */
import { decodeFrame } from '../../common/frame-bytes.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EXPORT_TABLES, MAX_CLIENT_FRAME_BYTES, METHODS, type Capabilities, type RunEvent, type ServerFrame } from '../../common/contract.js';
import { createContractService } from '../service/service.js';
import type { ContractService } from '../service/types.js';
import {
  allCases, changedFiles, collectGarbage, contextOf, listFiles, makeSandbox, MIB, MIN_CASES_PER_METHOD, newStats, PEAK_RSS_BOUND, runCases, summary,
  type FuzzCase, type FuzzContext, type Sandbox,
} from '../testing/contract-fuzz.js';
import { startBridge, type Bridge } from './server.js';

const caps: Capabilities = { host: 'bridge', nativeDialogs: false, live: { available: false, reason: 'not in the bridge' }, initialImage: null, sampleImage: null };
let box: Sandbox;
let service: ContractService;
let bridge: Bridge;
let client: Client;
let ctx: FuzzContext;

/** One WebSocket, one request in flight: the answer under the awaited id, events set aside. */
class Client {
  private pending: { id: number | null; resolve: (answer: unknown) => void } | null = null;
  readonly events: RunEvent[] = [];
  closeCode: number | null = null;
  private nextId = 1;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const f = decodeFrame(data.toString()) as ServerFrame;
      if ('event' in f) { this.events.push(f.event); return; }
      if (this.pending && f.id === this.pending.id) { const p = this.pending; this.pending = null; p.resolve(f.response); }
    });
    ws.on('close', (code) => { this.closeCode = code; this.pending?.resolve({ closed: code }); this.pending = null; });
  }
  static async connect(b: Bridge): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${b.port}/ws?token=${b.token}`, { origin: `http://127.0.0.1:${b.port}` });
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    return new Client(ws);
  }
  /** Send raw text (or bytes) and await the answer under `id` (null: a frame the server cannot read). */
  sendRaw(data: string | Buffer, id: number | null, binary = false): Promise<unknown> {
    return new Promise((resolve) => { this.pending = { id, resolve }; this.ws.send(data, { binary }); });
  }
  request(method: string, args: unknown, wire?: string): Promise<unknown> {
    const id = this.nextId++;
    const text = wire === undefined ? JSON.stringify({ id, method, args }) : `{"id":${id},"method":${JSON.stringify(method)},"args":${wire}}`;
    return this.sendRaw(text, id);
  }
}

beforeAll(async () => {
  box = await makeSandbox('memscope-fuzz-bridge-');
  mkdirSync(join(box.root, 'static'));
  service = createContractService({ capabilities: () => caps }, { session: { workers: 1, warmScan: false } });
  bridge = await startBridge({ service, staticDir: join(box.root, 'static') });
  client = await Client.connect(bridge);
  // the session is this connection's own (a bridge may tie sessions to the socket that opened them)
  ctx = contextOf(box, await client.request('openSession', { path: box.imagePath }));
  for (const plugin of EXPORT_TABLES) {
    const r = await client.request('startRun', { sessionId: ctx.sessionId, request: { plugin } }) as { value: { runId: string } };
    while (!client.events.some((e) => e.type === 'done' && e.runId === r.value.runId)) await new Promise((w) => setTimeout(w, 20));
  }
}, 90_000);
afterAll(async () => {
  client?.ws.close();
  await bridge?.close();
  await service?.dispose();
  box?.remove();
});

it('every method, every fuzz family, over the WebSocket: one typed answer per frame under its id', async () => {
  const stats = newStats('bridge');
  const before = listFiles(box.root);
  const cleanup = async (answer: unknown) => {
    const v = (answer as { value?: { sessionId?: unknown } }).value;
    if (typeof v?.sessionId === 'string' && v.sessionId !== ctx.sessionId) await client.request('closeSession', { sessionId: v.sessionId });
  };
  const cases = [...allCases(ctx)].sort((a, b) => Number(/^(close|cancel)/.test(a.method)) - Number(/^(close|cancel)/.test(b.method)));
  collectGarbage();
  const heap0 = process.memoryUsage().heapUsed;
  await runCases(stats, cases, (c) => client.request(c.method, c.args, c.wire), { cleanup, fifo: ctx.fifo });
  collectGarbage();
  const growth = process.memoryUsage().heapUsed - heap0;
  console.log(`${summary(stats)}\n  bridge heap growth over the batch: ${(growth / MIB).toFixed(1)} MiB`);
  for (const m of METHODS) expect(stats.perMethod.get(m)?.cases ?? 0, m).toBeGreaterThanOrEqual(MIN_CASES_PER_METHOD);
  expect(stats.problems).toEqual([]);
  expect(stats.hangs + stats.crashes).toBe(0);
  expect(stats.peakRss).toBeLessThan(PEAK_RSS_BOUND);
  expect(client.ws.readyState).toBe(WebSocket.OPEN);
  expect(growth).toBeLessThan(64 * MIB);
  expect(changedFiles(before, listFiles(box.root))).toEqual([]);
}, 240_000);

/** A frame and the id its answer must carry (null: the server could not read an id). */
type Frame = { label: string; data: string | Buffer; id: number | null; binary?: boolean; method?: string };
const FRAMES: Frame[] = [
  ...['', ' ', 'hello', '{', '}', '{"id":1', 'null', '1', '"text"', '[]', '{}', 'true', '\u0000', '\ufeff{}', 'NaN', '{id:1}', "{'id':1}"]
    .map((t) => ({ label: `not a frame: ${JSON.stringify(t)}`, data: t, id: null })),
  { label: 'binary JSON', data: Buffer.from('{"id":7,"method":"capabilities","args":{}}'), id: null, binary: true },
  { label: 'binary garbage', data: Buffer.from([0xff, 0x00, 0xfe, 0x01]), id: null, binary: true },
  ...[['-1', 'negative'], ['1.5', 'fractional'], ['"9"', 'a string'], ['null', 'null'], ['1e400', 'infinite'], ['1152921504606846976', 'past 2^53'], ['[1]', 'an array'], ['{}', 'an object']]
    .map(([id, what]) => ({ label: `id ${what}`, data: `{"id":${id},"method":"capabilities","args":{}}`, id: null })),
  { label: 'no id', data: '{"method":"capabilities","args":{}}', id: null },
  { label: 'no method', data: '{"id":11,"args":{}}', id: null },
  { label: 'method a number', data: '{"id":12,"method":5,"args":{}}', id: null },
  { label: 'method 65 characters', data: `{"id":13,"method":"${'m'.repeat(65)}","args":{}}`, id: null },
  { label: 'an extra key', data: '{"id":14,"method":"capabilities","args":{},"admin":true}', id: null },
  { label: 'own __proto__', data: '{"id":15,"method":"capabilities","args":{},"__proto__":{"admin":true}}', id: null },
  ...['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'memscope:capabilities', 'CAPABILITIES', ' capabilities']
    .map((m, i) => ({ label: `method ${JSON.stringify(m)}`, data: JSON.stringify({ id: 20 + i, method: m, args: {} }), id: 20 + i })),
  { label: 'no args', data: '{"id":30,"method":"capabilities"}', id: 30 },
  { label: 'id 0', data: '{"id":0,"method":"capabilities","args":{}}', id: 0, method: 'capabilities' },
  { label: `id ${Number.MAX_SAFE_INTEGER}`, data: `{"id":${Number.MAX_SAFE_INTEGER},"method":"capabilities","args":{}}`, id: Number.MAX_SAFE_INTEGER, method: 'capabilities' },
  { label: 'nested 100,000 deep (frame)', data: '['.repeat(100_000) + ']'.repeat(100_000), id: null },
  { label: 'nested 100,000 deep (args)', data: `{"id":31,"method":"openSession","args":${'{"path":'.repeat(100_000)}"x"${'}'.repeat(100_000)}}`, id: 31 },
  { label: '16 MiB string argument', data: `{"id":32,"method":"openSession","args":{"path":"${'a'.repeat(16 * MIB)}"}}`, id: 32 },
  { label: '16 MiB of spaces', data: ' '.repeat(16 * MIB), id: null },
  { label: 'two frames in one', data: '{"id":33,"method":"capabilities","args":{}}{"id":34,"method":"capabilities","args":{}}', id: null },
];

it('malformed frames: an answer under their id or {id: null}, never an echo, the socket stays open', async () => {
  const stats = newStats('bridge-frames');
  const cases: (FuzzCase & { frame: Frame })[] = FRAMES.map((frame) => ({ method: frame.method ?? '(frame)', family: 'frame', label: frame.label, args: null, frame }));
  await runCases(stats, cases, async (c) => {
    const answer = await client.sendRaw(c.frame.data, c.frame.id, c.frame.binary);
    const text = JSON.stringify(answer);
    if (text.length > 1024) return { ok: true, value: `answer of ${text.length} characters echoes the frame` }; // held as a problem below
    return answer;
  });
  console.log(summary(stats));
  expect(stats.problems).toEqual([]);
  expect(client.ws.readyState).toBe(WebSocket.OPEN);
  expect(await client.request('capabilities', {})).toMatchObject({ ok: true, value: { host: 'bridge' } });
}, 120_000);

it('frames that break the WebSocket close only their own connection; the next one is served', async () => {
  const breakers: { label: string; send: (ws: WebSocket) => void; code: number }[] = [
    { label: `a frame over ${MAX_CLIENT_FRAME_BYTES} bytes`, send: (ws) => ws.send(Buffer.alloc(MAX_CLIENT_FRAME_BYTES + 1, 0x20), { binary: false }), code: 1009 },
    { label: 'text that is not UTF-8', send: (ws) => ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false }), code: 1007 },
  ];
  for (const b of breakers) {
    const c = await Client.connect(bridge);
    b.send(c.ws);
    await expect.poll(() => c.closeCode, { timeout: 10_000 }).toBe(b.code);
    const next = await Client.connect(bridge);
    expect(await next.request('capabilities', {}), b.label).toMatchObject({ ok: true });
    next.ws.close();
  }
  expect(await client.request('capabilities', {})).toMatchObject({ ok: true });
  console.log(`  bridge-breakers ${breakers.length} frames: each closed its own connection (${breakers.map((b) => b.code).join(', ')}), the server answered the next`);
}, 60_000);
