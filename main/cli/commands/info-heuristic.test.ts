/**
 * `memscope info --heuristic-profile`: discovery skips every known profile, derives one from memory
 * and says so (profileSource "heuristic", confidence, per-field evidence).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSample } from '../../engine/sample/index.js';
import { sharedIsfDir } from '../../engine/sample/profile-source.js';
import { runCli } from '../main.js';

const dir = mkdtempSync(join(tmpdir(), 'memscope-info-heur-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!sharedIsfDir())('memscope info --heuristic-profile', () => {
  it('reports profileSource "heuristic" with its confidence and evidence', async () => {
    const image = join(dir, 'h.raw');
    const truth = await buildSample({ build: '17763', format: 'raw', out: image, sizeMiB: 64, seed: 5, processes: 3 });
    let out = '';
    let err = '';
    const code = await runCli(['info', image, '--format', 'json', '--heuristic-profile'], { out: (t) => { out += t; }, err: (t) => { err += t; } });
    expect(err).toBe('');
    expect(code).toBe(0);
    const j = JSON.parse(out) as { profileSource: string; kernelBase: string; heuristicProfile: { confidence: number; evidence: Record<string, string> } };
    expect(j.profileSource).toBe('heuristic');
    expect(j.kernelBase).toBe(truth.kernelBase);
    expect(j.heuristicProfile.confidence).toBeGreaterThanOrEqual(0.9);
    expect(j.heuristicProfile.evidence['_EPROCESS.ActiveProcessLinks']).toMatch(/^0x2e8: UniqueProcessId \+ 8/);
  }, 90_000);
});
