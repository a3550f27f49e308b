import { usageError } from '../errors.js';
import type { Prng } from './prng.js';

export const PAGE_SIZE = 0x1000;
export const LARGE_PAGE_SIZE = 0x20_0000;
const PAGES_PER_LARGE = LARGE_PAGE_SIZE / PAGE_SIZE;

/** A run of RAM in the physical address space (as a firmware memory map / crash-dump run list). */
export interface PhysicalRun {
  readonly start: number;
  readonly length: number;
}

/**
 * Sparse model of a machine's physical memory: only the 4 KiB pages the builder writes are held
 * (Map<pfn, page>); every other byte inside a run reads as zero and is streamed out as zero, so a
 * 4 GiB image costs a few MiB of RAM. Also the page-frame allocator: frames are handed out at seeded
 * random places inside the runs, so structures end up scattered like on a real machine.
 */
export class SparsePhysicalMemory {
  private readonly pages = new Map<number, Uint8Array>();
  private readonly used: Uint8Array;
  private readonly totalPages: number;

  constructor(readonly runs: readonly PhysicalRun[], private readonly rng: Prng) {
    let end = 0;
    let total = 0;
    for (const r of runs) {
      if (r.start % PAGE_SIZE !== 0 || r.length % PAGE_SIZE !== 0 || r.length <= 0) {
        throw usageError(`physical run 0x${r.start.toString(16)}+0x${r.length.toString(16)} is not page aligned`);
      }
      if (r.start < end) throw usageError('physical runs must be sorted and must not overlap');
      end = r.start + r.length;
      total += r.length / PAGE_SIZE;
    }
    this.totalPages = total;
    this.used = new Uint8Array(Math.ceil(end / PAGE_SIZE));
  }

  /** One past the highest physical address inside a run. */
  get endAddress(): number {
    const last = this.runs[this.runs.length - 1];
    return last ? last.start + last.length : 0;
  }

  get totalBytes(): number {
    return this.totalPages * PAGE_SIZE;
  }

  inRun(pa: number, length = 1): boolean {
    return this.runs.some((r) => pa >= r.start && pa + length <= r.start + r.length);
  }

  isFree(pfn: number): boolean {
    return this.used[pfn] === 0 && this.inRun(pfn * PAGE_SIZE, PAGE_SIZE);
  }

  /** Mark a frame as taken (e.g. the low stub page chosen up front). */
  reserve(pa: number): void {
    const pfn = Math.floor(pa / PAGE_SIZE);
    if (!this.isFree(pfn)) throw usageError(`physical page 0x${pa.toString(16)} is not free RAM`);
    this.used[pfn] = 1;
  }

  /** Random free 4 KiB frame, optionally inside [lo, hi). Returns its physical address. */
  allocPage(lo = 0, hi = this.endAddress): number {
    for (let attempt = 0; attempt < 100_000; attempt++) {
      const pfn = this.randomPfn();
      const pa = pfn * PAGE_SIZE;
      if (pa < lo || pa >= hi || this.used[pfn] !== 0) continue;
      this.used[pfn] = 1;
      return pa;
    }
    throw usageError('sample image too small: out of free physical pages (raise --size)');
  }

  /** Random free 2 MiB-aligned frame whose 512 pages are all free RAM (for large-page mappings). */
  allocLargePage(): number {
    const slots = Math.floor(this.endAddress / LARGE_PAGE_SIZE);
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const pa = this.rng.int(1, Math.max(1, slots - 1)) * LARGE_PAGE_SIZE;
      if (!this.inRun(pa, LARGE_PAGE_SIZE)) continue;
      const first = pa / PAGE_SIZE;
      let free = true;
      for (let i = 0; i < PAGES_PER_LARGE && free; i++) free = this.used[first + i] === 0;
      if (!free) continue;
      this.used.fill(1, first, first + PAGES_PER_LARGE);
      return pa;
    }
    throw usageError('sample image too small: no free 2 MiB physical frame left for the kernel (raise --size)');
  }

  private randomPfn(): number {
    let k = this.rng.int(0, this.totalPages - 1);
    for (const r of this.runs) {
      const n = r.length / PAGE_SIZE;
      if (k < n) return r.start / PAGE_SIZE + k;
      k -= n;
    }
    throw new RangeError('unreachable: pfn index outside runs');
  }

  /** The stored page (created zero-filled on first touch). */
  page(pfn: number): Uint8Array {
    let p = this.pages.get(pfn);
    if (!p) {
      if (!this.inRun(pfn * PAGE_SIZE, PAGE_SIZE)) {
        throw new RangeError(`sample builder wrote outside RAM at 0x${(pfn * PAGE_SIZE).toString(16)}`);
      }
      p = new Uint8Array(PAGE_SIZE);
      this.pages.set(pfn, p);
    }
    return p;
  }

  /** Write physically contiguous bytes. */
  write(pa: number, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const cur = pa + done;
      const off = cur % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, bytes.length - done);
      this.page(Math.floor(cur / PAGE_SIZE)).set(bytes.subarray(done, done + n), off);
      done += n;
    }
  }

  read(pa: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const cur = pa + done;
      const off = cur % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, length - done);
      const p = this.pages.get(Math.floor(cur / PAGE_SIZE));
      if (p) out.set(p.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  writeU64(pa: number, value: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    this.write(pa, b);
  }

  readU64(pa: number): bigint {
    return new DataView(this.read(pa, 8).buffer).getBigUint64(0, true);
  }

  /** The stored page at `pfn`, or null when it was never written (reads as zeros). */
  storedPage(pfn: number): Uint8Array | null {
    return this.pages.get(pfn) ?? null;
  }

  /** Non-zero-content pages in ascending PFN order (what the writers must emit; the rest is zero). */
  storedPages(): [number, Uint8Array][] {
    return [...this.pages.entries()].sort((a, b) => a[0] - b[0]);
  }
}
