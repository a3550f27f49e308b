import { describe, expect, it } from 'vitest';
import { X64AddressSpace } from './address-space.js';
import { PageTableBuilder, vaFromIndices } from '../testing/page-table-builder.js';
import { MemorySource } from '../../sources/memory-source.js';
import type { PhysicalSource, ReadResult } from '../../sources/physical-source.js';
import { PageTableCache } from '../page-table-cache.js';

const KVA = 0xfffff80312345000n; // kernel-half VA
const UVA = 0x00007ff6a0001000n; // user-half VA

function fill(src: MemorySource, pa: number, length: number, seed: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (seed + i * 7) & 0xff;
  src.write(pa, b);
  return b;
}

/** Wraps a source and counts reads, to prove the caches work. */
class CountingSource implements PhysicalSource {
  reads = 0;
  constructor(private readonly inner: PhysicalSource) {}
  get kind() { return this.inner.kind; }
  get name() { return this.inner.name; }
  get size() { return this.inner.size; }
  get hints() { return this.inner.hints; }
  runs() { return this.inner.runs(); }
  read(a: number, n: number): ReadResult { this.reads++; return this.inner.read(a, n); }
  close() { this.inner.close(); }
}

describe('X64AddressSpace page sizes', () => {
  it('translates a 4 KiB page and returns a 4-step walk with entry addresses and raw entries', () => {
    const b = new PageTableBuilder();
    b.map(KVA, 0x2345000, '4K');
    const data = fill(b.source, 0x2345000, 4096, 1);
    const as = new X64AddressSpace(b.source, b.dtb);
    const t = as.translate(KVA + 0x123n);
    expect(t).toMatchObject({ pa: 0x2345123, page: '4K', reason: 'resident' });
    expect(t.walk.map((s) => s.level)).toEqual(['PML4', 'PDPT', 'PD', 'PT']);
    expect(t.walk[0]!.entryAddress).toBe(b.pml4 + 0x1f0 * 8);
    expect(t.walk[3]!.entryAddress).toBe(b.entryAddressOf('PT', KVA));
    expect(t.walk[3]!.entry).toBe(0x2345003n);
    for (const s of t.walk) expect(s.entry).toBe(b.readU64(s.entryAddress));
    expect(as.read(KVA + 0x10n, 32).data).toEqual(data.subarray(0x10, 0x30));
  });

  it('translates a 2 MiB page (PDE.PS) and ignores the PAT bit 12 in the base', () => {
    const b = new PageTableBuilder();
    const va = 0xfffff80000400000n;
    b.map(va, 0x600000, '2M', { extraBits: 1n << 12n }); // bit 12 = PAT in a large-page PDE
    const as = new X64AddressSpace(b.source, b.dtb);
    const t = as.translate(va + 0x1abcden);
    expect(t).toMatchObject({ pa: 0x600000 + 0x1abcde, page: '2M', reason: 'resident' });
    expect(t.walk).toHaveLength(3);
    expect(t.walk[2]!.level).toBe('PD');
  });

  it('translates a 1 GiB page (PDPTE.PS)', () => {
    const b = new PageTableBuilder();
    const va = 0x0000004040000000n;
    b.map(va, 0x40000000, '1G');
    fill(b.source, 0x40000000 + 0x3fff_f000, 4096, 9);
    const as = new X64AddressSpace(b.source, b.dtb);
    const t = as.translate(va + 0x3fff_f123n);
    expect(t).toMatchObject({ pa: 0x40000000 + 0x3fff_f123, page: '1G', reason: 'resident' });
    expect(t.walk.map((s) => s.level)).toEqual(['PML4', 'PDPT']);
    expect(as.read(va + 0x3fff_f000n, 4).data).toEqual(b.source.read(0x7ffff000, 4).data);
  });

  it('ignores NX (bit 63) and software bits 52..62 in the address, at every level', () => {
    const b = new PageTableBuilder();
    b.map(UVA, 0x3000000, '4K', { noExecute: true, extraBits: 0x7ff0000000000000n });
    // also set high bits on the intermediate entries
    for (const lvl of ['PML4', 'PDPT', 'PD'] as const) {
      const ea = b.entryAddressOf(lvl, UVA);
      b.source.writeU64(ea, b.readU64(ea) | (1n << 63n) | (0x5an << 52n));
    }
    const t = new X64AddressSpace(b.source, b.dtb).translate(UVA + 0xfffn);
    expect(t).toMatchObject({ pa: 0x3000fff, page: '4K', reason: 'resident' });
  });

  it('masks the DTB: PCID low bits (0x…002) translate exactly like the aligned DTB', () => {
    const b = new PageTableBuilder({ tableBase: 0x4e312000 });
    expect(b.pml4).toBe(0x4e312000);
    b.map(KVA, 0x5000, '4K');
    b.map(0x00007ff6a0000000n, 0x600000, '2M');
    const aligned = new X64AddressSpace(b.source, 0x4e312000n);
    const pcid = new X64AddressSpace(b.source, 0x4e312002n);
    expect(pcid.pml4).toBe(0x4e312000);
    expect(pcid.dtbRaw).toBe(0x4e312002n);
    expect(b.dtbWithPcid(2)).toBe(0x4e312002n);
    for (const va of [KVA, KVA + 0x7ffn, UVA + 0x12345n, 0x1000n]) expect(pcid.translate(va)).toEqual(aligned.translate(va));
    expect(pcid.translate(KVA).pa).toBe(0x5000);
    // bits above 51 in CR3 are not address bits either
    expect(new X64AddressSpace(b.source, 0x8000_0000_4e312fffn).translate(KVA).pa).toBe(0x5000);
  });
});

describe('X64AddressSpace not-resident reasons', () => {
  it('names the level whose entry is not present', () => {
    const b = new PageTableBuilder();
    const as = () => new X64AddressSpace(b.source, b.dtb);
    expect(as().translate(KVA)).toMatchObject({ pa: null, page: null, reason: 'PML4E not present' });
    expect(as().translate(KVA).walk).toHaveLength(1);
    b.setEntry('PDPT', KVA, 0n);
    expect(as().translate(KVA).reason).toBe('PDPTE not present');
    b.setEntry('PD', KVA, 0x2000n); // address bits but P=0
    expect(as().translate(KVA).reason).toBe('PDE not present');
    b.setEntry('PT', KVA, 0n);
    const t = as().translate(KVA);
    expect(t.reason).toBe('PTE not present');
    expect(t.walk).toHaveLength(4);
    expect(t.walk[3]!.entry).toBe(0n);
  });

  it('resolves a Windows transition PTE to its physical page', () => {
    const b = new PageTableBuilder();
    b.setPte(UVA, PageTableBuilder.transitionPte(0x7654000));
    const data = fill(b.source, 0x7654000, 4096, 3);
    const as = new X64AddressSpace(b.source, b.dtb);
    expect(as.translate(UVA + 0x42n)).toMatchObject({ pa: 0x7654042, page: '4K', reason: 'transition' });
    const r = as.read(UVA, 4096);
    expect(r.missing).toEqual([]);
    expect(r.data).toEqual(data);
  });

  it('reports prototype, page-file and demand-zero PTEs as not resident with the reason', () => {
    const b = new PageTableBuilder();
    const vas = [UVA, UVA + 0x1000n, UVA + 0x2000n, UVA + 0x3000n];
    b.setPte(vas[0]!, PageTableBuilder.prototypePte());
    b.setPte(vas[1]!, PageTableBuilder.pageFilePte(0x1234, 1));
    b.setPte(vas[2]!, PageTableBuilder.demandZeroPte());
    // prototype bit wins even with the transition bit set (bit 11 is _MMPTE_PROTOTYPE.Combined)
    b.setPte(vas[3]!, PageTableBuilder.prototypePte() | (1n << 11n));
    const as = new X64AddressSpace(b.source, b.dtb);
    expect(as.translateMany(vas).map((t) => [t.pa, t.reason])).toEqual([
      [null, 'prototype PTE (not resident)'],
      [null, 'page file PTE (not resident)'],
      [null, 'demand-zero PTE (not resident)'],
      [null, 'prototype PTE (not resident)'],
    ]);
  });

  it('un-swizzles page-file PTEs when given the InvalidPteMask (Win10 1803+)', () => {
    const b = new PageTableBuilder();
    const mask = 0x0000_8000; // high half of a swizzle mask
    // a demand-zero PTE as written with SwizzleBit clear: PageFileHigh holds the mask itself
    b.setPte(UVA, (BigInt(mask) << 32n) | (4n << 5n));
    expect(new X64AddressSpace(b.source, b.dtb).translate(UVA).reason).toBe('page file PTE (not resident)');
    expect(new X64AddressSpace(b.source, b.dtb, { invalidPteMaskHigh: mask }).translate(UVA).reason).toBe('demand-zero PTE (not resident)');
  });

  it('reports non-canonical addresses without walking', () => {
    const b = new PageTableBuilder();
    const as = new X64AddressSpace(b.source, b.dtb);
    for (const va of [0x0000800000000000n, 0xffff7fffffffffffn, 0x1234567812345678n, -1n, 1n << 64n]) {
      expect(as.translate(va)).toMatchObject({ pa: null, page: null, reason: 'non-canonical address', walk: [] });
    }
    expect(as.translate(0xffff800000000000n).reason).toBe('PML4E not present'); // lowest kernel VA is canonical
  });

  it('answers "absent from source" for a DTB outside physical memory, without throwing', () => {
    const src = new MemorySource({ runs: [{ start: 0, length: 0x100000 }] });
    const as = new X64AddressSpace(src, 0x4e312002n);
    const t = as.translate(KVA);
    expect(t).toMatchObject({ pa: null, reason: 'page table at 0x4e312000 absent from source' });
    expect(t.walk).toEqual([{ level: 'PML4', entryAddress: 0x4e312000 + 0x1f0 * 8, entry: null }]);
    const r = as.read(KVA, 16);
    expect(r.missing).toEqual([{ va: KVA, length: 16, reason: 'page table at 0x4e312000 absent from source' }]);
  });

  it('answers "absent from source" when an entry points into a hole between runs', () => {
    const src = new MemorySource({ runs: [{ start: 0, length: 0x400000 }, { start: 0x800000, length: 0x400000 }] });
    const b = new PageTableBuilder({ source: src });
    b.setEntry('PD', KVA, 0x600000n | 3n); // PT would be at 0x600000, in the hole
    const t = new X64AddressSpace(src, b.dtb).translate(KVA);
    expect(t.reason).toBe('page table at 0x600000 absent from source');
    expect(t.walk[3]).toEqual({ level: 'PT', entryAddress: 0x600000 + 0x145 * 8, entry: null });
  });

  it('walks the Windows self-map: a self-referencing PML4E yields the PML4 page itself', () => {
    const b = new PageTableBuilder();
    b.selfMap(0x1ed);
    b.map(KVA, 0x9000, '4K');
    const as = new X64AddressSpace(b.source, b.dtb);
    const self = vaFromIndices(0x1ed, 0x1ed, 0x1ed, 0x1ed);
    expect(self).toBe(0xfffff6fb7dbed000n);
    const t = as.translate(self + 0x1f0n * 8n);
    expect(t).toMatchObject({ pa: b.pml4 + 0x1f0 * 8, page: '4K', reason: 'resident' });
    expect(t.walk.every((s) => s.entryAddress === b.pml4 + 0x1ed * 8)).toBe(true);
    // reading PML4[0x1f0] through the self-map gives the same bytes as reading it physically
    expect(as.read(self + 0x1f0n * 8n, 8).data).toEqual(b.source.read(b.pml4 + 0x1f0 * 8, 8).data);
    // one level less deep: the PTE of KVA, at MiGetPteAddress(KVA) = PTE_BASE + (KVA>>9 & 0x7ffffffff8)
    const pteBase = vaFromIndices(0x1ed, 0, 0, 0);
    const pteVa = pteBase + ((KVA >> 9n) & 0x7ffffffff8n);
    expect(as.translate(pteVa).pa).toBe(b.entryAddressOf('PT', KVA));
  });

  it('survives a table loop in which a PDPTE and PDE point back at the PML4', () => {
    const b = new PageTableBuilder();
    b.setEntry('PDPT', KVA, BigInt(b.pml4) | 3n);
    const as = new X64AddressSpace(b.source, b.dtb);
    const t = as.translate(KVA);
    expect(t.walk).toHaveLength(3); // PD = PML4 page; its entry for KVA's PD index (0x91) is empty
    expect(t.reason).toBe('PDE not present');
  });
});

describe('X64AddressSpace.read', () => {
  it('reads across page boundaries onto unrelated physical pages, reporting the missing page', () => {
    const b = new PageTableBuilder();
    const va = 0xffffc00000010000n;
    b.map(va, 0x3456000);
    b.map(va + 0x1000n, 0x1111000); // next VA page is physically *below* the first
    // va + 0x2000 is not mapped (PTE zero in the same PT)
    b.setPte(va + 0x2000n, 0n);
    b.map(va + 0x3000n, 0x1112000); // physically contiguous with the 2nd page
    const p0 = fill(b.source, 0x3456000, 4096, 10);
    const p1 = fill(b.source, 0x1111000, 4096, 20);
    const p3 = fill(b.source, 0x1112000, 4096, 30);
    const as = new X64AddressSpace(b.source, b.dtb);
    const r = as.read(va + 0xff0n, 0x3010);
    expect(r.data.subarray(0, 0x10)).toEqual(p0.subarray(0xff0));
    expect(r.data.subarray(0x10, 0x1010)).toEqual(p1);
    expect(r.data.subarray(0x1010, 0x2010)).toEqual(new Uint8Array(0x1000));
    expect(r.data.subarray(0x2010, 0x3010)).toEqual(p3);
    expect(r.missing).toEqual([{ va: va + 0x2000n, length: 0x1000, reason: 'PTE not present' }]);
  });

  it('reports physical pages absent from the source', () => {
    const src = new MemorySource({ runs: [{ start: 0, length: 0x400000 }] });
    const b = new PageTableBuilder({ source: src });
    b.map(UVA, 0x1000);
    b.map(UVA + 0x1000n, 0x80000000); // past the end of physical memory
    const r = new X64AddressSpace(src, b.dtb).read(UVA + 0xffcn, 8);
    expect(r.missing).toEqual([{ va: UVA + 0x1000n, length: 4, reason: 'physical memory at 0x80000000 absent from source' }]);
  });

  it('rejects absurd lengths and reads past 2^64 with a clear error', () => {
    const b = new PageTableBuilder();
    const as = new X64AddressSpace(b.source, b.dtb);
    expect(() => as.read(KVA, 2 ** 40)).toThrow(/exceeds the 64 MiB limit/);
    expect(() => as.read(KVA, -1)).toThrow(/not a non-negative integer/);
    expect(() => as.read(KVA, 1.5)).toThrow(/not a non-negative integer/);
    expect(() => as.read(0xfffffffffffff000n, 0x2000)).toThrow(/past the top/);
    expect(as.read(KVA, 0).data.length).toBe(0);
  });

  it('merges a large non-canonical read into one missing range', () => {
    const b = new PageTableBuilder();
    const r = new X64AddressSpace(b.source, b.dtb).read(0x0000800000000000n, 0x10000);
    expect(r.missing).toEqual([{ va: 0x0000800000000000n, length: 0x10000, reason: 'non-canonical address' }]);
  });
});

describe('X64AddressSpace caching', () => {
  it('translates a million addresses with a handful of source reads (TLB on)', () => {
    const b = new PageTableBuilder();
    for (let i = 0n; i < 64n; i++) b.map(KVA + i * 0x1000n, 0x2000000 + Number(i) * 0x3000);
    const counting = new CountingSource(b.source);
    const as = new X64AddressSpace(counting, b.dtb);
    const vas: bigint[] = [];
    for (let i = 0; i < 1_000_000; i++) vas.push(KVA + BigInt((i * 4099) % (64 * 4096)));
    const t0 = performance.now();
    const out = as.translateMany(vas);
    const ms = performance.now() - t0;
    expect(out).toHaveLength(1_000_000);
    const off = (4099 * 999_999) % (64 * 4096);
    expect(out[999_999]!.pa).toBe(0x2000000 + Math.floor(off / 4096) * 0x3000 + (off % 4096));
    expect(counting.reads).toBe(4); // PML4, PDPT, PD, PT pages: once each
    expect(ms).toBeLessThan(20_000); // sanity bound only: CI machines are shared
  });

  it('without a TLB, the table-page cache still bounds source reads', () => {
    const b = new PageTableBuilder();
    b.map(KVA, 0x5000);
    const counting = new CountingSource(b.source);
    const as = new X64AddressSpace(counting, b.dtb, { tlbEntries: 0 });
    for (let i = 0; i < 20_000; i++) expect(as.translate(KVA + BigInt(i & 0xfff)).pa).toBe(0x5000 + (i & 0xfff));
    expect(counting.reads).toBe(4);
  });

  it('keeps the table cache bounded (LRU) and re-reads only evicted pages', () => {
    const b = new PageTableBuilder();
    // 8 different PTs (one per 2 MiB region)
    const vas = Array.from({ length: 8 }, (_, i) => KVA + BigInt(i) * 0x200000n);
    vas.forEach((va, i) => b.map(va, 0x10000 + i * 0x1000));
    const counting = new CountingSource(b.source);
    const as = new X64AddressSpace(counting, b.dtb, { tlbEntries: 0, tableCachePages: 4 });
    for (const va of vas) as.translate(va);
    const first = counting.reads;
    expect(first).toBeGreaterThanOrEqual(11); // PML4 + PDPT + PD + 8 PTs, some re-read after eviction
    for (const va of vas) expect(as.translate(va).pa).not.toBeNull();
    expect(counting.reads).toBeGreaterThan(first); // capacity 4 < working set: bounded, so it re-reads
  });

  it('shares one table cache between address spaces of the same source, and refuses another source', () => {
    const b = new PageTableBuilder();
    b.map(KVA, 0x5000);
    const counting = new CountingSource(b.source);
    const cache = new PageTableCache(counting);
    new X64AddressSpace(counting, b.dtb, { tableCache: cache }).translate(KVA);
    new X64AddressSpace(counting, b.dtbWithPcid(7), { tableCache: cache }).translate(KVA);
    expect(counting.reads).toBe(4);
    expect(() => new X64AddressSpace(b.source, b.dtb, { tableCache: cache })).toThrow(/belongs to/);
  });
});
