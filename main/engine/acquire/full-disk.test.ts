/**
 * An acquisition whose disk fills half-way (issue 20, bad input): the write fails with ENOSPC, the
 * error names the file and the fault and how much of it is good, the partial file and its sidecar
 * are kept and say "partial", and once space is freed `resume` finishes it with the SHA-256 of the
 * whole file. The disk is node:fs with writes to the output file refused past a byte budget (every
 * other call is the real one), so the test runs the same on any machine.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SampleSet, type SampleKernel } from '../plugins/testing/sample-kernel.js';
import { CHECKPOINT, runAcquisition, type AcquireSidecar } from './index.js';

/** Bytes the output file may still take; Infinity: the disk has room. */
const disk = { out: '', left: Infinity };

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const outFds = new Set<number>();
  const openSync = ((path: import('node:fs').PathLike, ...rest: unknown[]) => {
    const fd = (real.openSync as (...a: unknown[]) => number)(path, ...rest);
    if (String(path) === disk.out) outFds.add(fd);
    return fd;
  }) as typeof real.openSync;
  const writeSync = ((fd: number, buffer: NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    if (outFds.has(fd)) {
      const length = typeof rest[1] === 'number' ? rest[1] : buffer.byteLength;
      if (length > disk.left) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      disk.left -= length;
    }
    return (real.writeSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
  }) as typeof real.writeSync;
  const closeSync = (fd: number): void => { outFds.delete(fd); real.closeSync(fd); };
  return { ...real, default: { ...real, openSync, writeSync, closeSync }, openSync, writeSync, closeSync };
});

const set = new SampleSet();
let img: SampleKernel;
beforeAll(async () => { img = await set.build('19041', 'raw', 5); }, 120_000);
afterAll(() => set.cleanup());

const tool = { name: 'MemScope', version: 'test' };
const sidecarOf = (out: string): AcquireSidecar => JSON.parse(readFileSync(`${out}.json`, 'utf8')) as AcquireSidecar;

describe('acquisition onto a disk that fills half-way', () => {
  it('fails naming the file and ENOSPC, keeps the partial file marked partial, and resumes once there is room', async () => {
    const out = join(set.dir, 'full-disk.raw');
    disk.out = out;
    disk.left = 2.5 * CHECKPOINT; // room for two checkpoints and a half
    const job = { ref: { kind: 'file' as const, path: img.path }, out, format: 'raw' as const, tool };
    await expect(runAcquisition(job)).rejects.toThrow(new RegExp(`${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOSPC: no space left on device.*partial file kept \\(${2 * CHECKPOINT} of \\d+ bytes good`));
    const partial = sidecarOf(out);
    expect(partial.status).toBe('partial');
    expect(partial.error).toMatch(/ENOSPC/);
    expect(partial.sha256).toBeNull();
    // what the sidecar vouches for was fsync'ed before it said so: exactly the whole checkpoints written
    expect(partial.checkpoint).toBe(2 * CHECKPOINT);
    expect(statSync(out).size).toBe(partial.fileSize); // sparse to its final size from the start, kept

    disk.left = Infinity; // space freed
    const done = await runAcquisition({ ...job, resume: true });
    expect(done.status).toBe('complete');
    expect(done.resumed).toBe(1);
    expect(done.sha256).toBe(createHash('sha256').update(readFileSync(out)).digest('hex'));
    // the resumed file is the image's bytes (a raw image acquired as raw: the same file)
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(createHash('sha256').update(readFileSync(img.path)).digest('hex'));
  }, 120_000);
});
