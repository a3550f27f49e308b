import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../main.js';
import type { CliIo } from '../context.js';
import { MemorySource } from '../../engine/sources/memory-source.js';
import { PageTableBuilder } from '../../engine/translate/testing/page-table-builder.js';

const IMAGE_SIZE = 4 * 1024 * 1024; // raw image: 4 MiB of physical memory
const KVA = 0xfffff80312345000n;
const LARGE_VA = 0xfffff80000200000n;
const UVA = 0x00007ff6a0001000n;

let dir: string;
let image: string;
let dtb: bigint;

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runCli(argv, io);
  return { code, out, err };
}

beforeAll(() => {
  // Page tables built to the SDM rules in memory, then written out byte for byte as a raw image.
  const mem = new MemorySource({ runs: [{ start: 0, length: IMAGE_SIZE }] });
  const b = new PageTableBuilder({ source: mem, tableBase: 0x10000 });
  b.map(KVA, 0x300000, '4K');
  b.map(KVA + 0x1000n, 0x301000, '4K');
  b.setPte(KVA + 0x2000n, 0n);
  b.map(LARGE_VA, 0x200000, '2M');
  b.setPte(UVA, PageTableBuilder.transitionPte(0x302000));
  b.setPte(UVA + 0x1000n, PageTableBuilder.pageFilePte(0x99));
  const text = new TextEncoder().encode('MemScope hexdump test page ABCDEFGHIJKLMNOP');
  mem.write(0x300ff0, text.subarray(0, 16));
  mem.write(0x301000, text.subarray(16));
  dtb = b.dtbWithPcid(2);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memscope-translate-'));
  image = path.join(dir, 'pt.raw');
  fs.writeFileSync(image, mem.read(0, IMAGE_SIZE).data);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('memscope translate', () => {
  it('answers one JSON object per VA, in input order, lower-case hex', async () => {
    const r = await run('translate', image, '--dtb', '0x' + dtb.toString(16).toUpperCase(), '--format', 'json',
      '0xFFFFF80312345ABC', '0x7ff6a0001010', 'fffff80000234567', '0x00007ff6a0002000', '0xfffff80312347000', '0x0000800000000000');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([
      { va: '0xfffff80312345abc', pa: '0x300abc', page: '4K', reason: 'resident' },
      { va: '0x7ff6a0001010', pa: '0x302010', page: '4K', reason: 'transition' },
      { va: '0xfffff80000234567', pa: '0x234567', page: '2M', reason: 'resident' },
      { va: '0x7ff6a0002000', pa: null, page: null, reason: 'page file PTE (not resident)' },
      { va: '0xfffff80312347000', pa: null, page: null, reason: 'PTE not present' },
      { va: '0x800000000000', pa: null, page: null, reason: 'non-canonical address' },
    ]);
  });

  it('prints a table by default and the walk with --walk', async () => {
    const r = await run('translate', image, '--dtb', dtb.toString(16), '0x' + KVA.toString(16), '--walk');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^VA\s+PA\s+PAGE\s+REASON/);
    expect(r.out).toContain('0xfffff80312345000  0x300000  4K    resident');
    expect(r.out).toMatch(/PT\s+entry at 0x[0-9a-f]+ = 0x300003/);
  });

  it('answers "absent from source" for a DTB outside physical memory (exit 0, no crash)', async () => {
    const r = await run('translate', image, '--dtb', '0x4e312002', '--format', 'json', '0x' + KVA.toString(16));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([{ va: '0xfffff80312345000', pa: null, page: null, reason: 'page table at 0x4e312000 absent from source' }]);
  });

  it('exits 2 with one line for bad hex and missing arguments', async () => {
    const bad = await run('translate', image, '--dtb', 'xyz', '0x1000');
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('memscope: --dtb: "xyz" is not a hex value (expected e.g. 0x1aa000, up to 16 hex digits)\n');
    const badVa = await run('translate', image, '--dtb', '0x1000', '0x1000', '0xfffff8000000000000');
    expect(badVa.code).toBe(2);
    expect(badVa.err).toMatch(/virtual address: "0xfffff8000000000000" is not a hex value/);
    const noDtb = await run('translate', image, '0x1000');
    expect(noDtb.code).toBe(2);
    expect(noDtb.err.trim().split('\n')).toHaveLength(1);
    expect(noDtb.err).toMatch(/--dtb/);
    const noVa = await run('translate', image, '--dtb', '0x1000');
    expect(noVa.code).toBe(2);
    const badFormat = await run('translate', image, '--dtb', '0x1000', '--format', 'xml', '0x1000');
    expect(badFormat.code).toBe(2);
  });

  it('names the file when the image is missing', async () => {
    const r = await run('translate', path.join(dir, 'nope.raw'), '--dtb', '0x1000', '0x1000');
    expect(r.code).toBe(1);
    expect(r.err).toContain('nope.raw: no such file');
  });
});

describe('memscope hexdump', () => {
  it('dumps physical bytes, 16 per line with address column and ASCII', async () => {
    const r = await run('hexdump', image, '--pa', '0x300ff0', '--length', '32');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      '0000000000300ff0  4d 65 6d 53 63 6f 70 65  20 68 65 78 64 75 6d 70  |MemScope hexdump|\n' +
      '0000000000301000  20 74 65 73 74 20 70 61  67 65 20 41 42 43 44 45  | test page ABCDE|\n',
    );
  });

  it('dumps virtual bytes across a page boundary and marks the unmapped page ?? with a note', async () => {
    const r = await run('hexdump', image, '--va', '0xfffff80312345ff0', '--dtb', dtb.toString(16), '--length', '0x1018');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('fffff80312345ff0  4d 65 6d 53 63 6f 70 65  20 68 65 78 64 75 6d 70  |MemScope hexdump|');
    expect(lines[1]).toBe('fffff80312346000  20 74 65 73 74 20 70 61  67 65 20 41 42 43 44 45  | test page ABCDE|');
    // the last line straddles into KVA+0x2000, whose PTE is zero
    expect(lines[lines.length - 2]).toBe('fffff80312347000  ?? ?? ?? ?? ?? ?? ?? ??                           |????????|');
    expect(lines[lines.length - 1]).toBe('note: 0xfffff80312347000 (8 bytes) unreadable: PTE not present');
  });

  it('marks bytes past the end of the image as ?? (absent from the source)', async () => {
    const r = await run('hexdump', image, '--pa', (IMAGE_SIZE - 8).toString(16), '--length', '16');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('00000000003ffff8  00 00 00 00 00 00 00 00  ?? ?? ?? ?? ?? ?? ?? ??  |........????????|');
    expect(r.out).toContain(`note: 0x400000 (8 bytes) unreadable: absent from ${image}`);
  });

  it('answers with the reason for a DTB outside physical memory', async () => {
    const r = await run('hexdump', image, '--va', '0xfffff80312345000', '--dtb', '0x4e312002', '--length', '16');
    expect(r.code).toBe(0);
    expect(r.out).toContain('note: 0xfffff80312345000 (16 bytes) unreadable: page table at 0x4e312000 absent from source');
  });

  it('exits 2 with one line for bad or missing arguments', async () => {
    for (const argv of [
      ['hexdump', image],
      ['hexdump', image, '--pa', '0x10', '--va', '0x10', '--dtb', '0x1000'],
      ['hexdump', image, '--va', '0x10'],
      ['hexdump', image, '--pa', '0x10', '--dtb', '0x1000'],
      ['hexdump', image, '--pa', 'zz'],
      ['hexdump', image, '--pa', '0x10', '--length', 'ten'],
      ['hexdump', image, '--pa', '0x10', '--length', '0'],
      ['hexdump', image, '--pa', '0x10', '--length', String(2 ** 40)],
      ['hexdump', image, '--pa', '0xffffffffffffff00', '--length', '16'],
      ['hexdump', image, '--va', '0xfffffffffffffff8', '--dtb', '0x1000', '--length', '16'],
    ]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err.trim().split('\n'), argv.join(' ')).toHaveLength(1);
      expect(r.out).toBe('');
    }
  });
});
