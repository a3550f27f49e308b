/**
 * `memscope evidence --live`: off Windows without a simulation, exit 1 with the one line every
 * `--live` command gives; on the simulated WinPmem device serving a sample image, a bundle that
 * `memscope verify` and the real `sha256sum -c` accept, whose tables are byte for byte what
 * `psxview|pslist|psscan --live` print, whose manifest names the live host, the device and its
 * GET_INFO facts and says there is no image SHA-256, and whose timeline uses the capture time
 * read from live memory (KUSER_SHARED_DATA.SystemTime).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import type { Manifest } from '../engine/evidence/manifest.js';
import { SampleSet, type SampleKernel } from '../engine/plugins/testing/sample-kernel.js';
import { BUNDLE_TABLE_COMMANDS } from './testing/bundle-tables.js';
import { cliCaptured as cli } from './testing/captured.js';
import { LIVE_NEEDS, SIMULATED_ENV } from './live.js';

const set = new SampleSet();
const outRoot = mkdtempSync(join(tmpdir(), 'memscope-ev-live-'));
let img: SampleKernel;
beforeAll(async () => { img = await set.build('19041', 'raw', 7); }, 120_000);
afterAll(() => {
  set.cleanup();
  rmSync(outRoot, { recursive: true, force: true });
});
afterEach(() => { delete process.env[SIMULATED_ENV]; });

describe('memscope evidence --live', () => {
  it.skipIf(process.platform === 'win32')('off Windows with no simulated device: exit 1, the one line of every --live command, nothing written', async () => {
    delete process.env[SIMULATED_ENV];
    const out = join(outRoot, 'refused');
    const r = await cli('evidence', '--live', '--out', out);
    expect(r).toEqual({ code: 1, out: '', err: `memscope: ${LIVE_NEEDS}\n` });
    expect(existsSync(out)).toBe(false);
  });

  it('usage: an image and --live, or --driver without --live, exit 2', async () => {
    expect(await cli('evidence', img.path, '--live', '--out', join(outRoot, 'u1'))).toMatchObject({ code: 2, err: expect.stringMatching(/give an image or --live, not both/) });
    expect(await cli('evidence', img.path, '--driver', 'x.sys', '--out', join(outRoot, 'u2'))).toMatchObject({ code: 2, err: 'memscope: --driver applies only with --live\n' });
  });

  it('simulated: a bundle verify accepts, tables equal the --live commands, provenance of the live host', async () => {
    process.env[SIMULATED_ENV] = img.path;
    const dir = join(outRoot, 'live');
    const r = await cli('evidence', '--live', '--out', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^evidence bundle: .*\n13 files \(manifest\.json included\), live memory simulated WinPmem device \(.*\): no image SHA-256 \(live memory changes while it is read; every file written is hashed\)\n$/);

    const v = await cli('verify', dir);
    expect(v.code, v.err).toBe(0);
    expect(v.out).toMatch(/^OK: .*13 files match/);
    expect(spawnSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: dir }).status).toBe(0);

    for (const [argv, file] of BUNDLE_TABLE_COMMANDS) {
      const c = await cli(argv[0]!, '--live', ...argv.slice(1));
      expect(c.code, c.err).toBe(0);
      expect(readFileSync(join(dir, file), 'utf8'), file).toBe(c.out);
    }

    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    const info = JSON.parse((await cli('info', '--live', '--format', 'json')).out) as { runs: { base: string; length: string }[]; size: string };
    expect(m.complete).toBe(true);
    expect(m.source).toMatchObject({
      kind: 'live', path: `simulated WinPmem device (${img.path})`, sha256: null, format: 'winpmem', size: Number(info.size),
      sha256From: expect.stringMatching(/^none: live memory changes while it is read/),
    });
    expect(m.source.live).toEqual({
      host: hostname(), device: `simulated WinPmem device (${img.path})`, simulated: true, simulatedImage: img.path, driver: null, mode: 'pte',
      getInfo: {
        physicalMemorySize: info.runs.reduce((n, x) => n + Number(x.length), 0), addressSpaceEnd: Number(info.size),
        runs: info.runs.map((x) => ({ start: x.base, length: x.length })),
        build: 19041, cr3: img.truth.dtb, kernelBase: img.truth.kernelBase,
      },
      notes: [], unreadablePages: 0,
    });
    expect(m.kernel).toMatchObject({ kernelBase: img.truth.kernelBase, dtbMethod: 'GET_INFO CR3, verified' });
    expect(m.host).toBe(hostname());
    // every file written is hashed; there is no image to hash
    expect(m.files.map((f) => f.path).sort()).toEqual(readdirSync(dir).filter((n) => n !== 'manifest.json' && n !== 'SHA256SUMS').sort());

    // the timeline is bounded by the time read from live memory, and names the live source
    expect(m.time).toMatchObject({ captureTime: img.truth.captureTime, captureSource: 'KUSER_SHARED_DATA.SystemTime', bootTime: img.truth.bootTime });
    const events = parse(readFileSync(join(dir, 'timeline.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e['source_image']).toBe(`SIMULATED live memory (${img.path.split('/').pop()})`);
    const exits = events.filter((e) => e['timestamp_desc'] === 'Process Exited');
    expect(exits.length).toBe(img.truth.processes.filter((p) => p.exitTime !== null).length);
    for (const e of exits) expect(Date.parse(e['datetime']!)).toBeLessThanOrEqual(Date.parse(img.truth.captureTime!));
  }, 120_000);
});
