import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../errors.js';
import { writeCrashDumpBitmap, writeCrashDumpFull, type CrashHeaderFields } from '../acquire/writers/index.js';
import { makeTempDir, patternBytes, patternContent, removeTempDir } from '../acquire/writers/testing.js';
import { openCrashDump } from './crashdump.js';

let dir: string;
beforeAll(() => { dir = makeTempDir('memscope-dmp-'); });
afterAll(() => removeTempDir(dir));

const RUNS = [
  { start: 0x1000, length: 0x9e000 },
  { start: 0x100000, length: 0x102000 },
  { start: 0x1_0000_0000, length: 0x5000 },
];
const HEADER: CrashHeaderFields = {
  directoryTableBase: 0x1ad002n,
  pfnDataBase: 0xfffffa8000000000n,
  psLoadedModuleList: 0xfffff8034a42a2d0n,
  psActiveProcessHead: 0xfffff8034a41e280n,
  kdDebuggerDataBlock: 0xfffff8034a200b20n,
  majorVersion: 15,
  minorVersion: 19041,
  numberProcessors: 4,
  machineImageType: 0x8664,
  bugCheckCode: 0xe2,
};

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

function expectFormatError(fn: () => unknown, re: RegExp): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(MemScopeError);
  expect((err as MemScopeError).kind).toBe('format');
  expect((err as Error).message).toMatch(re);
  expect((err as Error).message).not.toContain('\n');
}

function patch(p: string, at: number, write: (b: Buffer) => void, size = 8): void {
  const b = Buffer.alloc(size);
  write(b);
  const fd = fs.openSync(p, 'r+');
  fs.writeSync(fd, b, 0, size, at);
  fs.closeSync(fd);
}

function checkContent(p: string): void {
  const src = openCrashDump(p);
  try {
    expect(src.runs()).toEqual(RUNS);
    expect(src.size).toBe(0x1_0000_5000);
    expect(src.hints).toMatchObject({
      dtb: 0x1ad002n, psActiveProcessHead: 0xfffff8034a41e280n, psLoadedModuleList: 0xfffff8034a42a2d0n,
      kdDebuggerDataBlock: 0xfffff8034a200b20n, majorVersion: 15, minorVersion: 19041, buildNumber: 19041,
      numberOfProcessors: 4, machineImageType: 0x8664,
    });
    // every page boundary region of every run, read across page edges
    for (const r of RUNS) {
      for (const pa of [r.start, r.start + 0xff8, r.start + r.length - 0x10]) {
        const got = src.read(pa, 0x10);
        expect(got.absent).toEqual([]);
        expect(same(got.data, patternBytes(pa, 0x10)), `PA 0x${pa.toString(16)}`).toBe(true);
      }
    }
    // a large read spanning run 0's end, the hole and run 1
    const big = src.read(0x9f000 - 0x2000, 0x100000 - 0x9f000 + 0x4000);
    expect(big.absent).toEqual([{ start: 0x9f000, length: 0x100000 - 0x9f000 }]);
    expect(same(big.data.subarray(0, 0x2000), patternBytes(0x9d000, 0x2000))).toBe(true);
    expect(same(big.data.subarray(big.data.length - 0x2000), patternBytes(0x100000, 0x2000))).toBe(true);
    expect(src.read(0, 0x1000).absent).toEqual([{ start: 0, length: 0x1000 }]);
    expect(src.read(0x1_0000_4ff0, 0x20).absent).toEqual([{ start: 0x1_0000_5000, length: 0x10 }]);
  } finally { src.close(); }
}

describe('crash dump reader: full dumps (DumpType 1)', () => {
  it('maps runs from 0x2000 in table order and exposes header hints', () => {
    const p = path.join(dir, 'full.dmp');
    writeCrashDumpFull(p, patternContent(RUNS), { header: HEADER });
    const src = openCrashDump(p);
    expect(src.kind).toBe('crashdump-full');
    expect(src.crash.dumpType).toBe(1);
    expect(src.crash.bugCheckCode).toBe(0xe2);
    src.close();
    checkContent(p);
  });

  it('names a run that points past the end of the file', () => {
    const p = path.join(dir, 'full-short.dmp');
    writeCrashDumpFull(p, patternContent(RUNS), { header: HEADER });
    fs.truncateSync(p, fs.statSync(p).size - 0x1000);
    expectFormatError(() => openCrashDump(p), /run 2 \(PA 0x100000000, 0x5000 bytes at file offset 0x1a2000\) extends past the end/);
  });

  it('rejects overlapping runs and absurd NumberOfRuns / PageCount', () => {
    const p = path.join(dir, 'full-bad.dmp');
    writeCrashDumpFull(p, patternContent(RUNS), { header: HEADER });
    const good = fs.readFileSync(p);
    const variant = (name: string, at: number, v: bigint | number): string => {
      const b = Buffer.from(good);
      if (typeof v === 'bigint') b.writeBigUInt64LE(v, at); else b.writeUInt32LE(v, at);
      const q = path.join(dir, name);
      fs.writeFileSync(q, b);
      return q;
    };
    // run 1 BasePage moved into run 0
    expectFormatError(() => openCrashDump(variant('ov.dmp', 0x98 + 16, 0x50n)), /run 0 \(PA 0x1000-0x9f000\) overlaps run 1/);
    expectFormatError(() => openCrashDump(variant('nr.dmp', 0x88, 0xffffffff)), /NumberOfRuns 4294967295 is absurd/);
    expectFormatError(() => openCrashDump(variant('nr44.dmp', 0x88, 44)), /NumberOfRuns 44 is absurd/);
    expectFormatError(() => openCrashDump(variant('pc.dmp', 0x98 + 8, 0xffffffffffffffffn)), /run 0 .* beyond the 52-bit/);
    expectFormatError(() => openCrashDump(variant('pc2.dmp', 0x98 + 8, 0x1000000n)), /run 0 .* extends past the end/);
    expectFormatError(() => openCrashDump(variant('fill.dmp', 0x88, 0x45474150)), /PAGE filler/);
    expectFormatError(() => openCrashDump(variant('dt.dmp', 0xf98, 2)), /DumpType 2/);
    expectFormatError(() => openCrashDump(variant('dt9.dmp', 0xf98, 9)), /unsupported crash dump DumpType 9/);
  });
});

describe('crash dump reader: machine type', () => {
  it('refuses a dump of another architecture by name, and reads one whose writer left the type empty', () => {
    for (const [machineImageType, re] of [[0xaa64, /machine type 0xAA64 \(ARM64\): MemScope analyses x64 \(0x8664\) Windows memory only/], [0x14c, /machine type 0x14C \(x86\)/], [0x1234, /machine type 0x1234 \(unknown machine\)/]] as const) {
      const p = path.join(dir, `machine-${machineImageType}.dmp`);
      writeCrashDumpFull(p, patternContent(RUNS), { header: { ...HEADER, machineImageType } });
      expectFormatError(() => openCrashDump(p), re);
    }
    const p = path.join(dir, 'machine-0.dmp');
    writeCrashDumpFull(p, patternContent(RUNS), { header: { ...HEADER, machineImageType: 0 } });
    const src = openCrashDump(p);
    expect(src.runs()).toEqual(RUNS);
    src.close();
  });
});

describe('crash dump reader: bitmap dumps (DumpType 5 and 6)', () => {
  for (const [dumpType, sig] of [[5, 'SDMP'], [6, 'FDMP'], [5, 'FDMP']] as const) {
    it(`reads a DumpType ${dumpType} ${sig} bitmap dump page by page`, () => {
      const p = path.join(dir, `bmp-${dumpType}-${sig}.dmp`);
      writeCrashDumpBitmap(p, patternContent(RUNS), { header: HEADER, dumpType, bitmapSignature: sig });
      const src = openCrashDump(p);
      expect(src.kind).toBe('crashdump-bitmap');
      expect(src.crash).toMatchObject({ dumpType, bitmapSignature: sig });
      src.close();
      checkContent(p);
    });
  }

  it('indexes a fragmented bitmap correctly (every other page, odd bit count)', () => {
    const runs = Array.from({ length: 300 }, (_, i) => ({ start: (i * 2 + (i > 150 ? 37 : 0)) * 0x1000, length: 0x1000 }));
    const p = path.join(dir, 'frag.dmp');
    // 0x2a7 pages of bitmap: not a multiple of 8 or 32
    writeCrashDumpBitmap(p, patternContent(runs), { bitmapPages: 0x2a7 });
    const src = openCrashDump(p);
    try {
      expect(src.runs()).toEqual(runs);
      for (const r of runs) expect(same(src.read(r.start + 0xffc, 4).data, patternBytes(r.start + 0xffc, 4))).toBe(true);
      // straddle present/absent/present pages
      const got = src.read(runs[10]!.start + 0x800, 0x2000);
      expect(got.absent).toEqual([{ start: runs[10]!.start + 0x1000, length: 0x1000 }]);
      expect(same(got.data.subarray(0x1800), patternBytes(runs[11]!.start, 0x800))).toBe(true);
    } finally { src.close(); }
  });

  it('indexes a sparse 64 GiB bitmap and omits unrecorded (zero) header addresses', () => {
    const runs = [{ start: 0x2000, length: 0x1000 }, { start: 0x10_0000_0000 - 0x2000, length: 0x2000 }];
    const p = path.join(dir, 'sparse.dmp');
    writeCrashDumpBitmap(p, patternContent(runs), { header: { directoryTableBase: 0x1ad000n } });
    const src = openCrashDump(p);
    try {
      expect(src.runs()).toEqual(runs);
      expect(src.size).toBe(0x10_0000_0000);
      expect(same(src.read(0xf_ffff_fff0, 0x10).data, patternBytes(0xf_ffff_fff0, 0x10))).toBe(true);
      expect(src.read(0x8_0000_0000, 0x10).absent).toEqual([{ start: 0x8_0000_0000, length: 0x10 }]);
      expect(src.hints.dtb).toBe(0x1ad000n);
      expect('psActiveProcessHead' in src.hints).toBe(false);
      expect('kdDebuggerDataBlock' in src.hints).toBe(false);
    } finally { src.close(); }
  });

  it('rejects absurd and inconsistent bitmap headers', () => {
    const p = path.join(dir, 'bmp-bad.dmp');
    writeCrashDumpBitmap(p, patternContent(RUNS), { header: HEADER });
    const good = fs.readFileSync(p);
    const variant = (name: string, at: number, v: bigint | string): string => {
      const b = Buffer.from(good);
      if (typeof v === 'bigint') b.writeBigUInt64LE(v, at); else b.write(v, at, 'latin1');
      const q = path.join(dir, name);
      fs.writeFileSync(q, b);
      return q;
    };
    expectFormatError(() => openCrashDump(variant('pages.dmp', 0x2030, 0xffffffffffffffffn)), /Pages 0xffffffffffffffff is absurd/);
    expectFormatError(() => openCrashDump(variant('pages2.dmp', 0x2030, 1n << 39n)), /bitmap .* extends past the end of the file/);
    expectFormatError(() => openCrashDump(variant('pages0.dmp', 0x2030, 0n)), /empty bitmap/);
    expectFormatError(() => openCrashDump(variant('first.dmp', 0x2020, 0x2000n)), /FirstPage 0x2000 lies inside/);
    expectFormatError(() => openCrashDump(variant('first2.dmp', 0x2020, 0x7fffffffffffn)), /truncated/);
    expectFormatError(() => openCrashDump(variant('sig.dmp', 0x2000, 'XDMP')), /signature "XDMP" is neither SDMP nor FDMP/);
    expectFormatError(() => openCrashDump(variant('valid.dmp', 0x2004, 'DUMQ')), /ValidDump "DUMQ" is not DUMP/);
  });
});

describe('crash dump reader: truncation and signatures', () => {
  it('never crashes on a file cut at any point', () => {
    for (const kind of ['full', 'bitmap'] as const) {
      const p = path.join(dir, `cut-src-${kind}.dmp`);
      (kind === 'full' ? writeCrashDumpFull : writeCrashDumpBitmap)(p, patternContent(RUNS), { header: HEADER });
      const full = fs.readFileSync(p);
      const cuts = [0, 4, 8, 0x30, 0x88, 0x9c, 0xf98, 0x1fff, 0x2000, 0x2010, 0x2037, 0x2038, 0x2040, 0x3000, 0x50000, full.length - 1];
      for (const cut of cuts) {
        const q = path.join(dir, `cut-${kind}-${cut}.dmp`);
        fs.writeFileSync(q, full.subarray(0, cut));
        let err: unknown;
        try { openCrashDump(q).close(); } catch (e) { err = e; }
        expect(err, `${kind} cut at ${cut}`).toBeInstanceOf(MemScopeError);
        expect((err as Error).message).toContain(q);
      }
    }
  });

  it('names 32-bit and non-dump files', () => {
    const p = path.join(dir, 'sig32.dmp');
    const b = Buffer.alloc(0x1000);
    b.write('PAGEDUMP', 0, 'latin1');
    fs.writeFileSync(p, b);
    expectFormatError(() => openCrashDump(p), /32-bit crash dump/);
    b.write('PAGEDU6X', 0, 'latin1');
    fs.writeFileSync(p, b);
    expectFormatError(() => openCrashDump(p), /no PAGEDU64 signature/);
  });
});
