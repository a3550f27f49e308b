/**
 * The session's memory spaces: physical memory, the kernel's virtual space (System's DirBase) and
 * any process's (its DirBase), all read through the session's page-table cache and TLBs — nothing
 * re-opens the image. A read answers the bytes plus, page by page, whether they were readable or why
 * not; a space can also list its mapped ranges (translate/x64/leaves.ts, the walker's own rule).
 *
 * Every request is checked before anything is allocated: a length over the 1 MiB cap, a negative,
 * non-canonical or past-the-image address, a DirBase whose PML4 is not a page table are typed
 * usage errors naming the value, never a hang or a huge buffer.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MemScopeError, usageError } from '../errors.js';
import type { PhysicalSource } from '../sources/physical-source.js';
import type { ProcessSpaces } from '../translate/process-spaces.js';
import type { VirtualMemory } from '../translate/types.js';
import { forEachLeaf, vaOfVpn, vpnOfVa } from '../translate/x64/leaves.js';
import { X64AddressSpace } from '../translate/x64/address-space.js';
import { pml4FromDtb, X64_MMU } from '../translate/x64/mmu.js';
import { SOFTWARE_PTE_REASON } from '../translate/x64/windows-pte.js';
import { readTable } from '../windows/discovery/page-walk.js';
import type { WindowsKernel } from '../windows/kernel.js';
import { hex } from '../util/hex.js';

export type SpaceRef =
  | { readonly kind: 'physical' }
  | { readonly kind: 'kernel' }
  | { readonly kind: 'process'; readonly dtb: bigint };

/** Why a page reads as it does: resident and transition pages are readable, the rest are not. */
export type PageStatus = 'resident' | 'transition' | 'not-present' | 'paged-out' | 'outside-image' | 'non-canonical';

/** A run of pages (or part of one at either end) with one status, relative to the read's start. */
export interface PageSpan {
  readonly offset: number;
  readonly length: number;
  readonly status: PageStatus;
  readonly readable: boolean;
  /** The walker's own words ("PDE not present", "page file PTE (not resident)", …). */
  readonly reason: string;
}

export interface SpaceRead {
  readonly address: bigint;
  /** Exactly the requested length; unreadable bytes are zero (the spans say which). */
  readonly data: Uint8Array<ArrayBuffer>;
  readonly spans: readonly PageSpan[];
}

export interface MappedRange {
  readonly start: bigint;
  /** Exclusive. */
  readonly end: bigint;
}

/** Where a virtual address lands in physical memory, or why nowhere. */
export interface SpaceTranslation {
  readonly pa: bigint | null;
  readonly status: PageStatus;
  readonly reason: string;
}

/** Largest read the views may ask for at once. */
export const MAX_SPACE_READ = 1024 * 1024;
const PAGE = 0x1000;
const CHUNK = 64 * 1024;
const TOP_OF_LOW_HALF = 1n << 47n;
const BOTTOM_OF_HIGH_HALF = 0xffff_8000_0000_0000n;
const TWO_64 = 1n << 64n;

export const isCanonical = (va: bigint): boolean => (va >= 0n && va < TOP_OF_LOW_HALF) || (va >= BOTTOM_OF_HIGH_HALF && va < TWO_64);

/** The status word of a walker reason (translate/types.ts Translation.reason). */
export function pageStatus(reason: string): PageStatus {
  if (reason === 'resident' || reason === 'physical') return 'resident';
  if (reason === SOFTWARE_PTE_REASON.transition) return 'transition';
  if (reason === 'non-canonical address') return 'non-canonical';
  if (/absent from (the )?source|outside physical memory|outside the source/.test(reason)) return 'outside-image';
  if (reason === SOFTWARE_PTE_REASON.pagefile || reason === SOFTWARE_PTE_REASON.prototype) return 'paged-out';
  return 'not-present';
}

const readableStatus = (s: PageStatus): boolean => s === 'resident' || s === 'transition';

export class MemorySpace {
  constructor(
    readonly ref: SpaceRef,
    /** Raw DirBase translated through (null for physical memory). */
    readonly dtbRaw: bigint | null,
    private readonly source: PhysicalSource,
    /** The translator (null for physical memory, read directly). */
    readonly memory: VirtualMemory | null,
  ) {}

  /** What the space is, in words ("physical memory", "kernel (DTB 0x1ad000)", "process DTB 0x4e312002"). */
  get label(): string {
    if (this.ref.kind === 'physical') return 'physical memory';
    return this.ref.kind === 'kernel' ? `kernel space (DTB ${hex(this.dtbRaw!)})` : `process space (DTB ${hex(this.dtbRaw!)})`;
  }

  /** Throw a usage error naming what is wrong with [address, address + length). */
  check(address: bigint, length: number): void {
    const at = `${this.label}: ${hex(BigInt.asUintN(64, address))}`;
    if (!Number.isSafeInteger(length) || length < 1) throw usageError(`${at}: length ${length} is not a positive integer`);
    if (length > MAX_SPACE_READ) throw usageError(`${at}: ${length} bytes exceeds the ${MAX_SPACE_READ / 1048576} MiB read cap`);
    if (address < 0n) throw usageError(`${this.label}: address ${address} is negative`);
    const end = address + BigInt(length);
    if (this.ref.kind === 'physical') {
      if (end > BigInt(this.source.size)) throw usageError(`${at} + ${length} bytes is past the end of the image (${hex(this.source.size)} bytes of physical memory)`);
      return;
    }
    if (address >= TWO_64) throw usageError(`${at} is beyond 64 bits`);
    if (!isCanonical(address)) throw usageError(`${at} is non-canonical: x64 virtual addresses are below 0x800000000000 or at/above 0xffff800000000000 (bits 63..47 equal)`);
    if (!isCanonical(end - 1n)) throw usageError(`${at} + ${length} bytes runs out of the canonical half it starts in`);
  }

  /** Read [address, address + length): bytes and page-by-page readability. Checked first (check()). */
  async read(address: bigint, length: number, signal?: AbortSignal): Promise<SpaceRead> {
    this.check(address, length);
    const data = new Uint8Array(length);
    const spans = new SpanList();
    let done = 0;
    while (done < length) {
      if (signal?.aborted) throw new MemScopeError('cancelled', `read of ${this.label} at ${hex(address)} cancelled`);
      const n = Math.min(CHUNK, length - done);
      this.readChunk(address + BigInt(done), n, done, data, spans);
      done += n;
      if (done < length) await nextTurn(); // a cancel (or another request) gets its turn between chunks
    }
    return { address, data, spans: spans.list };
  }

  /**
   * The same read without the range check, for `memscope hexdump`, which dumps whatever an address
   * holds (bytes past the image print as `??`); the length is still capped.
   */
  readUnchecked(address: bigint, length: number): SpaceRead {
    if (!Number.isSafeInteger(length) || length < 1 || length > MAX_SPACE_READ) throw usageError(`${this.label}: length ${length} must be from 1 to ${MAX_SPACE_READ}`);
    const data = new Uint8Array(length);
    const spans = new SpanList();
    this.readChunk(address, length, 0, data, spans);
    return { address, data, spans: spans.list };
  }

  /**
   * The physical address `address` translates to through this space's DTB (the walker's own rule,
   * translate/x64), or why it does not; physical memory maps to itself (checked to be in the image).
   */
  translate(address: bigint): SpaceTranslation {
    this.check(address, 1);
    if (this.memory === null) return { pa: address, status: 'resident', reason: 'physical' };
    const t = this.memory.translate(address);
    if (t.pa === null) return { pa: null, status: pageStatus(t.reason), reason: t.reason };
    if (t.pa >= this.source.size) return { pa: null, status: 'outside-image', reason: `physical memory at ${hex(t.pa)} absent from source` };
    return { pa: BigInt(t.pa), status: pageStatus(t.reason), reason: t.reason };
  }

  /**
   * Mapped virtual ranges overlapping [from, to) (adjacent leaves merged), at most `max` of them; for
   * physical memory, the image's runs. The listing stops early (`truncated`) rather than grow.
   */
  mappedRanges(from: bigint, to: bigint, max: number): { ranges: MappedRange[]; truncated: boolean; problems: readonly string[] } {
    const ranges: MappedRange[] = [];
    let truncated = false;
    if (this.ref.kind === 'physical') {
      for (const r of this.source.runs()) {
        const s = BigInt(r.start), e = BigInt(r.start + r.length);
        if (e <= from || s >= to) continue;
        if (ranges.length >= max) { truncated = true; break; }
        ranges.push({ start: s, end: e });
      }
      return { ranges, truncated, problems: [] };
    }
    const pml4 = pml4FromDtb(this.dtbRaw!);
    const firstVpn = vpnOfVa(from);
    const lastVpn = vpnOfVa(to - 1n);
    const pagesOf = { '4K': 1, '2M': 512, '1G': 512 * 512 } as const;
    const res = forEachLeaf(this.source, pml4, (vpn, _frame, size) => {
      if (truncated) return;
      const start = vaOfVpn(vpn);
      const end = start + BigInt(pagesOf[size] * PAGE);
      const last = ranges[ranges.length - 1];
      if (last && last.end === start) { ranges[ranges.length - 1] = { start: last.start, end }; return; }
      if (ranges.length >= max) { truncated = true; return; }
      ranges.push({ start, end });
    }, { firstVpn, lastVpn });
    return { ranges, truncated, problems: res.problems };
  }

  private readChunk(address: bigint, length: number, base: number, out: Uint8Array, spans: SpanList): void {
    if (this.memory === null) {
      const r = this.source.read(Number(address), length);
      out.set(r.data, base);
      let at = 0;
      for (const a of [...r.absent].sort((x, y) => x.start - y.start)) {
        const off = a.start - Number(address);
        if (off > at) spans.add(base + at, off - at, 'resident', 'resident');
        spans.add(base + off, a.length, 'outside-image', `absent from ${this.source.name}`);
        at = off + a.length;
      }
      if (at < length) spans.add(base + at, length - at, 'resident', 'resident');
      return;
    }
    let done = 0;
    while (done < length) {
      const va = address + BigInt(done);
      const n = Math.min(PAGE - Number(va & 0xfffn), length - done);
      const t = this.memory.translate(va);
      if (t.pa === null) spans.add(base + done, n, pageStatus(t.reason), t.reason);
      else {
        const r = this.source.read(t.pa, n);
        out.set(r.data, base + done);
        let at = 0;
        for (const a of r.absent) {
          const off = a.start - t.pa;
          if (off > at) spans.add(base + done + at, off - at, pageStatus(t.reason), t.reason);
          // the words X64AddressSpace.read uses, so `hexdump --va` notes read as before
          spans.add(base + done + off, a.length, 'outside-image', `physical memory at ${hex(a.start)} absent from source`);
          at = off + a.length;
        }
        if (at < n) spans.add(base + done + at, n - at, pageStatus(t.reason), t.reason);
      }
      done += n;
    }
  }
}

/** Page spans of one read, adjacent spans of the same status and reason merged. */
class SpanList {
  readonly list: PageSpan[] = [];

  add(offset: number, length: number, status: PageStatus, reason: string): void {
    const last = this.list[this.list.length - 1];
    if (last && last.status === status && last.reason === reason && last.offset + last.length === offset) {
      this.list[this.list.length - 1] = { ...last, length: last.length + length };
    } else this.list.push({ offset, length, status, readable: readableStatus(status), reason });
  }
}

/** A space over an image without a session (`memscope hexdump` on any image, Windows or not). */
export function imageSpace(source: PhysicalSource, dtb: bigint | null): MemorySpace {
  return dtb === null
    ? new MemorySpace({ kind: 'physical' }, null, source, null)
    : new MemorySpace({ kind: 'process', dtb }, dtb, source, new X64AddressSpace(source, dtb));
}

/** The session's spaces: physical, kernel, and one per process DirBase (validated as a page table). */
export class SessionSpaces {
  constructor(private readonly kernel: WindowsKernel, private readonly processes: ProcessSpaces) {}

  space(ref: SpaceRef): MemorySpace {
    const k = this.kernel;
    switch (ref.kind) {
      case 'physical': return new MemorySpace(ref, null, k.source, null);
      case 'kernel': return new MemorySpace(ref, k.dtbRaw, k.source, k.kernel);
      case 'process':
        this.checkPageTable(ref.dtb);
        return new MemorySpace(ref, ref.dtb, k.source, this.processes.of(ref.dtb));
    }
  }

  /**
   * A DirBase must name a PML4 inside the image that is a page table of this kernel: it maps itself
   * (Windows' self-map entry in the kernel half) or shares a kernel-half entry with System's PML4
   * (every process maps the same kernel). Anything else would "translate" through random bytes.
   */
  private checkPageTable(dtb: bigint): void {
    const what = `DTB ${hex(BigInt.asUintN(64, dtb))}`;
    if (dtb < 0n || dtb >= TWO_64) throw usageError(`${what} is not a 64-bit value`);
    const pml4 = pml4FromDtb(dtb);
    const mine = readTable(this.kernel.source, pml4);
    if (pml4 === 0 || mine === null) throw usageError(`${what}: its PML4 ${hex(pml4)} is outside the image (${hex(this.kernel.source.size)} bytes of physical memory)`);
    const sys = readTable(this.kernel.source, pml4FromDtb(this.kernel.dtb));
    for (let i = 256; i < 512; i++) {
      const e = mine[i]!;
      if (!(e & 1n)) continue;
      if (Number(e & X64_MMU.physMask) === pml4) return; // self-map
      if (sys && sys[i] === e) return; // the shared kernel half
    }
    throw usageError(`${what} is not a page table: the page at PML4 ${hex(pml4)} neither maps itself nor shares a kernel-half entry with System's`);
  }
}
