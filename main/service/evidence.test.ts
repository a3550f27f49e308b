/**
 * exportEvidence through the contract: a live session (the simulated WinPmem device) writes its
 * bundle from the session already open — its tables are then this session's kept runs, which
 * exportTable serves without running anything — with the live provenance and the driver's SHA-256
 * the host knows; into the folder the caller names (absolute, new or empty; only where the host lets
 * callers name one), else a new folder under $MEMSCOPE_HOME/evidence/. A folder that is not empty is
 * refused, naming it.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capabilities, Envelope, EvidenceResult, ExportResult, SessionInfo } from '../../common/contract.js';
import type { Manifest } from '../engine/evidence/manifest.js';
import { verifyBundle } from '../engine/evidence/verify.js';
import { buildSample, type GroundTruth } from '../engine/sample/index.js';
import { simulatedLiveHost } from '../../native/winpmem/live-host.js';
import { createContractService } from './service.js';
import type { ContractService } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-svc-ev-'));
const home = join(dir, 'home');
const image = join(dir, 'img', 'live.raw');
const driverSha256 = 'cd'.repeat(32);
let truth: GroundTruth;
let service: ContractService;
const savedHome = process.env['MEMSCOPE_HOME'];

const ok = <T>(r: Envelope<unknown>): T => {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value as T;
};

beforeAll(async () => {
  mkdirSync(join(dir, 'img'));
  truth = await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 5, processes: 3 });
  process.env['MEMSCOPE_HOME'] = home;
  const parts = simulatedLiveHost(image, '0.0.0-test');
  const caps: Capabilities = { host: 'bridge', nativeDialogs: false, live: { available: true, reason: parts.reason }, initialImage: null, sampleImage: null };
  service = createContractService({ capabilities: () => caps, namedEvidenceFolder: true, liveRef: parts.liveRef, acquire: { tool: parts.acquire.tool, driverSha256: () => driverSha256 } });
}, 120_000);
afterAll(async () => {
  await service?.dispose();
  if (savedHome === undefined) delete process.env['MEMSCOPE_HOME'];
  else process.env['MEMSCOPE_HOME'] = savedHome;
  rmSync(dir, { recursive: true, force: true });
});

describe('exportEvidence on a live session', () => {
  it('writes the bundle from the open session: verified, live provenance, the host folder by default', async () => {
    const info = ok<SessionInfo>(await service.handle('openLive', {}));
    expect(info.source.live).toBe(true);
    const r = ok<EvidenceResult>(await service.handle('exportEvidence', { sessionId: info.sessionId }));
    expect(r.dir.startsWith(join(home, 'evidence', `simulated-live-${basename(image)}-`))).toBe(true);
    expect(r).toMatchObject({ files: 14, complete: true, imageSha256: null, sha256From: expect.stringMatching(/^none: live memory changes while it is read/) });
    expect(await verifyBundle(r.dir)).toMatchObject({ ok: true, verified: 13, problems: [] });

    const m = JSON.parse(readFileSync(join(r.dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(m.source).toMatchObject({ kind: 'live', sha256: null, format: 'winpmem' });
    expect(m.source.live).toMatchObject({ simulated: true, simulatedImage: image, driver: { path: null, sha256: driverSha256 }, getInfo: { build: 19041, kernelBase: truth.kernelBase, addressSpaceEnd: truth.sizeBytes, physicalMemorySize: truth.runs.reduce((n, r) => n + Number(r.length), 0) } });
    expect(m.time?.captureTime).toBe(truth.captureTime);

    // the bundle ran its tables in this session (no second open of the device): exportTable serves them as kept
    for (const table of ['psxview', 'pslist', 'psscan'] as const) {
      const t = ok<ExportResult>(await service.handle('exportTable', { sessionId: info.sessionId, table, format: 'csv', keys: null }));
      expect(t.kind === 'download' ? t.text : null, table).toBe(readFileSync(join(r.dir, `${table}.csv`), 'utf8'));
    }
    await service.handle('closeSession', { sessionId: info.sessionId });
  }, 120_000);

  it('into the folder named; a folder that is not empty is refused and left as it was', async () => {
    const info = ok<SessionInfo>(await service.handle('openLive', {}));
    try {
      const chosen = join(dir, 'chosen', 'case-42');
      const r = ok<EvidenceResult>(await service.handle('exportEvidence', { sessionId: info.sessionId, out: chosen }));
      expect(r.dir).toBe(chosen);
      expect((await verifyBundle(chosen)).ok).toBe(true);

      const full = join(dir, 'full');
      mkdirSync(full);
      writeFileSync(join(full, 'mine.txt'), 'keep');
      const refused = await service.handle('exportEvidence', { sessionId: info.sessionId, out: full });
      expect(refused).toMatchObject({ ok: false, error: { message: expect.stringMatching(/full is not empty \(1 entries\)/) } });
      expect(readFileSync(join(full, 'mine.txt'), 'utf8')).toBe('keep');
      expect(await service.handle('exportEvidence', { sessionId: info.sessionId, out: 'relative/dir' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    } finally {
      await service.handle('closeSession', { sessionId: info.sessionId });
    }
  }, 120_000);

  it('a host that does not let callers name the folder refuses `out` before writing anything', async () => {
    const closed = createContractService({ capabilities: () => ({ host: 'bridge', nativeDialogs: false, live: { available: false, reason: '' }, initialImage: null, sampleImage: null }) });
    try {
      const info = ok<SessionInfo>(await closed.handle('openSession', { path: image }));
      const named = join(dir, 'not-allowed');
      expect(await closed.handle('exportEvidence', { sessionId: info.sessionId, out: named })).toMatchObject({ ok: false, error: { code: 'unsupported', message: expect.stringMatching(/chooses the evidence folder itself/) } });
      expect(existsSync(named)).toBe(false);
    } finally {
      await closed.dispose();
    }
  }, 60_000);
});
