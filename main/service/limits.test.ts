/**
 * The service's ownership and limits, on real sample images: a session belongs to the connection
 * that opened it (another connection cannot see, run, export or close it, and gets no events of its
 * runs); closing a connection cancels its runs, closes its sessions and ends their scan workers;
 * sessions are capped per connection and in all (a typed `limit` error naming the cap, concurrent
 * opens included); finished runs are pruned; an export de-duplicates its keys, is built in chunks
 * that yield to the event loop, and is capped in size with a typed error that says how to export
 * instead.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capabilities, Envelope, RunEvent, SessionInfo } from '../../common/contract.js';
import { buildSample } from '../engine/sample/index.js';
import { exportTooLarge } from './export.js';
import { DEFAULT_LIMITS } from './limits.js';
import { createContractService } from './service.js';
import type { ContractService, ServiceConnection } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-limits-'));
let image = '';
const caps: Capabilities = { host: 'bridge', nativeDialogs: false, live: { available: false, reason: 'no live memory in tests' }, initialImage: null, sampleImage: null };
const host = { capabilities: () => caps };

beforeAll(async () => {
  image = join(dir, 's19041.raw');
  await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 31, processes: 6 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ok = <T>(e: Envelope<unknown>): T => {
  if (!e.ok) throw new Error(`expected ok, got ${e.error.code}: ${e.error.message}`);
  return e.value as T;
};

/** Run a plugin on a connection to its end; the connection's own events. */
async function runToEnd(c: Pick<ServiceConnection, 'handle' | 'onEvent'>, sessionId: string, plugin: 'pslist' | 'psscan' | 'psxview'): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  const off = c.onEvent((e) => events.push(e));
  try {
    const { runId } = ok<{ runId: string }>(await c.handle('startRun', { sessionId, request: { plugin } }));
    await until(() => events.some((e) => e.type === 'done' && e.runId === runId), `run ${runId} to end`);
    return events.filter((e) => e.runId === runId);
  } finally {
    off();
  }
}

/** Wait for `cond` (beforeAll cannot use expect.poll). */
async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** File descriptors of this process open on `path` (the session's source and each scan worker's). */
const fdsOn = (path: string): number => readdirSync('/proc/self/fd').filter((fd) => {
  try { return readlinkSync(`/proc/self/fd/${fd}`) === path; } catch { return false; }
}).length;
const threads = (): number => readdirSync('/proc/self/task').length;

describe('sessions belong to their connection', () => {
  let service: ContractService;
  beforeAll(() => { service = createContractService(host, { session: { workers: 2 } }); });
  afterAll(() => service.dispose());

  it('another connection cannot use, export or close a session, and gets none of its run events', async () => {
    const a = service.connect();
    const b = service.connect();
    const bEvents: RunEvent[] = [];
    b.onEvent((e) => bEvents.push(e));
    try {
      const info = ok<SessionInfo>(await a.handle('openSession', { path: image }));
      const notFound = { ok: false, error: { code: 'not-found', message: `no open session ${info.sessionId} (it was closed or never opened)` } };
      expect(await b.handle('startRun', { sessionId: info.sessionId, request: { plugin: 'pslist' } })).toEqual(notFound);
      expect(await b.handle('exportTable', { sessionId: info.sessionId, table: 'pslist', format: 'csv', keys: null })).toEqual(notFound);
      expect(await b.handle('closeSession', { sessionId: info.sessionId })).toEqual(notFound);
      const mine = await runToEnd(a, info.sessionId, 'psxview');
      expect(mine.at(-1)).toMatchObject({ type: 'done', outcome: 'completed' });
      expect(mine.filter((e) => e.type === 'row').length).toBeGreaterThan(0);
      expect(bEvents).toEqual([]);
      expect(await b.handle('cancelRun', { runId: mine[0]!.runId })).toMatchObject({ ok: false, error: { code: 'not-found' } });
      expect(a.sessionCount()).toBe(1);
      expect(b.sessionCount()).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('closing the connection cancels its runs, closes its sessions and ends their scan workers', async () => {
    const fdsBefore = fdsOn(image);
    const threadsBefore = threads();
    const c = service.connect();
    const s1 = ok<SessionInfo>(await c.handle('openSession', { path: image }));
    const s2 = ok<SessionInfo>(await c.handle('openSession', { path: image }));
    expect(service.stats().sessions).toBe(2);
    const all: RunEvent[] = [];
    const offAll = service.onEvent((e) => all.push(e));
    const { runId } = ok<{ runId: string }>(await c.handle('startRun', { sessionId: s1.sessionId, request: { plugin: 'psscan' } }));
    await expect.poll(() => all.some((e) => e.runId === runId && e.type === 'progress' && e.bytesDone > 0), { timeout: 30_000 }).toBe(true);
    expect(fdsOn(image)).toBeGreaterThan(fdsBefore + 2); // each session's source, and the scanning workers' own opens
    await c.close();
    offAll();
    expect(service.stats()).toMatchObject({ sessions: 0, runsInFlight: 0 });
    expect(c.sessionCount()).toBe(0);
    expect(all.filter((e) => e.runId === runId && e.type === 'done')).toHaveLength(1);
    expect(fdsOn(image)).toBe(fdsBefore);
    await expect.poll(threads, { timeout: 10_000 }).toBeLessThanOrEqual(threadsBefore);
    expect(await service.handle('closeSession', { sessionId: s2.sessionId })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await c.handle('capabilities', {})).toMatchObject({ ok: false, error: { code: 'unsupported', message: 'this connection is closed' } });
  });

  it('a session whose open finishes after its connection closed is closed at once', async () => {
    const c = service.connect();
    const opening = c.handle('openSession', { path: image });
    await c.close();
    expect(await opening).toMatchObject({ ok: false, error: { code: 'unsupported', message: 'this connection is closed' } });
    expect(service.stats().sessions).toBe(0);
  });
});

describe('session caps', () => {
  it('per connection and in all, typed `limit` naming the cap; concurrent opens cannot slip past', async () => {
    const service = createContractService(host, { session: { workers: 1 }, limits: { sessionsPerConnection: 2, sessions: 3 } });
    try {
      const a = service.connect();
      const b = service.connect();
      const burst = await Promise.all([1, 2, 3].map(() => a.handle('openSession', { path: image })));
      expect(burst.filter((r) => r.ok)).toHaveLength(2);
      expect(burst.filter((r) => !r.ok)).toEqual([{ ok: false, error: { code: 'limit', message: 'at most 2 sessions may be open per connection: close one (or reload the page) before opening another' } }]);
      const b1 = ok<SessionInfo>(await b.handle('openSession', { path: image }));
      expect(await b.handle('openSession', { path: image })).toEqual({ ok: false, error: { code: 'limit', message: 'at most 3 sessions may be open at once on this server: close one before opening another' } });
      ok(await b.handle('closeSession', { sessionId: b1.sessionId }));
      ok<SessionInfo>(await b.handle('openSession', { path: image }));
      expect(service.stats().sessions).toBe(3);
    } finally {
      await service.dispose();
    }
  });

  it(`the default cap: ${DEFAULT_LIMITS.sessionsPerConnection} sessions per connection`, async () => {
    const service = createContractService(host, { session: { workers: 1 } });
    try {
      const c = service.connect();
      for (let i = 0; i < DEFAULT_LIMITS.sessionsPerConnection; i++) ok<SessionInfo>(await c.handle('openSession', { path: image }));
      expect(await c.handle('openSession', { path: image })).toMatchObject({ ok: false, error: { code: 'limit', message: expect.stringMatching(`^at most ${DEFAULT_LIMITS.sessionsPerConnection} sessions may be open per connection`) } });
      expect(DEFAULT_LIMITS.sessions).toBeGreaterThanOrEqual(DEFAULT_LIMITS.sessionsPerConnection);
    } finally {
      await service.dispose();
    }
  });
});

describe('runs', () => {
  it('finished runs are pruned: a recent one cancels harmlessly, a forgotten one is not-found', async () => {
    const service = createContractService(host, { session: { workers: 1 }, limits: { finishedRuns: 2 } });
    try {
      const c = service.connect();
      const info = ok<SessionInfo>(await c.handle('openSession', { path: image }));
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await runToEnd(c, info.sessionId, 'pslist'))[0]!.runId!);
      expect(service.stats()).toMatchObject({ runsInFlight: 0, runsRemembered: 2 });
      expect(await c.handle('cancelRun', { runId: ids[3] })).toEqual({ ok: true, value: {} });
      expect(await c.handle('cancelRun', { runId: ids[0] })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    } finally {
      await service.dispose();
    }
  });
});

describe('export: de-duplicated, chunked, capped', () => {
  let service: ContractService;
  let chunked: ContractService;
  let sessionId = '';
  let keys: string[] = [];
  beforeAll(async () => {
    service = createContractService(host, { session: { workers: 1 } });
    const info = ok<SessionInfo>(await service.handle('openSession', { path: image }));
    sessionId = info.sessionId;
    keys = [...new Set((await runToEnd(service, sessionId, 'psxview')).flatMap((e) => (e.type === 'row' ? [e.key] : [])))];
    await runToEnd(service, sessionId, 'pslist');
    // the same image in a service that builds exports two rows at a time
    chunked = createContractService(host, { session: { workers: 1 }, limits: { exportChunkRows: 2 } });
  });
  afterAll(async () => { await service.dispose(); await chunked.dispose(); });

  const text = (r: Envelope<unknown>): string => ok<{ text: string }>(r).text;

  it('1,000,000 repeated keys: the answer has each row once, with no blow-up of memory or the event loop', async () => {
    const one = text(await service.handle('exportTable', { sessionId, table: 'psxview', format: 'json', keys: [keys[0]] }));
    const repeated = Array.from({ length: 1_000_000 }, (_, i) => keys[i % 2]!);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    const rssBefore = process.memoryUsage().rss;
    delay.enable();
    const json = text(await service.handle('exportTable', { sessionId, table: 'psxview', format: 'json', keys: repeated }));
    const csv = text(await service.handle('exportTable', { sessionId, table: 'psxview', format: 'csv', keys: repeated }));
    delay.disable();
    const grown = process.memoryUsage().rss - rssBefore;
    expect(JSON.parse(json)).toHaveLength(2);
    expect((JSON.parse(json) as unknown[])[0]).toEqual((JSON.parse(one) as unknown[])[0]);
    expect(csv.trim().split('\r\n')).toHaveLength(3);
    // bounds that prove no amplification (1M rows took 1-2 GB and seconds), not speed targets
    expect(grown).toBeLessThan(256 * 2 ** 20);
    expect(delay.max / 1e6).toBeLessThan(5000); // parsing 1M keys is the rest
  });

  it.each(['csv', 'json'] as const)('built in chunks, %s is byte for byte the one-piece export', async (format) => {
    const reordered = [...keys].reverse();
    for (const table of ['psxview', 'pslist'] as const) {
      const wanted = table === 'psxview' ? reordered : null;
      const whole = text(await service.handle('exportTable', { sessionId, table, format, keys: wanted }));
      // the chunked service has its own session of the same image (sessions are per service)
      const info = ok<SessionInfo>(await chunked.handle('openSession', { path: image }));
      await runToEnd(chunked, info.sessionId, table);
      expect(text(await chunked.handle('exportTable', { sessionId: info.sessionId, table, format, keys: wanted }))).toBe(whole);
      if (table === 'pslist') {
        const pslistKeys = (JSON.parse(text(await service.handle('exportTable', { sessionId, table, format: 'json', keys: null }))) as { offset: string }[]).map((r) => r.offset).reverse();
        expect(text(await chunked.handle('exportTable', { sessionId: info.sessionId, table, format, keys: pslistKeys })))
          .toBe(text(await service.handle('exportTable', { sessionId, table, format, keys: pslistKeys })));
      }
      await chunked.handle('closeSession', { sessionId: info.sessionId });
    }
  });

  it('an answer over the cap is a typed `limit` error saying how to export instead', async () => {
    const small = createContractService(host, { session: { workers: 1 }, limits: { exportChars: 1000, exportChunkRows: 2 } });
    try {
      const info = ok<SessionInfo>(await small.handle('openSession', { path: image }));
      await runToEnd(small, info.sessionId, 'psxview');
      const r = await small.handle('exportTable', { sessionId: info.sessionId, table: 'psxview', format: 'csv', keys: null });
      expect(r).toEqual({ ok: false, error: { code: 'limit', message: expect.stringMatching(/^the psxview export is over the 1000-character limit of one answer: export it with the CLI, `memscope psxview IMAGE --format csv --out FILE`, or the desktop app's Export \(saved to a file\)$/) } });
      expect((await small.handle('exportTable', { sessionId: info.sessionId, table: 'psxview', format: 'json', keys: [...keys].reverse() })))
        .toMatchObject({ ok: false, error: { code: 'limit' } });
    } finally {
      await small.dispose();
    }
  });

  it('the default cap: an answer at the cap always fits one WebSocket frame; one character over is refused', () => {
    // JSON escapes a character to at most 6 (\u00XX): the framed answer stays under V8's longest string
    expect(DEFAULT_LIMITS.exportChars * 6 + 4096).toBeLessThan(bufferConstants.MAX_STRING_LENGTH);
    expect(exportTooLarge('psxview', 'csv', 'x'.repeat(DEFAULT_LIMITS.exportChars).length, DEFAULT_LIMITS.exportChars, 'bridge')).toBeNull();
    const over = exportTooLarge('dtb', 'json', 'x'.repeat(DEFAULT_LIMITS.exportChars + 1).length, DEFAULT_LIMITS.exportChars, 'electron');
    expect(over?.code).toBe('limit');
    expect(over?.message).toBe(`the dtb export is over the ${DEFAULT_LIMITS.exportChars}-character limit of one answer: export it with the CLI, \`memscope dtb IMAGE --processes --format json --out FILE\``);
  });
});
