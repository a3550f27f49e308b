import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImage } from '../../engine/acquire/writers/index.js';
import { makeTempDir, patternContent, removeTempDir } from '../../engine/acquire/writers/testing.js';
import { runCli } from '../main.js';

let dir: string;
beforeAll(() => { dir = makeTempDir('memscope-info-'); });
afterAll(() => removeTempDir(dir));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

const RUNS = [{ start: 0x1000, length: 0x9e000 }, { start: 0x100000, length: 0x20000 }];

describe('memscope info', () => {
  it('prints format, runs, size and crash-dump hints as JSON', async () => {
    const p = path.join(dir, 'memory.raw'); // extension lies: it is a bitmap crash dump
    writeImage(p, 'crashdump-bitmap', patternContent(RUNS), {
      crash: { dumpType: 6, header: { directoryTableBase: 0x4e312002n, psActiveProcessHead: 0xfffff80312345678n, minorVersion: 22621, numberProcessors: 2 } },
    });
    const r = await cli('info', p, '--format', 'json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info).toMatchObject({
      path: p,
      format: 'crashdump-bitmap',
      size: '0x120000',
      runs: [{ base: '0x1000', length: '0x9e000' }, { base: '0x100000', length: '0x20000' }],
      hints: { dtb: '0x4e312002', psActiveProcessHead: '0xfffff80312345678', buildNumber: 22621, numberOfProcessors: 2, machineImageType: '0x8664' },
      crashDump: { dumpType: 6, bitmapSignature: 'FDMP', bugCheckCode: '0xe2' },
    });
  });

  it('prints a table by default, with the runs', async () => {
    const p = path.join(dir, 'memory.dmp'); // extension lies: it is an ELF core
    writeImage(p, 'elf-core', patternContent(RUNS));
    const r = await cli('info', p);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^format\s+elf-core$/m);
    expect(r.out).toMatch(/^size\s+0x120000$/m);
    expect(r.out).toMatch(/^0x100000\s+0x120000\s+0x20000$/m);
    expect(r.out).not.toMatch(/dtb/);
  });

  it('exits 1 with one line naming the file for bad images', async () => {
    const missing = path.join(dir, 'missing.raw');
    let r = await cli('info', missing);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(`memscope: ${missing}: no such file\n`);

    const trunc = path.join(dir, 'trunc.dmp');
    writeImage(trunc, 'crashdump-full', patternContent(RUNS));
    fs.truncateSync(trunc, 0x3000);
    r = await cli('info', trunc, '--format', 'json');
    expect(r.code).toBe(1);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`${trunc}: crash dump run 0`);

    r = await cli('info', dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`memscope: ${dir}: is a directory, not an image file\n`);
  });

  it('exits 2 on usage errors', async () => {
    const p = path.join(dir, 'u.raw');
    writeImage(p, 'raw', patternContent(RUNS));
    let r = await cli('info', p, '--format', 'xml');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--format must be one of json, table/);
    r = await cli('info');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/missing required argument/);
  });
});
