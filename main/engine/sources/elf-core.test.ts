import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../errors.js';
import { writeElfCore } from '../acquire/writers/index.js';
import { makeTempDir, patternBytes, patternContent, removeTempDir } from '../acquire/writers/testing.js';
import { openElfCore } from './elf-core.js';

let dir: string;
beforeAll(() => { dir = makeTempDir('memscope-elf-'); });
afterAll(() => removeTempDir(dir));

// A QEMU-like layout: low RAM, a hole for the legacy VGA/BIOS area, RAM above 1 MiB, and RAM above 4 GiB.
const RUNS = [
  { start: 0, length: 0x9f000 },
  { start: 0x100000, length: 0x200000 },
  { start: 0x1_0000_0000, length: 0x3000 },
];

function write(name: string, opts: Parameters<typeof writeElfCore>[2] = {}): string {
  const p = path.join(dir, name);
  writeElfCore(p, patternContent(RUNS), opts);
  return p;
}

function expectFormatError(fn: () => unknown, re: RegExp): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(MemScopeError);
  expect((err as MemScopeError).kind).toBe('format');
  expect((err as Error).message).toMatch(re);
  expect((err as Error).message).not.toContain('\n');
}

/** Offset of program header `i` (0 = the PT_NOTE the writer puts first). */
const phdr = (i: number): number => 64 + i * 56;

describe('ELF core reader', () => {
  it('serves PT_LOAD segments by p_paddr, reporting holes as absent', () => {
    const src = openElfCore(write('a.elf'));
    try {
      expect(src.kind).toBe('elf-core');
      expect(src.runs()).toEqual(RUNS);
      expect(src.size).toBe(0x1_0000_3000);
      const r = src.read(0x9e000, 0x1000);
      expect(r.absent).toEqual([]);
      expect(Buffer.from(r.data).equals(Buffer.from(patternBytes(0x9e000, 0x1000)))).toBe(true);
      // a read spanning the end of run 0, the hole, and the start of run 1
      const span = src.read(0x9e800, 0x100000 - 0x9e800 + 0x800);
      expect(span.absent).toEqual([{ start: 0x9f000, length: 0x100000 - 0x9f000 }]);
      expect(Buffer.from(span.data.subarray(0, 0x800)).equals(Buffer.from(patternBytes(0x9e800, 0x800)))).toBe(true);
      expect(span.data.subarray(0x800, 0x800 + 0x61000).every((b) => b === 0)).toBe(true);
      const tail = span.data.subarray(span.data.length - 0x800);
      expect(Buffer.from(tail).equals(Buffer.from(patternBytes(0x100000, 0x800)))).toBe(true);
      // above 4 GiB, and past the end
      expect(Buffer.from(src.read(0x1_0000_2ff8, 8).data).equals(Buffer.from(patternBytes(0x1_0000_2ff8, 8)))).toBe(true);
      expect(src.read(0x1_0000_2ffc, 8).absent).toEqual([{ start: 0x1_0000_3000, length: 4 }]);
      expect(src.read(0x5000_0000, 16).absent).toEqual([{ start: 0x5000_0000, length: 16 }]);
    } finally { src.close(); }
  });

  it('takes the CPU count and the first vCPU CR3 from QEMU notes as hints', () => {
    const p = path.join(dir, 'notes.elf');
    writeElfCore(p, patternContent(RUNS), { cpus: [{ cr3: 0x4e312002n }, { cr3: 0x1ad000n }, { cr3: 0n }] });
    const src = openElfCore(p);
    expect(src.hints).toEqual({ dtb: 0x4e312002n, numberOfProcessors: 3 });
    src.close();
    const plain = openElfCore(write('nocr3.elf'));
    expect(plain.hints).toEqual({ numberOfProcessors: 1 });
    plain.close();
  });

  it('sorts segments listed out of order in the program header table', () => {
    const src = openElfCore(write('desc.elf', { segmentOrder: 'descending' }));
    try {
      expect(src.runs()).toEqual(RUNS);
      expect(Buffer.from(src.read(0x100ff0, 0x20).data).equals(Buffer.from(patternBytes(0x100ff0, 0x20)))).toBe(true);
    } finally { src.close(); }
  });

  it('reports the p_memsz tail beyond p_filesz as absent', () => {
    const p = write('memsz.elf');
    const fd = fs.openSync(p, 'r+');
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(0x9f000n + 0x1000n); // run 0's p_memsz one page longer than p_filesz
    fs.writeSync(fd, b, 0, 8, phdr(1) + 0x28);
    fs.closeSync(fd);
    const src = openElfCore(p);
    try {
      expect(src.runs()[0]).toEqual({ start: 0, length: 0x9f000 });
      expect(src.read(0x9f000, 16).absent).toEqual([{ start: 0x9f000, length: 16 }]);
    } finally { src.close(); }
  });

  it('reads more than 0xfffe program headers through PN_XNUM and sh_info', () => {
    const runs = Array.from({ length: 0x10000 }, (_, i) => ({ start: i * 0x2000, length: 16 }));
    const p = path.join(dir, 'xnum.elf');
    writeElfCore(p, patternContent(runs));
    expect(fs.readFileSync(p).readUInt16LE(0x38)).toBe(0xffff);
    const src = openElfCore(p);
    try {
      expect(src.runs().length).toBe(0x10000);
      const pa = 0xfffe * 0x2000 + 4;
      expect(Buffer.from(src.read(pa, 8).data).equals(Buffer.from(patternBytes(pa, 8)))).toBe(true);
      expect(src.read(0x2000 + 16, 8).absent.length).toBe(1);
    } finally { src.close(); }
  });

  it('names a segment that points past the end of the file', () => {
    const p = write('short.elf');
    fs.truncateSync(p, fs.statSync(p).size - 0x1000);
    expectFormatError(() => openElfCore(p), /PT_LOAD #3 \(PA 0x100000000.*extends past the end of the file/);
  });

  it('rejects overlapping segments, naming both', () => {
    const p = write('overlap.elf');
    const fd = fs.openSync(p, 'r+');
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(0x90000n); // run 1's p_paddr now inside run 0
    fs.writeSync(fd, b, 0, 8, phdr(2) + 0x18);
    fs.closeSync(fd);
    expectFormatError(() => openElfCore(p), /PT_LOAD #1 .* overlaps PT_LOAD #2/);
  });

  it('rejects absurd program header counts without allocating for them', () => {
    const p = write('phnum.elf');
    const bytes = fs.readFileSync(p);
    bytes.writeUInt16LE(0xfff0, 0x38); // table would need 3.5 MB; the file is far smaller below
    fs.writeFileSync(path.join(dir, 'phnum2.elf'), bytes.subarray(0, 0x2000));
    expectFormatError(() => openElfCore(path.join(dir, 'phnum2.elf')), /program header table \(65520 entries.*past the end/);
    // PN_XNUM pointing at a section header with sh_info = 0xffffffff
    const x = Buffer.from(bytes);
    x.writeUInt16LE(0xffff, 0x38);
    x.writeBigUInt64LE(0x1000n, 0x28);
    x.writeUInt32LE(0xffffffff, 0x1000 + 0x2c);
    fs.writeFileSync(path.join(dir, 'xnum-bad.elf'), x);
    expectFormatError(() => openElfCore(path.join(dir, 'xnum-bad.elf')), /program header count 4294967295 is absurd/);
  });

  it('validates e_ident, class, data encoding, type and machine', () => {
    const good = fs.readFileSync(write('id.elf'));
    const cases: [number, number, RegExp][] = [
      [0, 0x7e, /not an ELF file/],
      [4, 1, /ELF class 1 is not ELFCLASS64/],
      [5, 2, /not little-endian/],
      [0x10, 2, /ELF type 2 is not ET_CORE/],
      [0x12, 0xb7, /machine 183 is not x86-64/],
    ];
    for (const [at, value, re] of cases) {
      const b = Buffer.from(good);
      b[at] = value;
      const p = path.join(dir, `id-${at}.elf`);
      fs.writeFileSync(p, b);
      expectFormatError(() => openElfCore(p), re);
    }
  });

  it('never crashes on a file cut at any point: a clear error or a valid source', () => {
    const full = fs.readFileSync(write('cut.elf'));
    const cuts = [0, 1, 3, 4, 16, 63, 64, 100, phdr(1), phdr(2) + 10, phdr(4) - 1, phdr(4), 0x1000, 0x1001, 0x50000, full.length - 4097, full.length - 1];
    for (const cut of cuts) {
      const p = path.join(dir, `cut-${cut}.elf`);
      fs.writeFileSync(p, full.subarray(0, cut));
      let src;
      try {
        src = openElfCore(p);
      } catch (e) {
        expect(e, `cut at ${cut}`).toBeInstanceOf(MemScopeError);
        expect((e as MemScopeError).message).toContain(p);
        continue;
      }
      // Opening succeeded only if every PT_LOAD lies inside the file: all reads must be complete.
      for (const r of src.runs()) expect(src.read(r.start, Math.min(r.length, 0x1000)).absent).toEqual([]);
      src.close();
    }
  });
});
