/**
 * `memscope acquire` on the simulated live machine: killed half-way (SIGKILL, a real process) then
 * resumed, the sidecar's SHA-256 equals `sha256sum` of the finished file, the bytes equal the
 * source image's over every run, and the file re-opens in MemScope with the same processes (raw
 * and ELF). Unreadable pages are zero-filled and listed with reasons; refusals and cancellation
 * keep everything the user had.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAcquisition, type AcquireSidecar } from '../engine/acquire/index.js';
import { openSession } from '../engine/session/session.js';
import { openSource } from '../engine/sources/detect.js';
import { SampleSet, type SampleKernel } from '../engine/plugins/testing/sample-kernel.js';
import { SIMULATED_ENV } from './live.js';
import { runCli } from './main.js';
import '../../native/winpmem/live-ref.js';

const set = new SampleSet();
let img: SampleKernel;
beforeAll(async () => { img = await set.build('19041', 'raw', 5); }, 120_000);
afterAll(() => set.cleanup());

const sidecarOf = (out: string): AcquireSidecar => JSON.parse(readFileSync(`${out}.json`, 'utf8')) as AcquireSidecar;
const tool = { name: 'MemScope', version: 'test' };

async function cli(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  Object.assign(process.env, env);
  try {
    const code = await runCli(argv, { out: (s) => { out += s; }, err: (s) => { err += s; } });
    return { code, out, err };
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
  }
}

/** Every run's bytes in `file` (read as `format`) equal the image's. */
function expectSameRuns(file: string): void {
  const want = openSource(img.path);
  const got = openSource(file);
  try {
    for (const t of img.truth.runs) {
      const start = Number(t.start);
      const length = Number(t.length);
      for (let a = start; a < start + length; a += 8 * 1024 * 1024) {
        const n = Math.min(8 * 1024 * 1024, start + length - a);
        expect(Buffer.compare(Buffer.from(got.read(a, n).data), Buffer.from(want.read(a, n).data))).toBe(0);
      }
    }
  } finally {
    want.close();
    got.close();
  }
}

async function sameProcesses(file: string): Promise<void> {
  const a = await openSession(file, { workers: 1 });
  const b = await openSession(img.path, { workers: 1 });
  try {
    const ka = [...(await a.runToEnd('pslist')).rows.keys()].sort();
    expect(ka).toEqual([...(await b.runToEnd('pslist')).rows.keys()].sort());
    expect(ka.length).toBeGreaterThan(10);
  } finally {
    await a.close();
    await b.close();
  }
}

describe('memscope acquire', () => {
  it('killed half-way then resumed: SHA-256 = sha256sum of the file, bytes = the source over every run, same processes', async () => {
    const out = join(set.dir, 'killed.raw');
    const child = spawn(process.execPath, ['--import', 'tsx', 'main/cli/testing/cli-entry.ts', 'acquire', '--live', '--out', out, '--max-rate', '16'], {
      env: { ...process.env, [SIMULATED_ENV]: img.path }, stdio: 'ignore',
    });
    // wait for the first checkpoint (16 MiB fsync'ed), then kill without warning
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(existsSync(`${out}.json`) && sidecarOf(out).checkpoint > 0)) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const partial = sidecarOf(out);
    expect(partial.status).toBe('partial');
    expect(partial.checkpoint).toBeGreaterThan(0);
    expect(partial.checkpoint).toBeLessThan(partial.fileSize);

    const again = await cli({ [SIMULATED_ENV]: img.path }, 'acquire', '--live', '--out', out);
    expect(again.err).toMatch(/already exists; refusing to overwrite it \(--resume continues/);
    expect(again.code).toBe(2);
    const r = await cli({ [SIMULATED_ENV]: img.path }, 'acquire', '--live', '--out', out, '--resume');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const s = sidecarOf(out);
    expect(s).toMatchObject({ status: 'complete', resumed: 1, format: 'raw', cr3: img.truth.dtb, kernelBase: img.truth.kernelBase, build: 19041, source: `simulated WinPmem device (${img.path})` });
    expect(s.sha256Covers).toMatch(/whole file.*re-read from disk when resumed/);
    expect(r.out).toContain(`sha256 ${s.sha256}`);
    expect(execFileSync('sha256sum', [out], { encoding: 'utf8' }).split(' ')[0]).toBe(s.sha256);
    expect(s.runs.map((x) => [Number(x.start), Number(x.length)])).toEqual(img.truth.runs.map((t) => [Number(t.start), Number(t.length)]));
    expectSameRuns(out);
    await sameProcesses(out);
  }, 180_000);

  it('ELF: one PT_LOAD per run; re-opens with the same runs and processes', async () => {
    const out = join(set.dir, 'live.elf');
    const s = await runAcquisition({ ref: { kind: 'simulated', image: img.path }, out, format: 'elf', tool });
    expect(execFileSync('sha256sum', [out], { encoding: 'utf8' }).split(' ')[0]).toBe(s.sha256);
    const src = openSource(out);
    expect(src.kind).toBe('elf-core');
    expect(src.runs().map((r) => [r.start, r.length])).toEqual(img.truth.runs.map((t) => [Number(t.start), Number(t.length)]));
    expect(src.hints.dtb).toBe(BigInt(img.truth.dtb)); // CR3 in the QEMU note
    src.close();
    expectSameRuns(out);
    await sameProcesses(out);
  }, 120_000);

  it('unreadable pages are zero-filled and listed with the device\'s reason; cancel keeps a partial file that resumes', async () => {
    const bad = Number(img.truth.runs[1]!.start) + 0x10000;
    const out = join(set.dir, 'bad.raw');
    const ref = { kind: 'simulated' as const, image: img.path, unreadablePages: [bad] };
    let n = 0;
    await expect(runAcquisition({ ref, out, format: 'raw', tool, chunkBytes: 1 << 20 }, { cancelled: () => ++n > 20 })).rejects.toThrow(/cancelled after/);
    expect(sidecarOf(out)).toMatchObject({ status: 'partial', error: expect.stringMatching(/cancelled/) });
    const s = await runAcquisition({ ref, out, format: 'raw', tool, resume: true });
    expect(s.status).toBe('complete');
    expect(s.unreadablePages).toBe(1);
    expect(s.unreadable).toEqual([{ start: `0x${bad.toString(16)}`, length: '0x1000', reason: expect.stringMatching(/device read failed at .*cannot map physical page/) }]);
    const f = openSource(out);
    expect(f.read(bad, 4096).data.every((b) => b === 0)).toBe(true);
    f.close();
    expect(execFileSync('sha256sum', [out], { encoding: 'utf8' }).split(' ')[0]).toBe(s.sha256);
  }, 120_000);

  it('refuses to write into the image being read, or where it may not write, keeping what was there', async () => {
    const before = statSync(img.path).mtimeMs;
    await expect(runAcquisition({ ref: { kind: 'file', path: img.path }, out: img.path, format: 'raw', tool })).rejects.toThrow(/is the image being read/);
    await expect(runAcquisition({ ref: { kind: 'simulated', image: img.path }, out: img.path, format: 'raw', tool })).rejects.toThrow(/is the image being read/);
    expect(statSync(img.path).mtimeMs).toBe(before);
    await expect(runAcquisition({ ref: { kind: 'file', path: img.path }, out: join(set.dir, 'no', 'such', 'dir.raw'), format: 'raw', tool })).rejects.toThrow(/cannot write the acquisition: no such directory/);
    if (process.getuid?.() !== 0) {
      const ro = join(set.dir, 'ro');
      mkdirSync(ro);
      chmodSync(ro, 0o500);
      await expect(runAcquisition({ ref: { kind: 'file', path: img.path }, out: join(ro, 'x.raw'), format: 'raw', tool })).rejects.toThrow(/permission denied/);
    }
  });
});
