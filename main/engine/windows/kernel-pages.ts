/**
 * Physical page → kernel virtual page, for every page the kernel half (PML4 entries 256..511) maps.
 * A physical pool scan finds a `Proc` tag at a PA; the object-header type cookie and the second half
 * of an EPROCESS that straddles a page need the block's kernel VA, which only the kernel's page
 * tables know.
 *
 * Built from the engine's one walker (translate/x64/leaves.ts: the rules X64AddressSpace translates
 * with, transition PTEs included; each table walked once, the self-map skipped, a table budget), and
 * held as sorted, disjoint runs (first physical page, its virtual page, length) — a large page or a
 * stretch of PTEs mapping consecutive frames is one run. Memory follows what the kernel maps, not
 * how much RAM the machine has: nothing is allocated per physical page (a dense per-page table was
 * 512 MiB at 256 GiB of RAM).
 *
 * A frame mapped at several kernel VAs resolves to the lowest of them, whatever the walk order.
 */
import type { PhysicalSource } from '../sources/physical-source.js';
import { forEachLeaf, KERNEL_HALF_FIRST_VPN, vaOfVpn } from '../translate/x64/leaves.js';
import { PAGE_BYTES } from '../translate/x64/mmu.js';

const PAGE = 4096;

export interface KernelPageMapOptions {
  /** Most page tables read (default 1<<17 = 512 MiB of tables; a real kernel half needs far fewer). */
  readonly maxTables?: number;
  /** Most runs kept (default 1<<22: 80 MiB; tables built to alias one PT everywhere cannot exhaust memory). */
  readonly maxRuns?: number;
}

export class KernelPageMap {
  /** Disjoint runs sorted by first physical page number: frames first[i] .. first[i]+count[i]-1 map to
   *  virtual pages vpn[i] .. (48-bit VA >> 12). */
  private readonly first: Float64Array;
  private readonly vpn: Float64Array;
  private readonly count: Uint32Array;
  readonly tablesRead: number;
  readonly problems: readonly string[];

  private constructor(runs: Runs, tablesRead: number, problems: readonly string[]) {
    this.first = Float64Array.from(runs.first);
    this.vpn = Float64Array.from(runs.vpn);
    this.count = Uint32Array.from(runs.count); // < 2^28 pages: a run never exceeds 52-bit physical memory
    this.tablesRead = tablesRead;
    this.problems = problems;
  }

  static build(source: PhysicalSource, pml4: number, options: KernelPageMapOptions = {}): KernelPageMap {
    const pages = Math.ceil(source.size / PAGE);
    const maxRuns = options.maxRuns ?? 1 << 22;
    const leaves: Runs = { first: [], vpn: [], count: [] };
    let dropped = 0;
    const walk = forEachLeaf(source, pml4, (vpn, frame, size) => {
      const p = frame / PAGE;
      if (p >= pages) return; // a frame past the end of physical memory: nothing there to scan
      const n = Math.min(PAGE_BYTES[size] / PAGE, pages - p);
      const k = leaves.first.length - 1;
      // leaves arrive in VA order: one continuing the previous run in both spaces extends it
      if (k >= 0 && leaves.first[k]! + leaves.count[k]! === p && leaves.vpn[k]! + leaves.count[k]! === vpn) leaves.count[k]! += n;
      else if (leaves.first.length < maxRuns) { leaves.first.push(p); leaves.vpn.push(vpn); leaves.count.push(n); }
      else dropped++;
    }, { firstVpn: KERNEL_HALF_FIRST_VPN, maxTables: options.maxTables ?? 1 << 17 });
    const problems = walk.problems.map((p) => `kernel page walk: ${p}`);
    if (dropped > 0) problems.push(`kernel page map: more than ${maxRuns} runs of mapped frames; ${dropped} further kernel mappings ignored`);
    return new KernelPageMap(disjointByFrame(leaves), walk.tablesRead, problems);
  }

  /** Kernel VA mapping physical address `pa`, or null when no kernel page maps it. */
  vaOf(pa: number): bigint | null {
    const p = Math.floor(pa / PAGE);
    let lo = 0;
    let hi = this.first.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.first[mid]! <= p) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0 || p >= this.first[hi]! + this.count[hi]!) return null;
    return vaOfVpn(this.vpn[hi]! + (p - this.first[hi]!)) + BigInt(pa % PAGE);
  }

  /** Runs held (for tests and the bench: the map's size is 20 bytes a run). */
  get runs(): number {
    return this.first.length;
  }

  /** Physical pages some kernel VA maps. */
  get mappedPages(): number {
    let n = 0;
    for (const c of this.count) n += c;
    return n;
  }
}

interface Runs {
  readonly first: number[];
  readonly vpn: number[];
  readonly count: number[];
}

/**
 * Runs in VA order (as the walk yields them, so a lower index is a lower VA) → disjoint runs sorted
 * by frame, each frame kept under its lowest VA. Runs that do not overlap (the usual case: a frame
 * mapped once) are copied in frame order; otherwise a sweep over frame boundaries with a min-heap of
 * the runs covering the current frame (keyed by run index) decides: O(n log n) however they overlap.
 */
function disjointByFrame(runs: Runs): Runs {
  const { first, vpn, count } = runs;
  const n = first.length;
  const order = byFirstFrame(first);
  const out: Runs = { first: [], vpn: [], count: [] };
  const emit = (at: number, v: number, pages: number): void => {
    const k = out.first.length - 1;
    if (k >= 0 && out.first[k]! + out.count[k]! === at && out.vpn[k]! + out.count[k]! === v) out.count[k]! += pages;
    else { out.first.push(at); out.vpn.push(v); out.count.push(pages); }
  };
  let overlap = false;
  for (let i = 1; i < n && !overlap; i++) overlap = first[order[i]!]! < first[order[i - 1]!]! + count[order[i - 1]!]!;
  if (!overlap) {
    for (let i = 0; i < n; i++) emit(first[order[i]!]!, vpn[order[i]!]!, count[order[i]!]!);
    return out;
  }
  const heap = new MinHeap();
  let next = 0; // next run of `order` not yet pushed
  let at = n > 0 ? first[order[0]!]! : 0;
  while (next < n || heap.size > 0) {
    while (next < n && first[order[next]!]! <= at) heap.push(order[next++]!);
    while (heap.size > 0 && first[heap.top]! + count[heap.top]! <= at) heap.pop();
    if (heap.size === 0) {
      if (next < n) at = first[order[next]!]!;
      continue;
    }
    const win = heap.top;
    const end = Math.min(first[win]! + count[win]!, next < n ? first[order[next]!]! : Infinity);
    emit(at, vpn[win]! + (at - first[win]!), end - at);
    at = end;
  }
  return out;
}

/** Run indices ordered by first frame, then index; a native numeric sort of packed keys when they fit. */
function byFirstFrame(first: readonly number[]): ArrayLike<number> {
  const n = first.length;
  let max = 0;
  for (const f of first) if (f > max) max = f;
  if ((max + 1) * n < 2 ** 53) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = first[i]! * n + i;
    keys.sort();
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = keys[i]! % n;
    return order;
  }
  return Array.from({ length: n }, (_, i) => i).sort((a, b) => first[a]! - first[b]! || a - b);
}

/** Binary min-heap of run indices. */
class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  get top(): number {
    return this.items[0]!;
  }
  push(v: number): void {
    const a = this.items;
    a.push(v);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= a[i]!) break;
      [a[parent], a[i]] = [a[i]!, a[parent]!];
      i = parent;
    }
  }
  pop(): void {
    const a = this.items;
    const last = a.pop()!;
    if (a.length === 0) return;
    a[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && a[l]! < a[m]!) m = l;
      if (r < a.length && a[r]! < a[m]!) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i]!, a[m]!];
      i = m;
    }
  }
}
