/**
 * Export parity: the app's Export (the contract service's exportTable, keys null) is byte for byte
 * what `memscope <table> <image> --format csv|json` prints, for psxview, pslist, psscan and the
 * per-process DirBase table, on sample images of two builds and two formats. With keys, exactly
 * those rows in that order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capabilities, Envelope, RunEvent, SessionInfo } from '../../common/contract.js';
import { buildSample } from '../engine/sample/index.js';
import { createContractService } from '../service/service.js';
import type { ContractService } from '../service/types.js';
import { runCli } from './main.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-parity-'));
const images: string[] = [];
const caps: Capabilities = { host: 'bridge', nativeDialogs: false, live: { available: false, reason: 'tests' }, initialImage: null, sampleImage: null };
let service: ContractService;
const events: RunEvent[] = [];

beforeAll(async () => {
  for (const [build, format, seed] of [['19041', 'raw', 61], ['17763', 'crashdump', 62]] as const) {
    const path = join(dir, `s${build}.${format}`);
    await buildSample({ build, format, out: path, sizeMiB: 64, seed, processes: 5 });
    images.push(path);
  }
  service = createContractService({ capabilities: () => caps }, { session: { workers: 2 } });
  service.onEvent((e) => events.push(e));
}, 120_000);
afterAll(async () => {
  await service.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const value = <T>(e: Envelope<unknown>): T => {
  if (!e.ok) throw new Error(`${e.error.code}: ${e.error.message}`);
  return e.value as T;
};

async function cli(args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  expect(err).toBe('');
  expect(code).toBe(0);
  return out;
}

async function run(sessionId: string, plugin: 'psxview' | 'pslist' | 'psscan' | 'dtb'): Promise<void> {
  const { runId } = value<{ runId: string }>(await service.handle('startRun', { sessionId, request: { plugin } }));
  const done = await new Promise<RunEvent>((resolve) => {
    const hit = () => events.find((e) => e.type === 'done' && e.runId === runId);
    const off = service.onEvent(() => { const d = hit(); if (d) { off(); resolve(d); } });
    const d = hit();
    if (d) { off(); resolve(d); }
  });
  if (done.type !== 'done' || done.outcome !== 'completed') throw new Error(`${plugin} run did not complete: ${JSON.stringify(done)}`);
}

const exported = async (sessionId: string, table: string, format: string, keys: string[] | null) =>
  value<{ kind: string; text: string }>(await service.handle('exportTable', { sessionId, table, format, keys })).text;

describe.each([0, 1])('export parity on sample %i', (i) => {
  let sessionId = '';
  beforeAll(async () => {
    sessionId = value<SessionInfo>(await service.handle('openSession', { path: images[i]! })).sessionId;
    for (const p of ['psxview', 'pslist', 'psscan', 'dtb'] as const) await run(sessionId, p);
  });

  it.each(['csv', 'json'])('psxview, pslist and psscan --format %s: the same bytes as the CLI', async (format) => {
    for (const table of ['psxview', 'pslist', 'psscan']) {
      const app = await exported(sessionId, table, format, null);
      expect(app.length).toBeGreaterThan(100);
      expect(app, `${table} ${format}`).toBe(await cli([table, images[i]!, '--format', format]));
    }
  });

  it('the DirBase table: the same bytes as `memscope dtb --processes --format csv`', async () => {
    expect(await exported(sessionId, 'dtb', 'csv', null)).toBe(await cli(['dtb', images[i]!, '--processes', '--format', 'csv']));
  });

  it('with keys: exactly those rows, in that order', async () => {
    const all = JSON.parse(await exported(sessionId, 'psxview', 'json', null)) as { offset: string | null; pid: number }[];
    const keyed = all.filter((r) => r.offset !== null).map((r) => r.offset!);
    const shown = [...keyed].reverse().slice(0, 3);
    const some = JSON.parse(await exported(sessionId, 'psxview', 'json', shown)) as { offset: string }[];
    expect(some.map((r) => r.offset)).toEqual(shown);
    const csv = await exported(sessionId, 'psxview', 'csv', shown);
    expect(csv.trim().split('\r\n')).toHaveLength(shown.length + 1);
    expect(csv.split('\r\n')[0]).toBe((await cli(['psxview', images[i]!, '--format', 'csv'])).split('\r\n')[0]);
  });
});

describe('a cancelled psxview', () => {
  it('exports what the CLI writes for a cancelled run: unchecked sources empty, never false, and the rows they decide `unchecked`', async () => {
    const image = images[0]!;
    const { sessionId } = value<SessionInfo>(await service.handle('openSession', { path: image }));
    // cancelled at once: the active list is walked (its rows are final), nothing else is checked
    const { runId } = value<{ runId: string }>(await service.handle('startRun', { sessionId, request: { plugin: 'psxview' } }));
    value(await service.handle('cancelRun', { runId }));
    await expect.poll(() => events.find((e) => e.type === 'done' && e.runId === runId)).toMatchObject({ outcome: 'cancelled' });

    const cancelled = AbortSignal.abort();
    for (const format of ['csv', 'json'] as const) {
      let out = '';
      let err = '';
      const code = await runCli(['psxview', image, '--format', format], { out: (t) => { out += t; }, err: (t) => { err += t; }, signal: cancelled });
      expect(code).toBe(1);
      expect(err).toMatch(/^memscope: psxview cancelled: the \d+ rows found so far were written; sources it did not get to check are left empty/);
      expect(await exported(sessionId, 'psxview', format, null), format).toBe(out);
    }
    const rows = JSON.parse(await exported(sessionId, 'psxview', 'json', null)) as { pslist: boolean | null; psscan: boolean | null; status: string; verdict: string }[];
    expect(rows.length).toBeGreaterThan(5);
    for (const r of rows) {
      expect(r.pslist).toBe(true);
      expect(r.psscan).toBeNull(); // before: false ("not seen") for a source never checked
      expect(r.status).toBe('unchecked');
      expect(r.verdict).toBe('unchecked: on the active list; not checked (scan cancelled): psscan, thrdscan, cidtable, csrss, session');
    }
    const csv = await exported(sessionId, 'psxview', 'csv', null);
    expect(csv.split('\r\n')[1]).toMatch(/^0x[0-9a-f]+,4,System,true,,,,,,,"unchecked: on the active list; not checked \(scan cancelled\): psscan, thrdscan, cidtable, csrss, session",unchecked,0,,/);
  });
});
