/**
 * An open the client names (openSession's openId): its stages arrive as `open-progress` events in the
 * order discovery runs them, and cancelOpen abandons it (an error saying so, no session kept), on a real
 * sample image.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capabilities, Envelope, RunEvent, SessionInfo } from '../../common/contract.js';
import { buildSample, type GroundTruth } from '../engine/sample/index.js';
import { createContractService } from './service.js';
import type { ContractService } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-open-progress-'));
const caps: Capabilities = { host: 'bridge', nativeDialogs: false, live: { available: false, reason: 'no live memory in tests' }, initialImage: null, sampleImage: null };
let image: { path: string; truth: GroundTruth };
let service: ContractService;
const events: RunEvent[] = [];

beforeAll(async () => {
  const path = join(dir, 's19041.raw');
  image = { path, truth: await buildSample({ build: '19041', format: 'raw', out: path, sizeMiB: 64, seed: 31, processes: 4 }) };
  service = createContractService({ capabilities: () => caps }, { session: { workers: 1 } });
  service.onEvent((e) => events.push(e));
});
afterAll(async () => {
  await service.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const progressOf = (openId: string) => events.filter((e): e is Extract<RunEvent, { type: 'open-progress' }> => e.type === 'open-progress' && e.openId === openId);

describe('open progress and cancel', () => {
  it('reports each stage of the open, in order, with elapsed ms, before openSession answers', async () => {
    const r = await service.handle('openSession', { path: image.path, openId: 'open-1' }) as Envelope<SessionInfo>;
    expect(r.ok).toBe(true);
    const stages = progressOf('open-1');
    expect(stages[0]).toMatchObject({ stage: 'reading the image header', ms: expect.any(Number) });
    const names = stages.map((e) => e.stage);
    expect(names).toContain('finding the page-table base (DTB)');
    expect(names).toContain('resolving the kernel profile');
    expect(names.indexOf('finding the page-table base (DTB)')).toBeLessThan(names.indexOf('resolving the kernel profile'));
    // one event per change of stage, never the same stage twice in a row
    expect(names.every((n, i) => i === 0 || n !== names[i - 1])).toBe(true);
    expect(stages.map((e) => e.ms)).toEqual([...stages.map((e) => e.ms)].sort((a, b) => a - b));
    // an open without an openId sends no progress (the CLI's and older clients' way)
    const before = events.length;
    const plain = await service.handle('openSession', { path: image.path }) as Envelope<SessionInfo>;
    expect(plain.ok).toBe(true);
    expect(events.slice(before).filter((e) => e.type === 'open-progress')).toEqual([]);
    for (const x of [r, plain]) if (x.ok) await service.handle('closeSession', { sessionId: x.value.sessionId });
  });

  it('cancelOpen abandons the open: it answers that it was cancelled and keeps no session', async () => {
    let cancel: Promise<Envelope<unknown>> | null = null;
    const off = service.onEvent((e) => {
      if (e.type === 'open-progress' && e.openId === 'open-2' && e.stage === 'finding the page-table base (DTB)' && !cancel) cancel = service.handle('cancelOpen', { openId: 'open-2' });
    });
    const r = await service.handle('openSession', { path: image.path, openId: 'open-2' });
    off();
    expect(cancel).not.toBeNull();
    expect(await cancel!).toEqual({ ok: true, value: {} });
    expect(r).toEqual({ ok: false, error: { code: 'analysis', message: 'the open was cancelled; nothing was kept' } });
    // finished opens cannot be cancelled; ids are validated like every other argument
    expect(await service.handle('cancelOpen', { openId: 'open-2' })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await service.handle('cancelOpen', { openId: '../x' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await service.handle('openSession', { path: image.path, openId: 'a b' })).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringContaining('openId') } });
    // the same image opens again afterwards
    const again = await service.handle('openSession', { path: image.path, openId: 'open-3' }) as Envelope<SessionInfo>;
    expect(again.ok).toBe(true);
    if (again.ok) expect(again.value.kernel.kernelBase).toBe(image.truth.kernelBase);
  });

  it('an openId in flight is its connection\'s: reused by it, refused as in flight; by another, refused as another connection\'s; the open goes on undisturbed', async () => {
    const a = service.connect();
    const b = service.connect();
    const seen = { a: [] as RunEvent[], b: [] as RunEvent[] };
    a.onEvent((e) => seen.a.push(e));
    b.onEvent((e) => seen.b.push(e));
    let reuse: Promise<Envelope<unknown>[]> | null = null;
    const off = a.onEvent((e) => {
      if (e.type !== 'open-progress' || e.openId !== 'open-4' || reuse) return;
      reuse = Promise.all([
        a.handle('openSession', { path: image.path, openId: 'open-4' }),
        b.handle('openSession', { path: image.path, openId: 'open-4' }),
        b.handle('cancelOpen', { openId: 'open-4' }), // another connection's open is, to this one, not there
      ]);
    });
    try {
      const first = await a.handle('openSession', { path: image.path, openId: 'open-4' }) as Envelope<SessionInfo>;
      off();
      expect(reuse).not.toBeNull();
      const [same, other, cancel] = await reuse!;
      expect(same).toEqual({ ok: false, error: { code: 'invalid-request', message: 'an open open-4 is already in flight' } });
      expect(other).toEqual({ ok: false, error: { code: 'invalid-request', message: 'open open-4 belongs to another connection: name this open with another openId' } });
      expect(cancel).toEqual({ ok: false, error: { code: 'not-found', message: 'no open open-4 in flight (it finished or was never started)' } });
      // the first open completed, its every stage went to its own connection, none to the other
      expect(first.ok).toBe(true);
      const stages = seen.a.filter((e) => e.type === 'open-progress' && e.openId === 'open-4').map((e) => (e as { stage: string }).stage);
      expect(stages).toEqual(progressOf('open-4').map((e) => e.stage));
      expect(stages).toContain('resolving the kernel profile');
      expect(seen.b).toEqual([]);
      expect(a.sessionCount()).toBe(1);
      expect(b.sessionCount()).toBe(0);
      // once it is done, the id is free for anyone
      const later = await b.handle('openSession', { path: image.path, openId: 'open-4' });
      expect(later.ok).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
