/**
 * Deterministic fuzz of the bridge's frames over a real socket: random text, random JSON and
 * near-valid frames (real method names, random arguments) each get exactly one answer — an envelope
 * with a contract error code, or ok — and the socket stays open and usable after all of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ERROR_CODES, METHODS, type ServerFrame } from '../../common/contract.js';
import { Prng } from '../engine/util/testing/fuzz.js';
import { createContractService } from '../service/service.js';
import type { ContractService } from '../service/types.js';
import { bridgeHost } from './host.js';
import { startBridge, type Bridge } from './server.js';

const SEED = 0x5eed;
const ITERATIONS = 600;
const dir = mkdtempSync(join(tmpdir(), 'memscope-bridge-fuzz-'));
let service: ContractService;
let bridge: Bridge;

beforeAll(async () => {
  service = createContractService(bridgeHost({ initialImage: null, sampleImage: null }));
  bridge = await startBridge({ service, staticDir: dir });
});
afterAll(async () => {
  await bridge.close();
  await service.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function randomJson(rng: Prng, depth = 0): unknown {
  const k = rng.int(0, depth > 2 ? 5 : 8);
  switch (k) {
    case 0: return null;
    case 1: return rng.bool();
    case 2: return rng.int(-1e9, 1e9) / (rng.bool() ? 1 : 7);
    case 3: return ['', 'x', '0x10', '_EPROCESS', '../../etc/passwd', 'psxview', 'a'.repeat(rng.int(0, 300)), '\u0000', '__proto__'][rng.int(0, 8)];
    case 4: return rng.int(0, 2 ** 31);
    case 5: return String.fromCharCode(...Array.from({ length: rng.int(0, 12) }, () => rng.int(0, 0xffff)));
    case 6: return Array.from({ length: rng.int(0, 4) }, () => randomJson(rng, depth + 1));
    default: {
      const keys = ['path', 'sessionId', 'runId', 'request', 'plugin', 'type', 'address', 'space', 'table', 'format', 'keys', '__proto__', 'constructor'];
      const o: Record<string, unknown> = {};
      for (let i = rng.int(0, 4); i > 0; i--) o[keys[rng.int(0, keys.length - 1)]!] = randomJson(rng, depth + 1);
      return o;
    }
  }
}

function randomFrame(rng: Prng, id: number): string {
  switch (rng.int(0, 3)) {
    case 0: return String.fromCharCode(...Array.from({ length: rng.int(0, 40) }, () => rng.int(0, 0x7f)));
    case 1: return JSON.stringify(randomJson(rng));
    default: {
      const method = rng.bool(0.8) ? METHODS[rng.int(0, METHODS.length - 1)]! : String(randomJson(rng));
      // openSession paths are random values: at most a read-only open that fails with a typed error
      return JSON.stringify({ id, method, args: method === 'openSession' ? { path: randomJson(rng) } : randomJson(rng) });
    }
  }
}

it(`${ITERATIONS} random frames: one typed answer each, the socket stays usable`, async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}/ws?token=${bridge.token}`, { origin: `http://127.0.0.1:${bridge.port}` });
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const frames: ServerFrame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as ServerFrame));
  const rng = new Prng(SEED);
  for (let i = 1; i <= ITERATIONS; i++) ws.send(randomFrame(rng, i));
  ws.send(JSON.stringify({ id: ITERATIONS + 1, method: 'capabilities', args: {} }));
  await expect.poll(() => frames.some((f) => 'id' in f && f.id === ITERATIONS + 1), { timeout: 20_000 }).toBe(true);
  expect(ws.readyState).toBe(WebSocket.OPEN);
  const answers = frames.filter((f): f is Exclude<ServerFrame, { event: unknown }> => 'response' in f);
  expect(answers).toHaveLength(ITERATIONS + 1);
  for (const f of answers) {
    if (f.response.ok) continue;
    expect(ERROR_CODES).toContain(f.response.error.code);
    expect(f.response.error.code).not.toBe('internal');
    expect(f.response.error.message.length).toBeGreaterThan(0);
    expect(f.response.error.message).not.toContain('\n');
  }
  expect(answers.find((f) => f.id === ITERATIONS + 1)).toMatchObject({ response: { ok: true, value: { host: 'bridge' } } });
  ws.close();
});
