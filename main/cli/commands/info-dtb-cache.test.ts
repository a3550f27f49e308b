/**
 * `memscope info` and `memscope dtb --format json` on a sample crash dump (engine sample builder,
 * build 19041), with the profile served from the user cache (MEMSCOPE_HOME) and no bundled set:
 * what they print equals the builder's ground truth. (Moved here from the engine's discovery suite:
 * no engine test imports the CLI.)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guidAgeKey } from '../../engine/profile/model.js';
import { cachedProfilePath, encodeProfile } from '../../engine/profile/symbol-server/cache.js';
import { buildSample, type GroundTruth } from '../../engine/sample/index.js';
import { isfProvider } from '../../engine/windows/discovery/testing/isf-providers.js';
import { runCli } from '../main.js';

let dir: string;
let path: string;
let truth: GroundTruth;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memscope-info-dtb-'));
  path = join(dir, '19041-crashdump.img');
  truth = await buildSample({ build: '19041', format: 'crashdump', out: path, sizeMiB: 64, seed: 32, lowStub: false, selfRefIndex: 0x1ed, kernelBase: 0xfffff8016a600000n });
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('info and dtb on a crash dump, profile from the user cache', () => {
  it('memscope info --format json and memscope dtb --format json report the truth', async () => {
    const home = join(dir, 'home');
    const profile = await isfProvider(truth.pdb);
    const cachePath = cachedProfilePath(home, truth.pdb.name, guidAgeKey(truth.pdb));
    mkdirSync(join(cachePath, '..'), { recursive: true });
    writeFileSync(cachePath, encodeProfile(profile!.data));
    const before = process.env.MEMSCOPE_HOME;
    const beforeBundled = process.env.MEMSCOPE_BUNDLED_PROFILES;
    process.env.MEMSCOPE_HOME = home;
    // no bundled set, so the profile must come from the user cache seeded above
    process.env.MEMSCOPE_BUNDLED_PROFILES = join(dir, 'no-bundled-profiles');
    try {
      let out = '';
      const io = { out: (t: string) => { out += t; }, err: (t: string) => { out += t; } };
      expect(await runCli(['info', path, '--format', 'json'], io)).toBe(0);
      const info = JSON.parse(out) as Record<string, unknown>;
      expect(info).toMatchObject({
        kernelBase: truth.kernelBase, dtb: truth.pml4, dtbRaw: truth.dtb, build: truth.buildNumber,
        pdb: truth.pdb, profileSource: 'cache',
      });
      expect(typeof info.dtbMethod).toBe('string');
      expect(Object.keys(info.timings as object)).toEqual(expect.arrayContaining(['dtb', 'kernelBase', 'profile', 'total']));
      out = '';
      expect(await runCli(['dtb', path, '--format', 'json'], io)).toBe(0);
      const doc = JSON.parse(out) as { accepted: { dtb: string }; candidates: { method: string; status: string; evidence: string[] }[] };
      expect(doc.accepted.dtb).toBe(truth.pml4);
      const methods = new Set(doc.candidates.map((x) => x.method));
      for (const m of ['source-cr3', 'selfref-pml4', 'system-process']) expect(methods).toContain(m);
      expect(doc.candidates.every((x) => x.evidence.length > 0)).toBe(true);
    } finally {
      if (before === undefined) delete process.env.MEMSCOPE_HOME;
      else process.env.MEMSCOPE_HOME = before;
      if (beforeBundled === undefined) delete process.env.MEMSCOPE_BUNDLED_PROFILES;
      else process.env.MEMSCOPE_BUNDLED_PROFILES = beforeBundled;
    }
  });
});
