import { LARGE_PAGE_SIZE, PAGE_SIZE, type SparsePhysicalMemory } from './physmem.js';

/**
 * x64 4-level paging (Intel SDM Vol. 3A §4.5), written from the architecture rules, independent of
 * the engine's translator. Entry bits: P(0) R/W(1) U/S(2) A(5) D(6) PS(7, in PDPTE/PDE) G(8) XD(63);
 * address bits 12..51.
 */
export const PTE_P = 0x1n;
export const PTE_RW = 0x2n;
export const PTE_US = 0x4n;
export const PTE_A = 0x20n;
export const PTE_D = 0x40n;
export const PTE_PS = 0x80n;
export const PTE_G = 0x100n;
export const PTE_NX = 1n << 63n;
export const ADDR_MASK = 0x000f_ffff_ffff_f000n;

export type SoftwarePte =
  | { readonly kind: 'transition'; readonly pa: number }
  | { readonly kind: 'prototype'; readonly protoAddress: bigint }
  | { readonly kind: 'pagefile'; readonly pageFileOffset: number }
  | { readonly kind: 'demand-zero' };

export interface MapFlags {
  readonly user?: boolean;
  readonly writable?: boolean;
  readonly executable?: boolean;
  readonly global?: boolean;
}

/** Canonical form of a 48-bit virtual address (bits 63..48 copy bit 47). */
export function canonical(va: bigint): bigint {
  const low = va & 0xffff_ffff_ffffn;
  return low & 0x8000_0000_0000n ? low | 0xffff_0000_0000_0000n : low;
}

const index = (va: bigint, level: number): number => Number((va >> BigInt(12 + 9 * (level - 1))) & 0x1ffn);

export class AddressSpace {
  constructor(
    private readonly mem: SparsePhysicalMemory,
    readonly pml4: number,
  ) {}

  static create(mem: SparsePhysicalMemory, pml4Pa?: number): AddressSpace {
    return new AddressSpace(mem, pml4Pa ?? mem.allocPage());
  }

  private entryPa(table: number, i: number): number {
    return table + i * 8;
  }

  readEntry(table: number, i: number): bigint {
    return this.mem.readU64(this.entryPa(table, i));
  }

  writeEntry(table: number, i: number, value: bigint): void {
    this.mem.writeU64(this.entryPa(table, i), value);
  }

  /** Next-level table for `va` at `level` (4 = PML4), allocating a zeroed page if absent. */
  private ensureTable(table: number, i: number, user: boolean): number {
    const e = this.readEntry(table, i);
    if (e & PTE_P) {
      if (e & PTE_PS) throw new RangeError('sample builder: mapping over an existing large page');
      // Windows sets U/S on every upper-level entry above a user mapping.
      if (user && !(e & PTE_US)) this.writeEntry(table, i, e | PTE_US);
      return Number(e & ADDR_MASK);
    }
    const pa = this.mem.allocPage();
    this.writeEntry(table, i, BigInt(pa) | PTE_P | PTE_RW | PTE_A | PTE_D | (user ? PTE_US : 0n));
    return pa;
  }

  /** Pre-create the PDPT under a PML4 slot, so address spaces that copy the kernel half share it. */
  ensurePml4Slot(i: number): void {
    this.ensureTable(this.pml4, i, false);
  }

  private leafBits(f: MapFlags): bigint {
    return (
      PTE_P | PTE_A | PTE_D |
      (f.writable === false ? 0n : PTE_RW) |
      (f.user ? PTE_US : 0n) |
      (f.global ? PTE_G : 0n) |
      (f.executable ? 0n : PTE_NX)
    );
  }

  map4k(va: bigint, pa: number, f: MapFlags = {}): void {
    if (va & 0xfffn || pa % PAGE_SIZE) throw new RangeError('map4k: unaligned');
    const user = !!f.user;
    const pdpt = this.ensureTable(this.pml4, index(va, 4), user);
    const pd = this.ensureTable(pdpt, index(va, 3), user);
    const pt = this.ensureTable(pd, index(va, 2), user);
    this.writeEntry(pt, index(va, 1), BigInt(pa) | this.leafBits(f));
  }

  /**
   * A PT entry with the Valid bit clear, in one of the Windows x64 software formats (_MMPTE_*), for a
   * kernel page that is not mapped by the hardware: transition (the page is still in RAM at `pa`, on
   * the standby/modified list), prototype, page file or demand zero. Layouts as the kernel symbol
   * tables define them (Windows 10 x64): Valid:0, SwizzleBit:4, Protection:5/5, Prototype:10,
   * Transition:11, PageFrameNumber:12 (transition), PageFileHigh:32/32 (page file),
   * ProtoAddress:16/48 (prototype). SwizzleBit is set: the high half is stored un-swizzled.
   */
  mapSoftware(va: bigint, pte: SoftwarePte): bigint {
    if (va & 0xfffn) throw new RangeError('mapSoftware: unaligned');
    const pdpt = this.ensureTable(this.pml4, index(va, 4), false);
    const pd = this.ensureTable(pdpt, index(va, 3), false);
    const pt = this.ensureTable(pd, index(va, 2), false);
    if (this.readEntry(pt, index(va, 1)) !== 0n) throw new RangeError(`mapSoftware: VA 0x${BigInt.asUintN(64, va).toString(16)} already has a PTE`);
    const protection = 4n << 5n; // MM_READWRITE
    const swizzle = 1n << 4n;
    let raw: bigint;
    switch (pte.kind) {
      case 'transition':
        if (pte.pa % PAGE_SIZE) throw new RangeError('mapSoftware: unaligned transition frame');
        raw = BigInt(pte.pa) | (1n << 11n) | protection | swizzle;
        break;
      case 'prototype':
        raw = BigInt.asUintN(64, (pte.protoAddress << 16n) | (1n << 10n));
        break;
      case 'pagefile':
        raw = (BigInt(pte.pageFileOffset >>> 0) << 32n) | protection | swizzle;
        break;
      case 'demand-zero':
        raw = protection | swizzle;
        break;
    }
    this.writeEntry(pt, index(va, 1), raw);
    return raw;
  }

  /** 2 MiB page: PDE with PS set (SDM Table 4-17). */
  map2m(va: bigint, pa: number, f: MapFlags = {}): void {
    if (va & BigInt(LARGE_PAGE_SIZE - 1) || pa % LARGE_PAGE_SIZE) throw new RangeError('map2m: unaligned');
    const user = !!f.user;
    const pdpt = this.ensureTable(this.pml4, index(va, 4), user);
    const pd = this.ensureTable(pdpt, index(va, 3), user);
    this.writeEntry(pd, index(va, 2), BigInt(pa) | this.leafBits(f) | PTE_PS);
  }

  /** The self-referencing PML4 entry Windows uses to reach its own page tables (NX, kernel only). */
  setSelfRef(i: number): void {
    this.writeEntry(this.pml4, i, BigInt(this.pml4) | PTE_P | PTE_RW | PTE_A | PTE_D | PTE_NX);
  }

  /** Copy PML4 entries 256..511 (the shared kernel half) from another address space. */
  copyKernelHalf(from: AddressSpace): void {
    for (let i = 256; i < 512; i++) this.writeEntry(this.pml4, i, from.readEntry(from.pml4, i));
  }

  /** Copy PML4 entries 0..255 (the user half): the KVA-shadow user PML4 shares the user tables. */
  copyUserHalf(from: AddressSpace): void {
    for (let i = 0; i < 256; i++) this.writeEntry(this.pml4, i, from.readEntry(from.pml4, i));
  }

  /** Walk the tables (for the builder's own writes); null when not present. */
  translate(va: bigint): number | null {
    let table = this.pml4;
    for (let level = 4; level >= 1; level--) {
      const e = this.readEntry(table, index(va, level));
      if (!(e & PTE_P)) return null;
      if (level === 2 && e & PTE_PS) {
        return Number(e & ADDR_MASK & ~BigInt(LARGE_PAGE_SIZE - 1)) + Number(va & BigInt(LARGE_PAGE_SIZE - 1));
      }
      if (level === 3 && e & PTE_PS) throw new RangeError('1 GiB pages are not produced by the builder');
      table = Number(e & ADDR_MASK);
    }
    return table + Number(va & 0xfffn);
  }

  private mustTranslate(va: bigint): number {
    const pa = this.translate(va);
    if (pa === null) throw new RangeError(`sample builder: VA 0x${BigInt.asUintN(64, va).toString(16)} is not mapped`);
    return pa;
  }

  /** Write through the page tables; the bytes may cross into an unrelated physical page. */
  write(va: bigint, bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) {
      const cur = va + BigInt(done);
      const off = Number(cur & 0xfffn);
      const n = Math.min(PAGE_SIZE - off, bytes.length - done);
      this.mem.write(this.mustTranslate(cur), bytes.subarray(done, done + n));
      done += n;
    }
  }

  read(va: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const cur = va + BigInt(done);
      const off = Number(cur & 0xfffn);
      const n = Math.min(PAGE_SIZE - off, length - done);
      out.set(this.mem.read(this.mustTranslate(cur), n), done);
      done += n;
    }
    return out;
  }

  writeU64(va: bigint, value: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    this.write(va, b);
  }

  readU64(va: bigint): bigint {
    return new DataView(this.read(va, 8).buffer).getBigUint64(0, true);
  }
}
