import { describe, expect, it } from 'vitest';
import { MemorySource } from './memory-source.js';

describe('MemorySource', () => {
  it('serves written bytes, zero for unwritten bytes in a run, and reports holes as absent', () => {
    const src = new MemorySource({ runs: [{ start: 0x2000, length: 0x1000 }, { start: 0x0, length: 0x1000 }] });
    expect(src.runs()).toEqual([{ start: 0, length: 0x1000 }, { start: 0x2000, length: 0x1000 }]);
    expect(src.size).toBe(0x3000);
    expect(src.kind).toBe('raw');
    expect(src.name).toBe('memory');
    src.write(0xffe, new Uint8Array([1, 2]));
    src.writeU64(0x2000, 0x1122334455667788n);
    const r = src.read(0xffc, 0x100c);
    expect(Array.from(r.data.subarray(0, 4))).toEqual([0, 0, 1, 2]);
    expect(Array.from(r.data.subarray(0x1004, 0x100c))).toEqual([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
    expect(r.absent).toEqual([{ start: 0x1000, length: 0x1000 }]);
    expect(src.read(0x2800, 0x1000).absent).toEqual([{ start: 0x3000, length: 0x800 }]);
    expect(src.read(0x10_0000_0000, 16).absent).toEqual([{ start: 0x10_0000_0000, length: 16 }]);
  });

  it('stays sparse for huge runs and rejects writes outside runs and absurd reads', () => {
    const src = new MemorySource({ runs: [{ start: 0, length: 2 ** 40 }] });
    src.writeU64(2 ** 40 - 8, 0xffn);
    expect(src.read(2 ** 40 - 8, 8).data[0]).toBe(0xff);
    expect(() => src.write(2 ** 40 - 4, new Uint8Array(8))).toThrow(/outside its runs/);
    expect(() => src.read(0, 2 ** 31)).toThrow(/bad read/);
    expect(() => new MemorySource({ runs: [{ start: 0, length: 10 }, { start: 5, length: 10 }] })).toThrow(/overlaps/);
  });

  it('fromBytes is a raw image: offset = physical address', () => {
    const src = MemorySource.fromBytes(new Uint8Array([9, 8, 7]));
    expect(src.size).toBe(3);
    expect(Array.from(src.read(1, 4).data)).toEqual([8, 7, 0, 0]);
    expect(src.read(1, 4).absent).toEqual([{ start: 3, length: 2 }]);
  });
});
