import { describe, expect, it } from 'vitest';
import { PageTableBuilder } from '../translate/testing/page-table-builder.js';
import { X64AddressSpace } from '../translate/x64/address-space.js';
import { KernelPageMap } from './kernel-pages.js';
import type { PhysicalSource } from '../sources/physical-source.js';

describe('KernelPageMap', () => {
  it('maps frames of 4K, 2M and transition pages back to their kernel VA; user pages and holes to null', () => {
    const b = new PageTableBuilder();
    b.map(0xffff_f803_1220_0000n, 0x4060_0000, '2M');
    b.map(0xffff_a000_0000_7000n, 0x1234_5000);
    b.setPte(0xffff_a000_0000_8000n, PageTableBuilder.transitionPte(0x2222_3000));
    b.setPte(0xffff_a000_0000_9000n, PageTableBuilder.pageFilePte(0x2222_4)); // would look like a frame if misread
    b.map(0x7ff6_a000_1000n, 0x3333_3000, '4K', { user: true });
    const m = KernelPageMap.build(b.source, b.pml4);
    expect(m.problems).toEqual([]);
    expect(m.vaOf(0x4060_0000 + 0x1_2345)).toBe(0xffff_f803_1220_0000n + 0x1_2345n);
    expect(m.vaOf(0x1234_5abc)).toBe(0xffff_a000_0000_7abcn);
    expect(m.vaOf(0x2222_3010)).toBe(0xffff_a000_0000_8010n);
    expect(m.vaOf(0x2222_4000)).toBeNull();
    expect(m.vaOf(0x3333_3000)).toBeNull();
    expect(m.vaOf(0x4080_0000)).toBeNull(); // just past the large page
    expect(m.mappedPages).toBe(512 + 2);
    // what the map says is what the kernel's address space translates
    const as = new X64AddressSpace(b.source, b.dtb);
    for (const pa of [0x4060_0000 + 0x1_2345, 0x1234_5abc, 0x2222_3010]) expect(as.translate(m.vaOf(pa)!).pa).toBe(pa);
  });

  it('holds consecutive PTEs as one run, and a frame mapped twice under its lowest VA', () => {
    const b = new PageTableBuilder();
    for (let i = 0; i < 64; i++) b.map(0xffff_b000_0000_0000n + BigInt(i) * 0x1000n, 0x5000_0000 + i * 0x1000);
    // the same frames again at a higher VA inside a 2 MiB page, and at a lower VA for one frame
    b.map(0xffff_c000_0000_0000n, 0x5000_0000, '2M');
    b.map(0xffff_a000_0000_0000n, 0x5000_3000);
    const m = KernelPageMap.build(b.source, b.pml4);
    expect(m.vaOf(0x5000_0000)).toBe(0xffff_b000_0000_0000n);
    expect(m.vaOf(0x5000_3008)).toBe(0xffff_a000_0000_0008n);
    expect(m.vaOf(0x5003_f000)).toBe(0xffff_b000_0003_f000n);
    expect(m.vaOf(0x5004_0000)).toBe(0xffff_c000_0004_0000n); // past the 4K run: only the large page maps it
    expect(m.vaOf(0x501f_f000)).toBe(0xffff_c000_001f_f000n);
    // [0x50000000, +3 pages) b, 1 page a, [+4, +64) b, the rest of the 2 MiB page c
    expect(m.runs).toBe(4);
    expect(m.mappedPages).toBe(512);
  });

  it('costs what the kernel maps, not what the machine has: 1 TiB of RAM, one mapped page, one run', () => {
    const b = new PageTableBuilder();
    b.map(0xffff_f803_0000_0000n, 0x1000);
    const src = b.source;
    const huge: PhysicalSource = { kind: src.kind, name: src.name, hints: src.hints, size: 2 ** 40, runs: () => src.runs(), read: (pa, n) => src.read(pa, n), close: () => {} };
    const m = KernelPageMap.build(huge, b.pml4);
    expect(m.runs).toBe(1);
    expect(m.vaOf(0x1000)).toBe(0xffff_f803_0000_0000n);
  });

  it('bounds its runs and says what it ignored', () => {
    const b = new PageTableBuilder();
    for (let i = 0; i < 10; i++) b.map(0xffff_b000_0000_0000n + BigInt(i) * 0x1000n, 0x5000_0000 + i * 0x2000); // not consecutive
    const m = KernelPageMap.build(b.source, b.pml4, { maxRuns: 4 });
    expect(m.runs).toBe(4);
    expect(m.problems).toEqual(['kernel page map: more than 4 runs of mapped frames; 6 further kernel mappings ignored']);
  });
});
