import { describe, expect, it } from 'vitest';
import { MemScopeError } from '../../errors.js';
import type { ScanHit, Scanner } from '../types.js';
import { createScanner as bytesScanner, asciiHex, type BytesHit } from './bytes.js';
import { createScanner as pml4Scanner, type Pml4SelfRefHit } from './pml4-selfref.js';
import { createScanner as poolScanner, MAX_PREFIX_COMPARES, searchTags, type PoolTagHit } from './pool-tag.js';

const run = <H extends ScanHit>(s: Scanner<H>, chunk: Uint8Array, pa: number): H[] => {
  const out: H[] = [];
  s.scan(chunk, pa, (h) => out.push(h));
  return out;
};

const putTag = (buf: Uint8Array, at: number, tag: string): void => buf.set(Buffer.from(tag, 'latin1'), at);

/** Write a PML4E (little-endian qword) at entry `i` of the page at buffer offset `page`. */
function pte(buf: Uint8Array, page: number, i: number, value: bigint): void {
  new DataView(buf.buffer, buf.byteOffset).setBigUint64(page + i * 8, value, true);
}

describe('pool-tag scanner', () => {
  it('reports tags only at 16-byte-aligned header +4, with the header bytes, for each tag asked', () => {
    const buf = new Uint8Array(0x400);
    putTag(buf, 0x104, 'Proc'); // header 0x100
    buf[0x100] = 0x11;
    buf[0x102] = 0x2b;
    putTag(buf, 0x205, 'Proc'); // misaligned
    putTag(buf, 0x208, 'Proc'); // header would be 0x204: misaligned
    putTag(buf, 0x304, 'Thre');
    putTag(buf, 0x354, 'Pro\xe3'); // protected-bit variant
    const hits = run(poolScanner({ tags: ['Thre', 'Proc', 'Pro\xe3'] }), buf, 0x10000);
    expect(hits.map((h) => [h.pa, h.tag])).toEqual([
      [0x10100, 'Proc'],
      [0x10300, 'Thre'],
      [0x10350, 'Pro\xe3'],
    ]);
    expect([...hits[0]!.header]).toEqual([...buf.subarray(0x100, 0x110)]);
    expect(run(poolScanner({ tags: ['Proc'] }), buf, 0x10000).map((h) => h.pa)).toEqual([0x10100]);
  });

  it('alignment is by physical address, not buffer offset', () => {
    const buf = new Uint8Array(0x100);
    putTag(buf, 0x14, 'Proc'); // buffer offset 0x10 is pa 0x1018: not aligned
    putTag(buf, 0x0c, 'Proc'); // offset 0x08 is pa 0x1010: aligned
    expect(run(poolScanner({ tags: ['Proc'] }), buf, 0x1008).map((h) => h.pa)).toEqual([0x1010]);
  });

  it('does not report a header cut off by the end of the chunk', () => {
    const buf = new Uint8Array(0x100);
    putTag(buf, 0xf4, 'Proc'); // header 0xf0..0x100: whole
    const whole = run<PoolTagHit>(poolScanner({ tags: ['Proc'] }), buf, 0);
    expect(whole.map((h) => h.pa)).toEqual([0xf0]);
    expect(run(poolScanner({ tags: ['Proc'] }), buf.subarray(0, 0xfc), 0)).toEqual([]);
  });

  it('the slot walk finds exactly what a byte-by-byte reference finds, for 1, 2 and many prefixes, whatever the data', () => {
    // random bytes (like stale RAM) with tags planted aligned, misaligned and cut off at the end
    const size = 0x40000;
    const random = new Uint8Array(size);
    let s = 12345;
    for (let i = 0; i < size; i++) random[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
    // pages dense in the prefixes' first bytes and in near-miss prefixes ('Pro' + wrong 4th byte, 'Prx')
    const dense = new Uint8Array(size);
    for (let i = 0; i < size; i += 8) dense.set(Buffer.from(i % 48 === 0 ? 'Prox' : i % 24 === 0 ? 'Thrx' : 'PrxT', 'latin1'), i);
    const tags = ['Proc', 'Pro\xe3', 'Thre', 'Thr\xe5', 'File', 'MmSt'];
    for (const base of [random, dense]) {
      const buf = Uint8Array.from(base);
      for (let i = 0; i < 200; i++) {
        const at = (i * 1297 * 16) % (size - 32);
        const tag = tags[i % tags.length]!;
        putTag(buf, at + 4, tag);
        putTag(buf, at + 4 + 16 * 3 + 1 + (i % 15), tag); // misaligned decoy
      }
      putTag(buf, size - 12, 'Proc'); // the last whole header of the chunk (size-16 .. size)
      putTag(buf, size - 8, 'Thre'); // cut off: its header would end past the chunk
      for (const k of [2, 3, 4]) putTag(buf, size - 16 * k + 4, 'Proc'); // the last slots of the shorter views below
      const pa = 0x7000_0000_0000;
      const reference = (bytes: Uint8Array, set: readonly string[]): [number, string][] => {
        const out: [number, string][] = [];
        for (let h = 0; h + 16 <= bytes.length; h += 16) {
          const t = Buffer.from(bytes.subarray(h + 4, h + 8)).toString('latin1');
          if (set.includes(t)) out.push([pa + h, t]);
        }
        return out;
      };
      // whole buffer, and lengths whose slot count is not a multiple of the walk's 4-slot step
      for (const bytes of [buf, buf.subarray(0, size - 16), buf.subarray(0, size - 40), buf.subarray(0, size - 48)]) {
        for (const set of [['Proc'], ['Proc', 'Pro\xe3'], ['Proc', 'Pro\xe3', 'Thre', 'Thr\xe5'], tags]) {
          const want = reference(bytes, set);
          expect(want.length).toBeGreaterThan(20);
          const hits = run(poolScanner({ tags: set }), bytes, pa);
          expect(hits.map((h) => [h.pa, h.tag]), set.join(',')).toEqual(want);
          const got: [number, string][] = [];
          searchTags(set)(Buffer.from(bytes.buffer, 0, bytes.length), pa, (h, t) => got.push([pa + h, t]));
          expect(got).toEqual(want); // in address order, no sort needed
        }
      }
    }
    expect(new Set(tags.map((t) => t.slice(0, 3))).size).toBeGreaterThan(MAX_PREFIX_COMPARES); // the first-byte table path is exercised too
    // a view at an odd byte offset (no aligned Uint32Array): the walk falls back to bytes
    const odd = new Uint8Array(0x1001);
    putTag(odd, 1 + 0x24, 'File');
    putTag(odd, 1 + 0x44, 'Thre');
    const view = Buffer.from(odd.buffer, 1, 0x1000);
    const got: [number, string][] = [];
    searchTags(tags)(view, 0, (h, t) => got.push([h, t]));
    expect(got).toEqual([[0x20, 'File'], [0x40, 'Thre']]);
    // a chunk starting mid-slot: alignment is by physical address
    const got2: [number, string][] = [];
    searchTags(tags)(view, 0x1008, (h, t) => got2.push([h, t]));
    expect(got2).toEqual([]);
  });

  it('rejects bad params with a usage error', () => {
    for (const p of [{}, { tags: [] }, { tags: ['Pro'] }, { tags: ['ro\u0100c'] }, null, { tags: ['Pr\u4e00c'] }]) {
      expect(() => poolScanner(p)).toThrow(MemScopeError);
    }
  });
});

describe('bytes scanner', () => {
  it('finds needles anywhere, or only at an aligned offset, with context bytes', () => {
    const buf = new Uint8Array(0x3000);
    buf.set(Buffer.from('MZ'), 0x1000);
    buf.set(Buffer.from('MZ'), 0x1010);
    buf.set(Buffer.from('RSDSabcdefgh'), 0x2345);
    const anywhere = run<BytesHit>(bytesScanner({ needles: [asciiHex('MZ'), asciiHex('RSDS')], context: 8 }), buf, 0x40000);
    expect(anywhere.map((h) => [h.pa, h.needle])).toEqual([
      [0x41000, 0],
      [0x41010, 0],
      [0x42345, 1],
    ]);
    expect(Buffer.from(anywhere[2]!.bytes).toString('latin1')).toBe('RSDSabcd');
    const pages = run<BytesHit>(bytesScanner({ needles: [asciiHex('MZ')], align: 4096 }), buf, 0x40000);
    expect(pages.map((h) => h.pa)).toEqual([0x41000]);
    const at16 = run<BytesHit>(bytesScanner({ needles: [asciiHex('MZ')], align: 32, offset: 0x10 }), buf, 0x40000);
    expect(at16.map((h) => h.pa)).toEqual([0x41010]);
  });

  it('aligned needles (align 4..32) are found exactly where a byte-by-byte reference finds them', () => {
    const size = 0x20000;
    const buf = new Uint8Array(size + 8);
    let s = 777;
    for (let i = 0; i < buf.length; i++) buf[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
    const needle = Buffer.from('System\0\0\0\0\0\0\0\0\0', 'latin1');
    const near = Buffer.from('System\0\0\0\0\0\0\0\0x', 'latin1'); // same first dword, differs later
    for (let i = 0; i < 120; i++) buf.set(i % 3 === 2 ? near : needle, (i * 0x2b3) % (size - 16));
    buf.set(needle, size - needle.length); // ends exactly at the end of the view below
    buf.set(needle, size - 8); // cut off by the end of the view
    const view = buf.subarray(0, size);
    const hex = needle.toString('hex');
    for (const [align, offset] of [[4, 0], [8, 0], [8, 4], [16, 8], [32, 4]] as const) {
      for (const pa of [0x40000, 0x40004, 0x4000c]) {
        const want: number[] = [];
        for (let pos = 0; pos + needle.length <= size; pos++) {
          if ((pa + pos) % align === offset && Buffer.from(view.subarray(pos, pos + needle.length)).equals(needle)) want.push(pa + pos);
        }
        const got = run<BytesHit>(bytesScanner({ needles: [hex], align, offset }), view, pa).map((h) => h.pa);
        expect(got, `align ${align} offset ${offset} pa ${pa.toString(16)}`).toEqual(want);
        // an odd byte offset in its buffer: the same answer from the indexOf path
        const odd = new Uint8Array(size + 1);
        odd.set(view, 1);
        expect(run<BytesHit>(bytesScanner({ needles: [hex], align, offset }), odd.subarray(1), pa).map((h) => h.pa)).toEqual(want);
      }
    }
    expect(run<BytesHit>(bytesScanner({ needles: [hex], align: 8 }), view, 0x40000).length).toBeGreaterThan(5);
  });

  it('rejects bad params', () => {
    expect(() => bytesScanner({ needles: ['zz'] })).toThrow(/not 1..256 bytes of hex/);
    expect(() => bytesScanner({ needles: ['4d5a'], align: 3 })).toThrow(/power of two/);
    expect(() => bytesScanner({ needles: ['4d5a'], align: 16, offset: 16 })).toThrow(MemScopeError);
  });
});

describe('pml4-selfref scanner', () => {
  const PAGE = 4096;
  /** A plausible PML4 at physical `pa` with its self-reference at `index`, in a buffer at `page`. */
  function plantPml4(buf: Uint8Array, page: number, pa: number, index: number, extraKernel = 2): void {
    pte(buf, page, index, 0x8000_0000_0000_0063n | BigInt(pa));
    for (let k = 0; k < extraKernel; k++) pte(buf, page, 0x1f0 + k === index ? 0x1e0 + k : 0x1f0 + k, 0x63n | BigInt(0x20_0000 + k * PAGE));
    pte(buf, page, 0, 0x0a00_0000_0000_0867n | 0x30_0000n); // a user entry with NX/software bits
  }

  it('finds a self-referencing kernel-half entry, at any index and any physical page', () => {
    const buf = new Uint8Array(4 * PAGE);
    plantPml4(buf, PAGE, 0x7000_1000 + PAGE, 0x1ed);
    plantPml4(buf, 3 * PAGE, 0x7000_1000 + 3 * PAGE, 0x100);
    const hits = run<Pml4SelfRefHit>(pml4Scanner({ maxPhysicalAddress: 0x8000_0000 }), buf, 0x7000_1000);
    expect(hits.map((h) => [h.pa, h.index, h.kernelPresent, h.userPresent])).toEqual([
      [0x7000_2000, 0x1ed, 3, 1],
      [0x7000_4000, 0x100, 3, 1],
    ]);
    expect(hits[0]!.entry).toBe(0x8000_0000_7000_2063n);
  });

  it('handles physical addresses above 4 GiB (PFN bits 32..51)', () => {
    const buf = new Uint8Array(2 * PAGE);
    const pa = 0x12_3456_7000;
    plantPml4(buf, PAGE, pa + PAGE, 0x1a3);
    // same low 32 bits, different high bits: not a self-reference
    plantPml4(buf, 0, pa + 0x1_0000_0000, 0x1a3);
    const hits = run<Pml4SelfRefHit>(pml4Scanner({}), buf, pa);
    expect(hits.map((h) => [h.pa, h.index])).toEqual([[pa + PAGE, 0x1a3]]);
  });

  it('rejects look-alikes: read-only, not present, user half, PS bit, too few kernel entries, out-of-memory targets', () => {
    const cases: Array<(b: Uint8Array) => void> = [
      (b) => pte(b, 0, 0x1ed, 0x61n | 0x5000n), // not writable
      (b) => pte(b, 0, 0x1ed, 0x62n | 0x5000n), // not present
      (b) => pte(b, 0, 0x0ed, 0x63n | 0x5000n), // user half
      (b) => { plantPml4(b, 0, 0x5000, 0x1ed); pte(b, 0, 0x1ee, 0xe3n | 0x9000n); }, // PS bit
      (b) => plantPml4(b, 0, 0x5000, 0x1ed, 0), // only the self-reference
      (b) => { plantPml4(b, 0, 0x5000, 0x1ed); pte(b, 0, 3, 0x63n | 0x9_0000_0000n); }, // beyond memory
    ];
    for (const make of cases) {
      const buf = new Uint8Array(PAGE);
      make(buf);
      expect(run(pml4Scanner({ maxPhysicalAddress: 0x1_0000_0000 }), buf, 0x5000)).toEqual([]);
    }
    const ok = new Uint8Array(PAGE);
    plantPml4(ok, 0, 0x5000, 0x1ed);
    expect(run(pml4Scanner({ maxPhysicalAddress: 0x1_0000_0000 }), ok, 0x5000)).toHaveLength(1);
  });

  it('any index inside a narrowed window, whatever its place in the four-entry step', () => {
    for (const [firstIndex, lastIndex] of [[0x100, 0x1ff], [0x1e9, 0x1ef], [0x1ed, 0x1ed], [0x101, 0x106]] as const) {
      for (let index = firstIndex; index <= lastIndex; index++) {
        const buf = new Uint8Array(PAGE);
        plantPml4(buf, 0, 0x9000, index);
        const hits = run<Pml4SelfRefHit>(pml4Scanner({ firstIndex, lastIndex }), buf, 0x9000);
        expect(hits.map((h) => h.index), `${firstIndex}..${lastIndex} @${index}`).toEqual([index]);
      }
      const outside = new Uint8Array(PAGE);
      plantPml4(outside, 0, 0x9000, lastIndex === 0x1ff ? 0xff : lastIndex + 1);
      expect(run(pml4Scanner({ firstIndex, lastIndex }), outside, 0x9000)).toEqual([]);
    }
  });

  it('only examines whole, page-aligned pages', () => {
    const buf = new Uint8Array(3 * PAGE);
    // The buffer starts at pa 0x800, so the page at pa 0x1000 sits at buffer offset 0x800.
    plantPml4(buf, 0x800, 0x1000, 0x1ed);
    const hits = run(pml4Scanner({}), buf, 0x800);
    expect(hits.map((h) => h.pa)).toEqual([0x1000]);
    expect(run(pml4Scanner({}), buf.subarray(0, PAGE + 0x7f8), 0x800)).toEqual([]);
  });
});
