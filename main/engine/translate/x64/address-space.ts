/**
 * X64AddressSpace: one virtual address space (one CR3/DTB) over a PhysicalSource, walked with the
 * 4-level x86-64 rules in mmu.ts and the Windows software-PTE rules in windows-pte.ts.
 *
 * Hot path without bigint: the VA is split once into two uint32 halves, the four 9-bit indices come
 * from those with int arithmetic, entries are read as two uint32 halves from a cached table page,
 * and physical addresses are JS numbers (< 2^52). Bigint appears only in the walk record (the raw
 * entries the UI shows), built once per 4 KiB page and then shared through the TLB.
 *
 * Nothing here throws for what the image contains: a table page outside physical memory, a
 * non-canonical VA, a loop in the tables (the walk is always exactly 4 levels deep, so a PML4E that
 * points at its own PML4 is Windows' self-map, not an infinite loop) all come back as a Translation
 * with pa null and a reason.
 */
import { MemScopeError } from '../../errors.js';
import { hex } from '../../util/hex.js';
import { MAX_READ, type PhysicalSource } from '../../sources/physical-source.js';
import { entryPresent, PageTableCache, DEFAULT_TABLE_CACHE_PAGES, type TablePage } from '../page-table-cache.js';
import { Tlb, DEFAULT_TLB_ENTRIES, type TlbEntry } from '../tlb.js';
import type { Translation, VirtualMemory, VirtualReadResult, WalkStep } from '../types.js';
import { entryPageSize, entryStep, entryTarget, PT_LEVEL } from './entry.js';
import { X64_MMU, pml4FromDtb } from './mmu.js';
import { classifySoftwarePte, SOFTWARE_PTE_REASON } from './windows-pte.js';

export interface X64AddressSpaceOptions {
  /** Share one table-page cache between the address spaces of one source (kernel tables are shared). */
  readonly tableCache?: PageTableCache;
  /** Size of a private table-page cache when none is shared (default 1024 pages = 4 MiB). */
  readonly tableCachePages?: number;
  /** Software TLB entries (default 4096); 0 disables the TLB. */
  readonly tlbEntries?: number;
  /** High 32 bits of nt!MiState…InvalidPteMask, to un-swizzle page-file PTEs (windows-pte.ts). */
  readonly invalidPteMaskHigh?: number;
}

const U64_MAX = (1n << 64n) - 1n;
const NON_CANONICAL: TlbEntry = { frame: null, page: null, reason: 'non-canonical address', walk: [] };

export class X64AddressSpace implements VirtualMemory {
  readonly source: PhysicalSource;
  readonly dtbRaw: bigint;
  readonly pml4: number;
  private readonly tables: PageTableCache;
  private readonly tlb: Tlb | null;
  private readonly invalidPteMaskHigh: number;
  private readonly memoAddress = [-1, -1, -1, -1];
  private readonly memoPage: (TablePage | null)[] = [null, null, null, null];

  constructor(source: PhysicalSource, dtb: bigint, options: X64AddressSpaceOptions = {}) {
    if (options.tableCache && options.tableCache.source !== source) {
      throw new MemScopeError('usage', `X64AddressSpace: the shared page-table cache belongs to ${options.tableCache.source.name}, not ${source.name}`);
    }
    this.source = source;
    this.dtbRaw = dtb;
    this.pml4 = pml4FromDtb(dtb);
    this.tables = options.tableCache ?? new PageTableCache(source, options.tableCachePages ?? DEFAULT_TABLE_CACHE_PAGES);
    const tlbEntries = options.tlbEntries ?? DEFAULT_TLB_ENTRIES;
    this.tlb = tlbEntries > 0 ? new Tlb(tlbEntries) : null;
    this.invalidPteMaskHigh = (options.invalidPteMaskHigh ?? 0) >>> 0;
  }

  translate(va: bigint): Translation {
    if (va < 0n || va > U64_MAX) return { va, pa: null, page: null, reason: NON_CANONICAL.reason, walk: NON_CANONICAL.walk };
    const hi = Number(va >> 32n);
    const lo = Number(va & 0xffffffffn);
    const e = this.lookup(hi, lo);
    return { va, pa: e.frame === null ? null : e.frame + (lo & 0xfff), page: e.page, reason: e.reason, walk: e.walk };
  }

  /** Translate many addresses, in input order (shares the caches; no per-call setup). */
  translateMany(vas: readonly bigint[]): Translation[] {
    const out = new Array<Translation>(vas.length);
    for (let i = 0; i < vas.length; i++) out[i] = this.translate(vas[i]!);
    return out;
  }

  /**
   * Read `length` virtual bytes. Each 4 KiB page is translated on its own (consecutive virtual pages
   * are usually on unrelated physical pages); physically contiguous stretches are read in one go.
   * Unreadable stretches come back zero-filled and listed in `missing` with their reason.
   */
  read(va: bigint, length: number): VirtualReadResult {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new MemScopeError('usage', `virtual read at ${hex(va)}: length ${length} is not a non-negative integer`);
    }
    if (length > MAX_READ) {
      throw new MemScopeError('usage', `virtual read at ${hex(va)}: ${length} bytes exceeds the ${MAX_READ / 1048576} MiB limit`);
    }
    if (va < 0n || va + BigInt(length) > U64_MAX + 1n) {
      throw new MemScopeError('usage', `virtual read at ${hex(va)}: ${length} bytes runs past the top of the 64-bit address space`);
    }
    const data = new Uint8Array(length);
    const missing: { offset: number; length: number; reason: string }[] = [];
    const addMissing = (offset: number, n: number, reason: string): void => {
      const last = missing[missing.length - 1];
      if (last && last.reason === reason && last.offset + last.length === offset) last.length += n;
      else missing.push({ offset, length: n, reason });
    };
    // pending physically contiguous run: [runPa, runPa+runLen) lands at data[runOff…]
    let runPa = 0, runOff = 0, runLen = 0;
    const flush = (): void => {
      if (runLen === 0) return;
      const r = this.source.read(runPa, runLen);
      data.set(r.data, runOff);
      for (const a of r.absent) addMissing(runOff + (a.start - runPa), a.length, `physical memory at ${hex(a.start)} absent from source`);
      runLen = 0;
    };
    let done = 0;
    while (done < length) {
      const cur = va + BigInt(done);
      const t = this.translate(cur);
      const inPage = 0x1000 - (Number(cur & 0xfffn));
      const n = Math.min(inPage, length - done);
      if (t.pa === null) {
        flush();
        addMissing(done, n, t.reason);
      } else if (runLen > 0 && runPa + runLen === t.pa && runLen + n <= MAX_READ) {
        runLen += n;
      } else {
        flush();
        runPa = t.pa; runOff = done; runLen = n;
      }
      done += n;
    }
    flush();
    missing.sort((a, b) => a.offset - b.offset);
    return { data, missing: missing.map((m) => ({ va: va + BigInt(m.offset), length: m.length, reason: m.reason })) };
  }

  /** Forget cached tables and translations (live sources change underneath). */
  flush(): void {
    this.tables.clear();
    this.tlb?.clear();
    this.memoAddress.fill(-1);
    this.memoPage.fill(null);
  }

  private lookup(hi: number, lo: number): TlbEntry {
    // Canonical: bits 63..47 all equal (SDM 3.3.7.1); hi holds bits 63..32, so test hi bits 31..15.
    const top = hi >>> 15;
    if (top !== 0 && top !== 0x1ffff) return NON_CANONICAL;
    if (this.tlb === null) return this.walk(hi, lo);
    const vpn = (hi & 0xffff) * 1048576 + (lo >>> 12);
    const slot = (lo >>> 12) ^ (hi << 4);
    let e = this.tlb.get(vpn, slot);
    if (e === undefined) {
      e = this.walk(hi, lo);
      this.tlb.set(vpn, slot, e);
    }
    return e;
  }

  /** Table page at `address`, through a one-page memo per level in front of the shared LRU. */
  private tablePage(level: number, address: number): TablePage {
    if (this.memoAddress[level] === address) return this.memoPage[level]!;
    const page = this.tables.page(address);
    this.memoAddress[level] = address;
    this.memoPage[level] = page;
    return page;
  }

  /** The 4-level walk for the 4 KiB page holding VA (hi:lo); the result's frame is that page's PA. */
  private walk(hi: number, lo: number): TlbEntry {
    const steps: WalkStep[] = [];
    let table = this.pml4;
    for (let i = 0; i < 4; i++) {
      const level = X64_MMU.levels[i]!;
      // 48-bit VA: PML4 index = bits 47..39, PDPT 38..30, PD 29..21, PT 20..12 (X64_MMU.splits).
      const index = i === 0 ? (hi >>> 7) & 511 : i === 1 ? ((hi & 0x7f) << 2) | (lo >>> 30) : i === 2 ? (lo >>> 21) & 511 : (lo >>> 12) & 511;
      const offset = index * X64_MMU.entrySize;
      const entryAddress = table + offset;
      const page = this.tablePage(i, table);
      if (!entryPresent(page, offset)) {
        steps.push({ level: level.level, entryAddress, entry: null });
        return { frame: null, page: null, reason: `page table at ${hex(table)} absent from source`, walk: steps };
      }
      const view = page.view!;
      const elo = view.getUint32(offset, true);
      const ehi = view.getUint32(offset + 4, true);
      steps.push({ level: level.level, entryAddress, entry: view.getBigUint64(offset, true) });
      const step = entryStep(i, elo);
      if (step === 'table') { table = entryTarget(i, elo, ehi, step); continue; }
      if (step === 'transition') return { frame: entryTarget(i, elo, ehi, step), page: '4K', reason: SOFTWARE_PTE_REASON.transition, walk: steps };
      if (step === 'not-present') {
        const reason = i === PT_LEVEL ? SOFTWARE_PTE_REASON[classifySoftwarePte(elo, ehi, this.invalidPteMaskHigh).kind] : `${level.entryName} not present`;
        return { frame: null, page: null, reason, walk: steps };
      }
      // a page: the 4 KiB frame within a large page comes from the VA bits below its base
      const within = level.largePage === '1G' ? lo & 0x3ffff000 : level.largePage === '2M' ? lo & 0x1ff000 : 0;
      return { frame: entryTarget(i, elo, ehi, step) + within, page: entryPageSize(i), reason: 'resident', walk: steps };
    }
    throw new RangeError('unreachable: a PT entry always ends the walk');
  }
}
