import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemScopeError } from '../errors.js';
import { writeImage, type WriterFormat } from '../acquire/writers/index.js';
import { makeTempDir, patternBytes, patternContent, removeTempDir, sha256File } from '../acquire/writers/testing.js';
import { detectFormat, MIN_RAW_SIZE, openSource } from './detect.js';
import { MAX_READ } from './physical-source.js';

let dir: string;
beforeAll(() => { dir = makeTempDir('memscope-detect-'); });
afterAll(() => removeTempDir(dir));

const RUNS = [{ start: 0, length: 0x20000 }, { start: 0x40000, length: 0x10000 }];
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

function caught(fn: () => unknown): MemScopeError {
  try { fn(); } catch (e) { if (e instanceof MemScopeError) return e; throw e; }
  throw new Error('expected a MemScopeError');
}

describe('openSource format detection', () => {
  const cases: [WriterFormat, string][] = [['raw', 'raw'], ['elf-core', 'elf-core'], ['crashdump-full', 'crashdump-full'], ['crashdump-bitmap', 'crashdump-bitmap']];
  for (const [format, kind] of cases) {
    it(`detects ${format} from content whatever the extension`, () => {
      for (const ext of ['.raw', '.dmp', '.elf', '.vmem', '']) {
        const p = path.join(dir, `${format}-image${ext}`);
        writeImage(p, format, patternContent(RUNS));
        const src = openSource(p);
        try {
          expect(src.kind).toBe(kind);
          expect(same(src.read(0x41000, 0x100).data, patternBytes(0x41000, 0x100))).toBe(true);
          const hole = src.read(0x30000, 0x10);
          // raw images store the hole as zeros; the other formats report it absent
          if (format === 'raw') expect(hole).toEqual({ data: new Uint8Array(0x10), absent: [] });
          else expect(hole.absent).toEqual([{ start: 0x30000, length: 0x10 }]);
        } finally { src.close(); }
      }
    });
  }

  it('reports raw runs as the whole file and past-EOF reads as absent', () => {
    const p = path.join(dir, 'plain.bin');
    const w = writeImage(p, 'raw', patternContent(RUNS));
    expect(w.runs).toEqual([{ start: 0, length: 0x50000 }]);
    const src = openSource(p);
    try {
      expect(src.runs()).toEqual([{ start: 0, length: 0x50000 }]);
      expect(src.size).toBe(0x50000);
      expect(src.read(0x4fffc, 8).absent).toEqual([{ start: 0x50000, length: 4 }]);
      expect(caught(() => src.read(0, MAX_READ + 1)).kind).toBe('usage');
      expect(caught(() => src.read(-1, 1)).kind).toBe('usage');
    } finally { src.close(); }
  });

  it('rejects small or garbage files with one line naming the file', () => {
    const tiny = path.join(dir, 'notes.raw');
    fs.writeFileSync(tiny, 'hello, this is not memory\n');
    const e = caught(() => openSource(tiny));
    expect(e.kind).toBe('format');
    expect(e.message).toMatch(new RegExp(`^${tiny.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: unknown format`));
    expect(e.message).not.toContain('\n');
    const odd = path.join(dir, 'odd.raw');
    fs.writeFileSync(odd, Buffer.alloc(MIN_RAW_SIZE + 1, 0x41));
    expect(caught(() => openSource(odd)).message).toMatch(/unknown format/);
    const empty = path.join(dir, 'empty.raw');
    fs.writeFileSync(empty, '');
    expect(caught(() => openSource(empty)).message).toMatch(/empty file/);
    // forcing the format opens a small raw fixture anyway
    const small = path.join(dir, 'small.raw');
    fs.writeFileSync(small, patternBytes(0, 0x2000));
    const src = openSource(small, { format: 'raw' });
    expect(same(src.read(0x1ff0, 0x10).data, patternBytes(0x1ff0, 0x10))).toBe(true);
    src.close();
  });

  it('names formats it recognises but does not read', () => {
    const cases: [number[] | string, RegExp][] = [
      ['PAGEDUMP', /32-bit Windows crash dump/],
      ['EMiL', /LiME/],
      ['hibr', /hibernation/],
      [[0x1f, 0x8b, 8, 0], /gzip/],
      ['PK\x03\x04', /ZIP\/AFF4/],
      [[0xd2, 0xbe, 0xd2, 0xbe], /VMware saved-state/],
    ];
    for (const [magic, re] of cases) {
      const b = Buffer.alloc(0x20000);
      if (typeof magic === 'string') b.write(magic, 0, 'latin1'); else b.set(magic, 0);
      const p = path.join(dir, 'magic.img');
      fs.writeFileSync(p, b);
      expect(caught(() => openSource(p)).message).toMatch(re);
    }
  });

  it('reports a missing file and a directory as io errors', () => {
    const missing = path.join(dir, 'nope.raw');
    const e1 = caught(() => openSource(missing));
    expect(e1.kind).toBe('io');
    expect(e1.message).toBe(`${missing}: no such file`);
    const e2 = caught(() => openSource(dir));
    expect(e2.kind).toBe('io');
    expect(e2.message).toBe(`${dir}: is a directory, not an image file`);
    expect(caught(() => detectFormat(missing)).kind).toBe('io');
  });

  it('opens read-only: works on a read-only file and leaves mode and content unchanged', () => {
    for (const format of ['raw', 'elf-core', 'crashdump-full', 'crashdump-bitmap'] as const) {
      const p = path.join(dir, `ro-${format}.img`);
      writeImage(p, format, patternContent(RUNS));
      fs.chmodSync(p, 0o444);
      const before = { mode: fs.statSync(p).mode, mtime: fs.statSync(p).mtimeMs, hash: sha256File(p) };
      const src = openSource(p);
      for (const r of src.runs()) src.read(r.start, r.length);
      src.close();
      const st = fs.statSync(p);
      expect({ mode: st.mode, mtime: st.mtimeMs, hash: sha256File(p) }).toEqual(before);
      expect(detectFormat(p)).toBe(format.startsWith('crashdump') ? 'crashdump' : format);
    }
  });

  it('reports bytes as absent when the file shrinks after it was opened', () => {
    const p = path.join(dir, 'shrink.dmp');
    writeImage(p, 'crashdump-bitmap', patternContent(RUNS));
    const src = openSource(p);
    try {
      fs.truncateSync(p, fs.statSync(p).size - 0x800);
      const r = src.read(0x4f000, 0x1000);
      expect(r.absent).toEqual([{ start: 0x4f800, length: 0x800 }]);
      expect(same(r.data.subarray(0, 0x800), patternBytes(0x4f000, 0x800))).toBe(true);
    } finally { src.close(); }
  });
});
