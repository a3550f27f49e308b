/**
 * The evidence bundle on a real sample image: every table byte for byte the CLI's, the manifest's
 * hashes and provenance true (the image's SHA-256 recomputed here, times and kernel against the
 * truth), SHA256SUMS accepted by the real `sha256sum -c`, and `verify` naming the one file changed,
 * an edited manifest and a stray file. Bad output folders are refused; a full disk or a cancel
 * half-way leaves a manifest that says incomplete; an acquisition sidecar vouches only when its size fits.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_TABLE_COMMANDS } from '../../cli/testing/bundle-tables.js';
import { cliCaptured as cli } from '../../cli/testing/captured.js';
import { buildSample, type GroundTruth } from '../sample/index.js';
import { nodeBundleFs, writeEvidenceBundle, type BundleFs } from './bundle.js';
import type { Manifest } from './manifest.js';
import { verifyBundle } from './verify.js';

const imageDir = mkdtempSync(join(tmpdir(), 'memscope-ev-img-'));
const outRoot = mkdtempSync(join(tmpdir(), 'memscope-ev-out-'));
let image = '';
let truth: GroundTruth;
let bundle = '';
beforeAll(async () => {
  image = join(imageDir, 'case.raw');
  truth = await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 31, processes: 3 });
  bundle = join(outRoot, 'bundle');
  await writeEvidenceBundle({ source: image, out: bundle, workers: 2 });
}, 120_000);
afterAll(() => {
  rmSync(imageDir, { recursive: true, force: true });
  rmSync(outRoot, { recursive: true, force: true });
});

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
const sha256sumCheck = (dir: string) => spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });

describe('evidence bundle', () => {
  it('holds every table byte for byte as the CLI writes it', async () => {
    for (const [argv, file] of BUNDLE_TABLE_COMMANDS) {
      const r = await cli(argv[0]!, image, ...argv.slice(1));
      expect(r.code).toBe(0);
      expect(readFileSync(join(bundle, file), 'utf8'), file).toBe(r.out);
    }
    const tl = await cli('timeline', image, '--format', 'timesketch-csv');
    expect(readFileSync(join(bundle, 'timeline.csv'), 'utf8')).toBe(tl.out);
  }, 120_000);

  it('the manifest lists every file with its size and SHA-256, and true provenance', () => {
    const m = manifestOf(bundle);
    expect(m.complete).toBe(true);
    const names = readdirSync(bundle).filter((n) => n !== 'manifest.json' && n !== 'SHA256SUMS').sort();
    expect(m.files.map((f) => f.path).sort()).toEqual(names);
    for (const f of m.files) {
      const bytes = readFileSync(join(bundle, f.path));
      expect(f.size).toBe(bytes.length);
      expect(f.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    expect(m.source).toMatchObject({
      kind: 'image', path: image, size: truth.sizeBytes, format: 'raw', sha256From: 'computed while the analysis ran',
      sha256: createHash('sha256').update(readFileSync(image)).digest('hex'),
    });
    expect(m.kernel).toMatchObject({ kernelBase: truth.kernelBase, build: 19041, profileSource: 'bundled' });
    expect(m.time).toMatchObject({ captureTime: truth.captureTime, bootTime: truth.bootTime });
    expect(m.tool.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(m.tool.commit).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
    expect(Date.parse(m.endTime!)).toBeGreaterThanOrEqual(Date.parse(m.startTime));
    const discovery = JSON.parse(readFileSync(join(bundle, 'discovery.json'), 'utf8')) as { candidates: { evidence: string[] }[] };
    expect(discovery.candidates.length).toBeGreaterThan(0);
    expect(discovery.candidates.every((c) => c.evidence.length > 0)).toBe(true);
  });

  it('SHA256SUMS is what the real sha256sum -c accepts; verify agrees, then names the one byte changed', async () => {
    expect(sha256sumCheck(bundle).status).toBe(0);
    expect(await verifyBundle(bundle)).toMatchObject({ ok: true, problems: [] });
    const copy = join(outRoot, 'tampered');
    execFileSync('cp', ['-r', bundle, copy]);
    const p = join(copy, 'psscan.csv');
    const b = readFileSync(p);
    b[b.length - 3] = (b[b.length - 3]! + 1) & 0xff;
    writeFileSync(p, b);
    expect(sha256sumCheck(copy).status).not.toBe(0);
    const v = await verifyBundle(copy);
    expect(v.ok).toBe(false);
    expect(v.problems).toHaveLength(1);
    expect(v.problems[0]).toMatch(/^psscan\.csv changed: its SHA-256 is [0-9a-f]{64}, SHA256SUMS says [0-9a-f]{64}$/);
    const r = await cli('verify', copy);
    expect(r.code).toBe(1);
    expect(r.err).toContain('psscan.csv changed');
    expect((await cli('verify', bundle)).out).toMatch(/^OK: .*13 files match/);
  });

  it('verify catches an edited manifest, an edited SHA256SUMS and a stray file', async () => {
    const copy = join(outRoot, 'edited');
    execFileSync('cp', ['-r', bundle, copy]);
    const m = manifestOf(copy);
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify({ ...m, user: 'someone-else' }, null, 2) + '\n');
    expect((await verifyBundle(copy)).problems).toEqual([expect.stringMatching(/^manifest\.json was edited/)]);

    const sums = join(outRoot, 'sums');
    execFileSync('cp', ['-r', bundle, sums]);
    const lines = readFileSync(join(sums, 'SHA256SUMS'), 'utf8').replace(/^[0-9a-f]{64}(  pslist\.json)$/m, `${'0'.repeat(64)}$1`);
    writeFileSync(join(sums, 'SHA256SUMS'), lines);
    const v = await verifyBundle(sums);
    expect(v.problems).toContain(`pslist.json: manifest.json and SHA256SUMS disagree on its SHA-256`);

    const stray = join(outRoot, 'stray');
    execFileSync('cp', ['-r', bundle, stray]);
    appendFileSync(join(stray, 'notes.txt'), 'x');
    expect((await verifyBundle(stray)).problems).toEqual(['notes.txt is not part of the bundle (no list names it)']);
  });

  it('refuses a non-empty folder and the image\'s own folder tree (unless asked)', async () => {
    const full = join(outRoot, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    await expect(writeEvidenceBundle({ source: image, out: full })).rejects.toThrow(/is not empty \(1 entries\)/);
    expect(readFileSync(join(full, 'keep.txt'), 'utf8')).toBe('mine');
    await expect(writeEvidenceBundle({ source: image, out: join(imageDir, 'sub', 'b') })).rejects.toThrow(/inside the image's folder/);
    const r = await cli('evidence', image, '--out', imageDir);
    expect(r.code).toBe(2);
    expect(readdirSync(imageDir).sort()).toEqual(['case.raw', 'case.raw.truth.json']);
  });

  it('a disk that fills half-way leaves a manifest saying incomplete, naming the file', async () => {
    let n = 0;
    const fs: BundleFs = {
      create: (path, text) => {
        if (!path.endsWith('.tmp') && ++n === 5) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        nodeBundleFs.create(path, text);
      },
      rename: nodeBundleFs.rename,
    };
    const out = join(outRoot, 'diskfull');
    await expect(writeEvidenceBundle({ source: image, out, fs, workers: 1 })).rejects.toThrow(/psscan\.csv: ENOSPC/);
    const m = manifestOf(out);
    expect(m.complete).toBe(false);
    expect(m.incompleteReason).toMatch(/psscan\.csv: ENOSPC/);
    expect(m.files.map((f) => f.path)).toEqual(['psxview.csv', 'psxview.json', 'pslist.csv', 'pslist.json']);
    const v = await verifyBundle(out);
    expect(v.ok).toBe(false);
    expect(v.problems).toContain('SHA256SUMS is missing: nothing to check the files against');
    expect(v.problems.some((p) => p.startsWith('manifest.json says the bundle is incomplete'))).toBe(true);
  }, 60_000);

  it('a cancel half-way is marked incomplete too', async () => {
    const controller = new AbortController();
    const out = join(outRoot, 'cancelled');
    const p = writeEvidenceBundle({ source: image, out, signal: controller.signal, workers: 1, onStage: (s) => { if (s === 'pslist') controller.abort(); } });
    await expect(p).rejects.toThrow(/cancelled/);
    expect(manifestOf(out)).toMatchObject({ complete: false, incompleteReason: expect.stringMatching(/cancelled/) });
  }, 60_000);

  it('an acquisition sidecar vouches for the image hash only when its size fits', async () => {
    const img2Dir = mkdtempSync(join(tmpdir(), 'memscope-ev-side-'));
    try {
      const img2 = join(img2Dir, 'acq.raw');
      execFileSync('cp', [image, img2]);
      const claimed = 'ab'.repeat(32);
      writeFileSync(`${img2}.json`, JSON.stringify({ sha256: claimed, size: truth.sizeBytes, startTime: truth.captureTime, endTime: truth.captureTime }));
      const out = join(outRoot, 'side-ok');
      await writeEvidenceBundle({ source: img2, out, workers: 1 });
      expect(manifestOf(out).source).toMatchObject({ sha256: claimed, sha256From: `acquisition sidecar ${img2}.json` });
      expect(manifestOf(out).time?.crossCheck).toMatchObject({ source: 'acquisition sidecar', agrees: true });

      writeFileSync(`${img2}.json`, JSON.stringify({ sha256: claimed, size: 12345 }));
      const out2 = join(outRoot, 'side-bad');
      await writeEvidenceBundle({ source: img2, out: out2, workers: 1 });
      const m = manifestOf(out2);
      expect(m.source.sha256From).toBe('computed while the analysis ran');
      expect(m.source.sha256).not.toBe(claimed);
      expect(m.warnings.some((w) => w.includes(`it says 12345 bytes, the file has ${truth.sizeBytes}`))).toBe(true);
    } finally {
      rmSync(img2Dir, { recursive: true, force: true });
    }
  }, 60_000);
});
