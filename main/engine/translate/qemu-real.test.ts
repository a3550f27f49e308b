/**
 * x64 translation and the ELF-core reader on REAL bytes: a Debian kernel booted in QEMU (TCG),
 * stopped, dumped with `dump-guest-memory`, with QEMU's own `info tlb` page walk and `info registers`
 * CR3 as the reference (testing/qemu-fixture.ts; cached in .cache/fixtures after the first boot).
 * binutils `readelf -l` is the independent reference for the PT_LOAD layout, and the guest's own
 * /proc/version and /proc/kallsyms (printed by its /init) for the bytes read through translation.
 *
 * Missing qemu, kernel or busybox-static makes this suite FAIL with the step and package named.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSource } from '../sources/detect.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import { hex } from '../util/hex.js';
import type { PageSize } from './types.js';
import { X64AddressSpace } from './x64/address-space.js';
import { checkPrerequisites, qemuFixture, type QemuFixture } from './testing/qemu-fixture.js';
import { PAGE_BYTES, parseCr3, parseInfoTlb, type TlbLeaf } from './testing/qemu-reference.js';

let fx: QemuFixture;
let source: PhysicalSource;
let leaves: TlbLeaf[];
let cr3: bigint;
let kallsyms: Map<string, bigint>;

/** Deterministic xorshift32, so a failure names addresses that reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

beforeAll(async () => {
  fx = await qemuFixture({ log: (l) => console.log(l) });
  source = openSource(fx.corePath);
  leaves = parseInfoTlb(fx.infoTlb);
  cr3 = parseCr3(fx.infoRegisters);
  kallsyms = new Map();
  for (const line of fx.guestReport.split('\n')) {
    const m = /^([0-9a-f]{16}) \w (\S+)$/.exec(line.trim());
    if (m) kallsyms.set(m[2]!, BigInt('0x' + m[1]!));
  }
}, 200_000);

afterAll(() => source?.close());

describe('QEMU ELF core (dump-guest-memory) read by content', () => {
  it('is detected as an ELF core and its runs are exactly the PT_LOADs readelf reports', () => {
    expect(source.kind).toBe('elf-core');
    const out = execFileSync('readelf', ['-lW', fx.corePath], { encoding: 'utf8', timeout: 20_000 });
    const loads = [...out.matchAll(/^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)/gm)]
      .map((m) => ({ start: Number.parseInt(m[3]!, 16), length: Number.parseInt(m[4]!, 16) }))
      .sort((a, b) => a.start - b.start);
    expect(loads.length).toBeGreaterThan(0);
    expect(source.runs().map((r) => ({ start: r.start, length: r.length }))).toEqual(loads);
    const last = loads[loads.length - 1]!;
    expect(source.size).toBe(last.start + last.length);
  });

  it('takes CR3 from the QEMU CPU note, equal to `info registers` CR3', () => {
    expect(cr3).toBeGreaterThan(0n);
    expect(source.hints.dtb).toBe(cr3);
    expect(source.hints.numberOfProcessors).toBe(1);
  });

  it('reports a hole between PT_LOADs as absent', () => {
    const runs = source.runs();
    const first = runs[0]!;
    const gapAt = first.start + first.length; // pc machine: RAM ends, BIOS ROM at 0xfffc0000
    if (runs.length > 1) expect(runs[1]!.start).toBeGreaterThan(gapAt);
    const r = source.read(gapAt - 16, 32);
    expect(r.absent).toEqual([{ start: gapAt, length: 16 }]);
  });
});

describe('X64AddressSpace against QEMU `info tlb` on a real Linux guest', () => {
  it('translates every present leaf QEMU reports to exactly its PA and page size', () => {
    const space = new X64AddressSpace(source, cr3);
    const next = rng(0x5eed);
    const seen: Record<PageSize, number> = { '4K': 0, '2M': 0, '1G': 0 };
    const mismatches: string[] = [];
    let compared = 0;
    for (const leaf of leaves) {
      seen[leaf.page]++;
      const size = PAGE_BYTES[leaf.page];
      // the first byte, the last byte, a random byte; plus random 4K frames inside large pages
      const offsets = [0n, size - 1n, BigInt(next()) % size];
      const interior = leaf.page === '1G' ? 4096 : leaf.page === '2M' ? 16 : 0;
      for (let k = 0; k < interior; k++) offsets.push(((BigInt(next()) * 4096n) % size) + BigInt(next() & 0xfff));
      for (const off of offsets) {
        const t = space.translate(leaf.va + off);
        compared++;
        const want = leaf.pa + Number(off);
        if (t.pa !== want || t.page !== leaf.page) {
          if (mismatches.length < 10) mismatches.push(`${hex(leaf.va + off)}: QEMU ${hex(want)} ${leaf.page}, ours ${t.pa === null ? 'null' : hex(t.pa)} ${t.page} (${t.reason})`);
        }
      }
    }
    console.log(`info tlb: ${leaves.length} leaves (4K ${seen['4K']}, 2M ${seen['2M']}, 1G ${seen['1G']}), ${compared} addresses compared`);
    expect(mismatches).toEqual([]);
    expect(leaves.length).toBeGreaterThan(1000);
    expect(seen['4K']).toBeGreaterThan(1000);
    // Linux maps its direct map with 2 MiB pages, and a whole RAM gigabyte with a 1 GiB page (PDPE1GB)
    expect(seen['2M']).toBeGreaterThan(0);
    expect(seen['1G']).toBeGreaterThan(0);
    // user half (the running process) and kernel half both covered
    expect(leaves.some((l) => l.va < 0x800000000000n)).toBe(true);
    expect(leaves.some((l) => l.va >= 0xffff800000000000n)).toBe(true);
  });

  it('answers "not present" for pages QEMU does not list (the gaps after each run of leaves)', () => {
    const space = new X64AddressSpace(source, cr3);
    const next = rng(0xbeef);
    const probes: bigint[] = [];
    for (let i = 0; i < leaves.length; i++) {
      const end = leaves[i]!.va + PAGE_BYTES[leaves[i]!.page];
      const nextStart = leaves[i + 1]?.va ?? 0x1_0000_0000_0000_0000n;
      if (end >= nextStart) continue;
      const gapPages = (nextStart - end) / 0x1000n;
      probes.push(end); // the page right after a mapped run: exercises not-present PTEs/PDEs
      if (gapPages > 2n) probes.push(end + (BigInt(next()) % gapPages) * 0x1000n);
      if (gapPages > 1n) probes.push(nextStart - 0x1000n); // the page right before the next run
    }
    const canonical = probes.filter((va) => va < 0x800000000000n || va >= 0xffff800000000000n);
    const reasons = new Map<string, number>();
    const wrong: string[] = [];
    for (const va of canonical) {
      const t = space.translate(va);
      reasons.set(t.reason, (reasons.get(t.reason) ?? 0) + 1);
      if (t.pa !== null && wrong.length < 10) wrong.push(`${hex(va)} -> ${hex(t.pa)} ${t.page} (${t.reason})`);
    }
    console.log(`not-present probes: ${canonical.length}; reasons ${JSON.stringify(Object.fromEntries(reasons))}`);
    expect(wrong).toEqual([]);
    expect(canonical.length).toBeGreaterThan(500);
    // the walk stopped at every level somewhere: proof the probes reach PML4E, PDPTE, PDE and PTE
    for (const r of ['PML4E not present', 'PDPTE not present', 'PDE not present', 'PTE not present']) expect(reasons.get(r) ?? 0).toBeGreaterThan(0);
  });

  it('reads the kernel banner through translation: linux_banner bytes equal the guest /proc/version', () => {
    const banner = kallsyms.get('linux_banner');
    expect(banner, 'kallsyms line for linux_banner printed by the guest /init').toBeDefined();
    const version = fx.guestReport.split('\n')[0]!;
    expect(version).toMatch(/^Linux version /);
    const space = new X64AddressSpace(source, cr3);
    const want = new TextEncoder().encode(version + '\n');
    const v = space.read(banner!, want.length);
    expect(v.missing).toEqual([]);
    expect(new TextDecoder().decode(v.data)).toBe(version + '\n');
    // the same bytes straight from the physical address QEMU's walk gives for that page
    const leaf = leafFor(banner!);
    const pa = leaf.pa + Number(banner! - leaf.va);
    expect(space.translate(banner!).pa).toBe(pa);
    expect(source.read(pa, want.length).data).toEqual(v.data);
    // and through the direct map (VA = PAGE_OFFSET + PA; PAGE_OFFSET from QEMU's 1 GiB leaf, which
    // maps a RAM gigabyte there): a second, unrelated walk to the same bytes
    const giant = leaves.find((l) => l.page === '1G');
    expect(giant, 'a 1 GiB leaf in info tlb').toBeDefined();
    const direct = giant!.va - BigInt(giant!.pa) + BigInt(pa);
    const d = space.translate(direct);
    expect(d.pa).toBe(pa);
    expect(d.page).not.toBeNull();
    expect(space.read(direct, want.length).data).toEqual(v.data);
  });

  it('reads 256 KiB of kernel text virtually, page by page equal to the PAs QEMU reports', () => {
    const text = kallsyms.get('_text');
    expect(text, 'kallsyms line for _text').toBeDefined();
    const space = new X64AddressSpace(source, cr3);
    const length = 256 * 1024;
    const v = space.read(text!, length);
    expect(v.missing).toEqual([]);
    for (let off = 0; off < length; off += 4096) {
      const leaf = leafFor(text! + BigInt(off));
      const pa = leaf.pa + Number(text! + BigInt(off) - leaf.va);
      expect(Buffer.from(source.read(pa, 4096).data).equals(Buffer.from(v.data.subarray(off, off + 4096))), `page at ${hex(text! + BigInt(off))}`).toBe(true);
    }
    expect(v.data.some((b) => b !== 0)).toBe(true);
  });
});

function leafFor(va: bigint): TlbLeaf {
  let lo = 0;
  let hi = leaves.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (leaves[mid]!.va <= va) lo = mid;
    else hi = mid - 1;
  }
  const leaf = leaves[lo]!;
  if (!(leaf.va <= va && va < leaf.va + PAGE_BYTES[leaf.page])) throw new Error(`${hex(va)} is not in QEMU's info tlb`);
  return leaf;
}

describe('QEMU fixture prerequisites', () => {
  it('fail with one message naming the missing program and its Debian package', () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => checkPrerequisites()).toThrow(/qemu-system-x86_64 not on PATH \(Debian package qemu-system-x86\).*scripts\/setup\.sh/);
    } finally {
      process.env.PATH = saved;
    }
  });
});
