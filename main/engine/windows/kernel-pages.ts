/**
 * Physical page → kernel virtual page, for every page the kernel half (PML4 entries 256..511) maps.
 * A physical pool scan finds a `Proc` tag at a PA; the object-header type cookie and the second half
 * of an EPROCESS that straddles a page need the block's kernel VA, which only the kernel's page
 * tables know. One bounded walk builds a compact table (one float per physical page: VA >> 12, which
 * is at most 36 bits and exact in a double) instead of a map of bigints.
 *
 * Loop-safe: each table page is walked once (Windows' self-map entry and hostile tables that point
 * back up are skipped), and the walk stops at a table budget.
 */
import type { PhysicalSource } from '../sources/physical-source.js';
import { readTable } from './discovery/page-walk.js';

const FRAME = 0x000f_ffff_ffff_f000n;
const PS = 0x80n;
const PAGE = 4096;

export interface KernelPageMapOptions {
  /** Most page tables read (default 1<<17 = 512 MiB of tables; a real kernel half needs far fewer). */
  readonly maxTables?: number;
}

export class KernelPageMap {
  /** Index: physical page number. Value: kernel virtual page number (VA >> 12, low 36 bits) + 1; 0 = unmapped. */
  private readonly vpn: Float64Array;
  readonly tablesRead: number;
  readonly problems: readonly string[];

  private constructor(vpn: Float64Array, tablesRead: number, problems: string[]) {
    this.vpn = vpn;
    this.tablesRead = tablesRead;
    this.problems = problems;
  }

  static build(source: PhysicalSource, pml4: number, options: KernelPageMapOptions = {}): KernelPageMap {
    const pages = Math.ceil(source.size / PAGE);
    const vpn = new Float64Array(pages);
    const problems: string[] = [];
    const maxTables = options.maxTables ?? 1 << 17;
    const seen = new Set<number>([pml4]);
    let tablesRead = 0;
    const enter = (frame: number): BigUint64Array | null => {
      if (seen.has(frame) || tablesRead >= maxTables) return null;
      seen.add(frame);
      const t = readTable(source, frame);
      if (t) tablesRead++;
      return t;
    };
    // Record `count` consecutive 4 KiB pages starting at physical `pa` and virtual page `vpage`.
    const record = (pa: number, vpage: number, count: number) => {
      const first = pa / PAGE;
      for (let i = 0; i < count; i++) {
        const p = first + i;
        if (p >= pages) break;
        if (vpn[p] === 0) vpn[p] = vpage + i + 1;
      }
    };
    const top = readTable(source, pml4);
    if (!top) return new KernelPageMap(vpn, 0, [`PML4 page 0x${pml4.toString(16)} is outside the source`]);
    tablesRead++;
    for (let i4 = 256; i4 < 512; i4++) {
      const e4 = top[i4]!;
      if (!(e4 & 1n)) continue;
      const pdpt = enter(Number(e4 & FRAME));
      if (!pdpt) continue;
      for (let i3 = 0; i3 < 512; i3++) {
        const e3 = pdpt[i3]!;
        if (!(e3 & 1n)) continue;
        const v3 = (i4 - 256) * 512 * 512 * 512 + i3 * 512 * 512; // VPN relative to 0xffff800000000000
        if (e3 & PS) { record(Number(e3 & 0x000f_ffff_c000_0000n), v3, 512 * 512); continue; }
        const pd = enter(Number(e3 & FRAME));
        if (!pd) continue;
        for (let i2 = 0; i2 < 512; i2++) {
          const e2 = pd[i2]!;
          if (!(e2 & 1n)) continue;
          const v2 = v3 + i2 * 512;
          if (e2 & PS) { record(Number(e2 & 0x000f_ffff_ffe0_0000n), v2, 512); continue; }
          const pt = enter(Number(e2 & FRAME));
          if (!pt) continue;
          for (let i1 = 0; i1 < 512; i1++) {
            const e1 = pt[i1]!;
            if (e1 & 1n) record(Number(e1 & FRAME), v2 + i1, 1);
          }
        }
      }
    }
    if (tablesRead >= maxTables) problems.push(`kernel page walk stopped after ${maxTables} page tables (budget)`);
    return new KernelPageMap(vpn, tablesRead, problems);
  }

  /** Kernel VA mapping physical address `pa`, or null when no kernel page maps it. */
  vaOf(pa: number): bigint | null {
    const p = Math.floor(pa / PAGE);
    const v = this.vpn[p];
    if (!v) return null;
    return 0xffff_8000_0000_0000n + (BigInt(v - 1) << 12n) + BigInt(pa % PAGE);
  }
}
