/**
 * One page-table walker (issue 11 part 3): on a sample machine from the independent image builder,
 * discovery's enumeration and translation (discovery/page-walk.ts), the kernel page map psscan uses
 * (kernel-pages.ts, through plugins/psscan/pool-objects.ts) and the kernel's address space
 * (translate/x64) agree on every mapped page of the kernel half — transition PTEs included — and all
 * of them agree with the builder's own walk (sample/paging.ts, written separately from the SDM) and
 * with the software PTEs its truth lists.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { kernelObjects } from '../plugins/psscan/pool-objects.js';
import { buildImage } from '../sample/image.js';
import { AddressSpace } from '../sample/paging.js';
import { PAGE_SIZE } from '../sample/physmem.js';
import { resolveSampleProfile } from '../sample/profile-source.js';
import { STANDBY_MARKER, type GroundTruth } from '../sample/truth.js';
import { MemorySource } from '../sources/memory-source.js';
import { hex } from '../util/hex.js';
import { enumerateMappings, translateVa } from './discovery/page-walk.js';
import { discoverKernel } from './discovery/discover.js';
import { isfProviders } from './discovery/testing/isf-providers.js';
import type { WindowsKernel } from './kernel.js';

let source: MemorySource;
let builderWalk: AddressSpace;
let truth: Omit<GroundTruth, 'format'>;
let kernel: WindowsKernel;
/** Every kernel-half 4 KiB page discovery enumerates: VA → frame. */
const pages = new Map<bigint, number>();

beforeAll(async () => {
  const { profile, version, buildNumber } = await resolveSampleProfile('19041');
  const image = buildImage(profile, buildNumber, version, { sizeMiB: 512, processes: 8, seed: 7, lowStub: true });
  truth = image.truth;
  source = new MemorySource({ runs: image.mem.runs });
  for (const [pfn, page] of image.mem.storedPages()) source.write(pfn * PAGE_SIZE, page);
  builderWalk = new AddressSpace(image.mem, Number(BigInt(truth.pml4)));
  ({ kernel } = await discoverKernel(source, { store: isfProviders }));
  const walk = enumerateMappings(source, Number(BigInt(truth.pml4)), 0xffff_8000_0000_0000n, 0xffff_ffff_ffff_ffffn, { maxTables: 1 << 16 });
  expect(walk.problems).toEqual([]);
  for (const m of walk.mappings) for (let off = 0; off < m.size; off += PAGE_SIZE) pages.set(m.va + BigInt(off), m.pa + off);
}, 120_000);

describe('discovery, the kernel page map and translate agree on every mapped kernel page', () => {
  it('the sample maps 4K and 2M pages and transition PTEs, and the one walker sees all of them', () => {
    expect(BigInt(kernel.dtb) & ~0xfffn).toBe(BigInt(truth.pml4));
    const transitions = (truth.kernelSoftwarePtes ?? []).filter((p) => p.kind === 'transition');
    expect(transitions.length).toBeGreaterThanOrEqual(3);
    expect(pages.size).toBeGreaterThan(1000);
    for (const t of transitions) expect(pages.get(BigInt(t.va)), `transition page ${t.va}`).toBe(Number(BigInt(t.pa!)));
    // the kernel image on 2 MiB pages: every 4 KiB frame inside them is listed
    const base = BigInt(truth.kernelBase);
    expect(pages.has(base) && pages.has(base + 0x1f_f000n)).toBe(true);
  });

  it('translate (the kernel address space and discovery) gives each page the frame the enumeration gives', () => {
    const wrong: string[] = [];
    let transition = 0;
    for (const [va, pa] of pages) {
      const t = kernel.kernel.translate(va + 0x10n);
      if (t.reason === 'transition') transition++;
      if (t.pa !== pa + 0x10 && wrong.length < 5) wrong.push(`${hex(va)}: enumerated ${hex(pa)}, translate ${t.pa === null ? t.reason : hex(t.pa)}`);
    }
    expect(wrong).toEqual([]);
    expect(transition).toBe((truth.kernelSoftwarePtes ?? []).filter((p) => p.kind === 'transition').length);
    let i = 0;
    for (const [va, pa] of pages) if (i++ % 97 === 0) expect(translateVa(source, kernel.kernel.pml4, va)).toBe(pa);
  });

  it("the builder's own walk agrees on every resident page; transition pages hold the data it left there", () => {
    const software = new Map((truth.kernelSoftwarePtes ?? []).map((p) => [BigInt(p.va), p]));
    const wrong: string[] = [];
    for (const [va, pa] of pages) {
      const sw = software.get(va);
      const want = sw ? Number(BigInt(sw.pa!)) : builderWalk.translate(va);
      if (want !== pa && wrong.length < 5) wrong.push(`${hex(va)}: builder ${want === null ? 'unmapped' : hex(want)}, engine ${hex(pa)}`);
    }
    expect(wrong).toEqual([]);
    for (const [va, sw] of software) {
      if (sw.kind !== 'transition') {
        expect(kernel.kernel.translate(va).pa, `${sw.kind} PTE at ${sw.va}`).toBeNull();
        expect(pages.has(va)).toBe(false);
        continue;
      }
      const r = kernel.kernel.read(va, STANDBY_MARKER.length + 19);
      expect(r.missing).toEqual([]);
      expect(new TextDecoder().decode(r.data)).toBe(`${STANDBY_MARKER} ${hex(va)}`);
    }
  });

  it("psscan's kernel page map maps every enumerated frame back to a VA that translates to it (the lowest such VA)", () => {
    const { pages: map } = kernelObjects(kernel);
    expect(map.problems).toEqual([]);
    const lowest = new Map<number, bigint>();
    for (const [va, pa] of pages) if (pa < source.size && (!lowest.has(pa) || va < lowest.get(pa)!)) lowest.set(pa, va);
    const wrong: string[] = [];
    for (const [pa, va] of lowest) {
      const got = map.vaOf(pa + 0x123);
      if (got !== va + 0x123n && wrong.length < 5) wrong.push(`${hex(pa)}: lowest VA ${hex(va)}, page map ${got === null ? 'null' : hex(got)}`);
    }
    expect(wrong).toEqual([]);
    expect(map.mappedPages).toBe(lowest.size);
    // and nothing else: a frame no kernel page maps (a user page of a process) has no kernel VA
    const user = truth.processes.find((p) => p.foundBy.pslist);
    expect(user).toBeDefined();
    const pml4 = Number(BigInt(user!.dtb) & ~0xfffn);
    expect(lowest.has(pml4)).toBe(false);
    expect(map.vaOf(pml4)).toBeNull();
  });
});
