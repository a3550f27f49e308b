/**
 * Test fixture: builds real x86-64 4-level page tables (Intel SDM vol. 3A, 4.5) in a sparse
 * in-memory physical memory, so translation tests run on the exact bytes a CPU would walk.
 *
 *   const b = new PageTableBuilder();                 // 4 GiB of (sparse) physical memory
 *   b.map(0xfffff80000000000n, 0x200000, '2M');        // VA → PA with a 2 MiB page
 *   b.setPte(va, PageTableBuilder.transitionPte(pa));  // Windows software PTE at the PT level
 *   new X64AddressSpace(b.source, b.dtbWithPcid(2));   // CR3 with PCID 2 in bits 0..11
 *
 * Table pages come from a bump allocator starting at `tableBase`; data pages are wherever the test
 * says (or `allocPage()`). Intermediate entries are written present+RW+US (0x7), as Windows does
 * for user tables. Entry encodings follow SDM Tables 4-14..4-20 and the Windows _MMPTE_* layouts
 * described in ../x64/windows-pte.ts.
 */
import { MemorySource } from '../../sources/memory-source.js';
import type { PageSize, PagingLevel } from '../types.js';
import { X64_MMU } from '../x64/mmu.js';

const PAGE = 4096;
const ADDR_MASK = X64_MMU.physMask;
const LEVELS: readonly PagingLevel[] = ['PML4', 'PDPT', 'PD', 'PT'];
const SHIFTS = [39n, 30n, 21n, 12n];
const SIZE_BYTES: Record<PageSize, number> = { '4K': 0x1000, '2M': 0x200000, '1G': 0x40000000 };

export interface MapFlags {
  readonly writable?: boolean; // bit 1
  readonly user?: boolean; // bit 2
  readonly noExecute?: boolean; // bit 63
  /** Extra bits ORed into the leaf entry (e.g. software bits 52..62) that must not change the address. */
  readonly extraBits?: bigint;
}

export interface PageTableBuilderOptions {
  /** The physical memory to build in; default a MemorySource with one run [0, 4 GiB). */
  readonly source?: MemorySource;
  /** First physical address of the table allocator (default 0x100000). */
  readonly tableBase?: number;
}

export class PageTableBuilder {
  readonly source: MemorySource;
  /** Physical address of the PML4 (page aligned). */
  readonly pml4: number;
  private next: number;

  constructor(options: PageTableBuilderOptions = {}) {
    this.source = options.source ?? new MemorySource({ runs: [{ start: 0, length: 4 * 1024 * 1024 * 1024 }] });
    this.next = options.tableBase ?? 0x100000;
    this.pml4 = this.allocPage();
  }

  /** The DTB (CR3) as a bigint, page aligned. */
  get dtb(): bigint {
    return BigInt(this.pml4);
  }

  /** CR3 with a PCID in bits 0..11 (SDM 4.10.1), e.g. dtbWithPcid(2) → 0x…002. */
  dtbWithPcid(pcid: number): bigint {
    return BigInt(this.pml4) | BigInt(pcid & 0xfff);
  }

  /** A fresh zeroed 4 KiB physical page from the bump allocator. */
  allocPage(): number {
    const pa = this.next;
    this.source.write(pa, new Uint8Array(PAGE)); // fails loudly if the allocator runs out of memory
    this.next += PAGE;
    return pa;
  }

  /** Map `va` to `pa` with a 4K, 2M (PDE.PS) or 1G (PDPTE.PS) page; both must be aligned to the size. */
  map(va: bigint, pa: number, size: PageSize = '4K', flags: MapFlags = {}): void {
    const bytes = SIZE_BYTES[size];
    if (pa % bytes !== 0 || BigInt.asUintN(64, va) % BigInt(bytes) !== 0n) {
      throw new Error(`map: va ${va.toString(16)} / pa ${pa.toString(16)} not aligned to ${size}`);
    }
    let leaf = BigInt(pa) | 1n | (flags.writable === false ? 0n : 2n) | (flags.user ? 4n : 0n);
    if (size !== '4K') leaf |= 1n << 7n; // PS
    if (flags.noExecute) leaf |= 1n << 63n;
    if (flags.extraBits) leaf |= flags.extraBits;
    const level: PagingLevel = size === '1G' ? 'PDPT' : size === '2M' ? 'PD' : 'PT';
    this.setEntry(level, va, leaf);
  }

  /** Write a raw PT-level entry for `va` (creating the tables above it). */
  setPte(va: bigint, raw: bigint): void {
    this.setEntry('PT', va, raw);
  }

  /**
   * Write a raw entry at `level` for `va`, creating present tables for the levels above it.
   * Writing a not-present value at PML4/PDPT/PD makes the "… not present" case at that level.
   */
  setEntry(level: PagingLevel, va: bigint, raw: bigint): void {
    const depth = LEVELS.indexOf(level);
    let table = this.pml4;
    for (let i = 0; i < depth; i++) {
      const ea = this.entryAddress(table, i, va);
      const cur = this.readU64(ea);
      if ((cur & 1n) === 0n || (i > 0 && (cur & 0x80n) !== 0n)) {
        const fresh = this.allocPage();
        this.source.writeU64(ea, BigInt(fresh) | 0x7n);
        table = fresh;
      } else {
        table = Number(cur & ADDR_MASK);
      }
    }
    this.source.writeU64(this.entryAddress(table, depth, va), raw);
  }

  /** Physical address of the entry the walk for `va` reads at `level` (tables must exist). */
  entryAddressOf(level: PagingLevel, va: bigint): number {
    const depth = LEVELS.indexOf(level);
    let table = this.pml4;
    for (let i = 0; i < depth; i++) table = Number(this.readU64(this.entryAddress(table, i, va)) & ADDR_MASK);
    return this.entryAddress(table, depth, va);
  }

  /** Windows self-map: PML4[index] points at the PML4 itself (index 0x1ed before Win10 1607's randomisation). */
  selfMap(index: number): void {
    this.source.writeU64(this.pml4 + index * 8, BigInt(this.pml4) | 0x3n | (1n << 63n));
  }

  readU64(pa: number): bigint {
    const { data } = this.source.read(pa, 8);
    return new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
  }

  // ---- Windows software PTEs (valid bit clear), layouts from the Win10 x64 _MMPTE_* types ----

  /** _MMPTE_TRANSITION: Transition=1 (bit 11), Prototype=0, PageFrameNumber bits 12..51 (12/36 before Win11), Protection 5..9. */
  static transitionPte(pa: number, protection = 4): bigint {
    return BigInt(pa) | (1n << 11n) | (BigInt(protection & 31) << 5n);
  }
  /** _MMPTE_PROTOTYPE: Prototype=1 (bit 10), ProtoAddress bits 16..63 (address of the prototype PTE). */
  static prototypePte(protoAddress: bigint = 0xffffa00012345678n): bigint {
    return BigInt.asUintN(64, (protoAddress << 16n) | (1n << 10n));
  }
  /** _MMPTE_SOFTWARE: PageFileLow bits 12..15, PageFileHigh (offset in pages) bits 32..63, Protection, SwizzleBit set. */
  static pageFilePte(pageFileOffsetPages: number, pageFile = 0, protection = 4): bigint {
    return (BigInt(pageFileOffsetPages >>> 0) << 32n) | (BigInt(pageFile & 15) << 12n) | (BigInt(protection & 31) << 5n) | (1n << 4n);
  }
  /** _MMPTE_SOFTWARE with PageFileHigh=0 and a protection: committed, not yet touched (demand zero). */
  static demandZeroPte(protection = 4): bigint {
    return (BigInt(protection & 31) << 5n) | (1n << 4n);
  }

  private entryAddress(table: number, depth: number, va: bigint): number {
    return table + Number((BigInt.asUintN(64, va) >> SHIFTS[depth]!) & 511n) * 8;
  }
}

/** Canonical VA from four table indices and an offset (sign-extends bit 47), e.g. for self-map VAs. */
export function vaFromIndices(pml4: number, pdpt: number, pd: number, pt: number, offset = 0): bigint {
  let va = (BigInt(pml4) << 39n) | (BigInt(pdpt) << 30n) | (BigInt(pd) << 21n) | (BigInt(pt) << 12n) | BigInt(offset);
  if (pml4 & 0x100) va |= 0xffff000000000000n;
  return va;
}
