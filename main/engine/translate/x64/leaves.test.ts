import { describe, expect, it } from 'vitest';
import { PageTableBuilder, vaFromIndices } from '../testing/page-table-builder.js';
import type { PageSize } from '../types.js';
import { X64AddressSpace } from './address-space.js';
import { forEachLeaf, vaOfVpn, vpnOfVa, type LeafWalkOptions } from './leaves.js';

interface Leaf { va: bigint; frame: number; size: PageSize; transition: boolean }

function leaves(b: PageTableBuilder, options?: LeafWalkOptions): { list: Leaf[]; problems: readonly string[]; tablesRead: number } {
  const list: Leaf[] = [];
  const r = forEachLeaf(b.source, b.pml4, (vpn, frame, size, transition) => list.push({ va: vaOfVpn(vpn), frame, size, transition }), options);
  return { list, problems: r.problems, tablesRead: r.tablesRead };
}

describe('forEachLeaf', () => {
  it('lists 4K, 2M and 1G pages and transition PTEs in VA order, each as X64AddressSpace translates it', () => {
    const b = new PageTableBuilder();
    b.map(0x7ff6_a000_1000n, 0x30_1000);
    b.map(0xffff_f803_1220_0000n, 0x4060_0000, '2M');
    b.map(0xffff_c000_4000_0000n, 0x8000_0000, '1G');
    b.setPte(0xffff_f803_0000_5000n, PageTableBuilder.transitionPte(0x77_7000));
    // not mapped, whatever bits they carry: prototype, page file, demand zero
    b.setPte(0xffff_f803_0000_6000n, PageTableBuilder.prototypePte());
    b.setPte(0xffff_f803_0000_7000n, PageTableBuilder.pageFilePte(0x1234));
    b.setPte(0xffff_f803_0000_8000n, PageTableBuilder.demandZeroPte());
    const { list, problems } = leaves(b);
    expect(problems).toEqual([]);
    expect(list).toEqual([
      { va: 0x7ff6_a000_1000n, frame: 0x30_1000, size: '4K', transition: false },
      { va: 0xffff_c000_4000_0000n, frame: 0x8000_0000, size: '1G', transition: false },
      { va: 0xffff_f803_0000_5000n, frame: 0x77_7000, size: '4K', transition: true },
      { va: 0xffff_f803_1220_0000n, frame: 0x4060_0000, size: '2M', transition: false },
    ]);
    const as = new X64AddressSpace(b.source, b.dtb);
    for (const l of list) expect(as.translate(l.va)).toMatchObject({ pa: l.frame, page: l.size, reason: l.transition ? 'transition' : 'resident' });
    for (const va of [0xffff_f803_0000_6000n, 0xffff_f803_0000_7000n, 0xffff_f803_0000_8000n]) expect(as.translate(va).pa).toBeNull();
  });

  it('keeps to the VPN range, reporting a large page that overlaps it whole', () => {
    const b = new PageTableBuilder();
    b.map(0xffff_f800_0020_0000n, 0x20_0000, '2M');
    b.map(0xffff_f800_0040_0000n, 0x40_0000);
    b.map(0xffff_f800_0040_1000n, 0x40_1000);
    const from = vpnOfVa(0xffff_f800_0030_0000n);
    const to = vpnOfVa(0xffff_f800_0040_0000n);
    expect(leaves(b, { firstVpn: from, lastVpn: to }).list.map((l) => l.va)).toEqual([0xffff_f800_0020_0000n, 0xffff_f800_0040_0000n]);
  });

  it('skips the self-map silently, walks a shared table under each VA, and stops a loop with one problem', () => {
    const b = new PageTableBuilder();
    b.selfMap(0x1ed);
    const kva = 0xffff_f800_0000_3000n;
    b.map(kva, 0x55_5000);
    // PML4[0x1f1] shares the PDPT of PML4[0x1f0]: the page is mapped at two VAs
    b.source.writeU64(b.pml4 + 0x1f1 * 8, b.readU64(b.pml4 + 0x1f0 * 8));
    const alias = kva + (1n << 39n);
    expect(new X64AddressSpace(b.source, b.dtb).translate(alias).pa).toBe(0x55_5000);
    const ok = leaves(b);
    expect(ok.problems).toEqual([]);
    expect(ok.list.map((l) => l.va)).toEqual([kva, alias]);
    // a PD entry pointing back at the PML4 (a loop): not followed, reported once
    const pd = b.entryAddressOf('PD', vaFromIndices(0x1f0, 0, 1, 0));
    b.source.writeU64(pd, BigInt(b.pml4) | 3n);
    const loop = leaves(b);
    expect(loop.problems).toEqual([expect.stringMatching(/points back at a table above it \(a loop\)/)]);
    expect(loop.list.map((l) => l.va)).toEqual([kva, alias]);
  });

  it('reads at most maxTables table pages and says so', () => {
    const b = new PageTableBuilder();
    for (let i = 0; i < 20; i++) b.map(vaFromIndices(0x1f0, i, 0, 0), 0x100_0000 + i * 0x1000);
    const r = leaves(b, { maxTables: 10 });
    expect(r.tablesRead).toBe(10);
    expect(r.problems).toEqual(['stopped after 10 page tables (budget)']);
    expect(r.list.length).toBeGreaterThan(0);
    expect(r.list.length).toBeLessThan(20);
  });

  it('reports a PML4 outside the source instead of walking', () => {
    const b = new PageTableBuilder();
    const r = forEachLeaf(b.source, 0x2_0000_0000, () => { throw new Error('no leaf expected'); });
    expect(r.problems).toEqual(['PML4 page 0x200000000 is outside the source or absent']);
  });
});
