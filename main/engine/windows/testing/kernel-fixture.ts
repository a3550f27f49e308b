/**
 * Test fixture: a tiny hand-built Windows kernel in sparse physical memory — page tables
 * (PageTableBuilder), ObHeaderCookie, ObTypeIndexTable with real _OBJECT_TYPE names, and helpers to
 * plant pool blocks (_POOL_HEADER + optional headers + _OBJECT_HEADER with an encoded TypeIndex)
 * holding structures whose fields are written BY NAME through the profile. Unit tests of windows/
 * and plugins/ use it before (and besides) the full sample-image builder.
 */
import type { Profile } from '../../profile/profile.js';
import type { TypeRef } from '../../profile/model.js';
import { PageTableBuilder } from '../../translate/testing/page-table-builder.js';
import { X64AddressSpace } from '../../translate/x64/address-space.js';
import type { WindowsKernel } from '../kernel.js';
import { encodeTypeIndex, optionalHeadersSize } from '../object-header.js';

export const KERNEL_BASE = 0xfffff80000000000n;
export const POOL_BASE = 0xffffc00000000000n;
export const COOKIE = 0x5a;
export const TYPE_INDEX: Readonly<Record<string, number>> = { Type: 2, Process: 7, Thread: 8 };

export class KernelFixture {
  readonly b = new PageTableBuilder();
  /** Kernel VA page → PA (the fixture's own record; the address space caches table pages). */
  private readonly pages = new Map<bigint, number>();
  private poolNext = POOL_BASE;
  private dataNext = POOL_BASE + 0x1000_0000n;

  constructor(readonly profile: Profile) {
    // map every page holding a symbol we use, plus the type objects
    for (const s of ['PsActiveProcessHead', 'ObHeaderCookie', 'ObTypeIndexTable', 'PspCidTable']) {
      if (profile.hasSymbol(s)) this.ensureMapped(this.symbolVa(s), 8 * 256);
    }
    this.writeBytes(this.symbolVa('ObHeaderCookie'), Uint8Array.of(COOKIE));
    for (const [name, idx] of Object.entries(TYPE_INDEX)) {
      const t = this.alloc(profile.sizeOf('_OBJECT_TYPE') + 64);
      const buf = t + BigInt(profile.sizeOf('_OBJECT_TYPE'));
      const str = Buffer.from(name, 'utf16le');
      this.writeBytes(buf, str);
      this.writeField(t, '_OBJECT_TYPE', 'Name.Length', BigInt(str.length));
      this.writeField(t, '_OBJECT_TYPE', 'Name.MaximumLength', BigInt(str.length));
      this.writeField(t, '_OBJECT_TYPE', 'Name.Buffer', buf);
      this.writeField(t, '_OBJECT_TYPE', 'Index', BigInt(idx));
      this.writeU64(this.symbolVa('ObTypeIndexTable') + BigInt(idx * 8), t);
    }
  }

  /** A fresh kernel address space (take it after planting: translation caches table pages). */
  get kernel(): X64AddressSpace {
    return new X64AddressSpace(this.b.source, this.b.dtb);
  }

  symbolVa(name: string): bigint {
    return KERNEL_BASE + BigInt(this.profile.symbol(name));
  }

  get windowsKernel(): WindowsKernel {
    return {
      source: this.b.source, kernel: this.kernel, dtbRaw: this.b.dtb, dtb: this.b.dtb, dtbMethod: 'fixture',
      kernelBase: KERNEL_BASE, buildNumber: null, profile: this.profile, profileSource: 'bundled',
      symbolVa: (n: string) => this.symbolVa(n),
    };
  }

  /** Map [va, va+len) with fresh zeroed 4 KiB pages where not mapped yet. */
  ensureMapped(va: bigint, len: number): void {
    for (let p = va & ~0xfffn; p < va + BigInt(len); p += 0x1000n) {
      if (this.pages.has(p)) continue;
      const pa = this.b.allocPage();
      this.b.map(p, pa, '4K', { writable: true });
      this.pages.set(p, pa);
    }
  }

  /** Allocate `len` bytes of mapped kernel data (16-aligned). */
  alloc(len: number): bigint {
    const va = this.dataNext;
    this.dataNext += BigInt((len + 15) & ~15);
    this.ensureMapped(va, len);
    return va;
  }

  pa(va: bigint): number {
    const page = this.pages.get(va & ~0xfffn);
    const pa = page === undefined ? null : page + Number(va & 0xfffn);
    if (pa === null) throw new Error(`fixture: ${va.toString(16)} not mapped`);
    return pa;
  }

  writeBytes(va: bigint, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; ) {
      const cur = va + BigInt(i);
      const n = Math.min(bytes.length - i, 0x1000 - Number(cur & 0xfffn));
      this.b.source.write(this.pa(cur), bytes.subarray(i, i + n));
      i += n;
    }
  }

  writeU64(va: bigint, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    this.writeBytes(va, b);
  }

  /** Resolve a dotted field path of `type` to absolute offset and type. */
  fieldOf(type: string, path: string): { offset: number; type: TypeRef; size: number } {
    let t = type;
    let off = 0;
    let ref: TypeRef | null = null;
    for (const part of path.split('.')) {
      const f = this.profile.field(t, part);
      off += f.offset;
      ref = f.type;
      if (f.type.kind === 'struct') t = f.type.name;
    }
    return { offset: off, type: ref!, size: this.profile.sizeOfRef(ref!) };
  }

  /** Write an integer field (bitfields merged into their storage unit). */
  writeField(base: bigint, type: string, path: string, value: bigint): void {
    const f = this.fieldOf(type, path);
    const size = f.type.kind === 'struct' || f.type.kind === 'array' ? 8 : f.size;
    const va = base + BigInt(f.offset);
    const cur = new Uint8Array(size);
    for (let i = 0; i < size; i++) cur[i] = this.b.source.read(this.pa(va + BigInt(i)), 1).data[0]!;
    let raw = 0n;
    for (let i = size - 1; i >= 0; i--) raw = (raw << 8n) | BigInt(cur[i]!);
    if (f.type.kind === 'bitfield') {
      const mask = ((1n << BigInt(f.type.bitLength)) - 1n) << BigInt(f.type.bitPosition);
      raw = (raw & ~mask) | ((value << BigInt(f.type.bitPosition)) & mask);
    } else raw = value;
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) out[i] = Number((BigInt.asUintN(64, raw) >> BigInt(8 * i)) & 0xffn);
    this.writeBytes(va, out);
  }

  writeString(base: bigint, type: string, path: string, text: string): void {
    const f = this.fieldOf(type, path);
    const b = new Uint8Array(f.size);
    b.set(Buffer.from(text.slice(0, f.size - 1), 'latin1'));
    this.writeBytes(base + BigInt(f.offset), b);
  }

  /**
   * Plant a pool block holding an object of `typeName` (struct `structType`) at kernel VA `poolVa`
   * (default: next free pool slot). Returns the body VA. `pageSplit` maps the block's second page to
   * an unrelated physical page (a straddling allocation).
   */
  plantObject(opts: { objectType: string; structType: string; tag: string; poolType?: number; infoMask?: number; poolVa?: bigint; blockBytes?: number; typeIndexOverride?: number }): { poolVa: bigint; headerVa: bigint; bodyVa: bigint } {
    const p = this.profile;
    const infoMask = opts.infoMask ?? 0x09;
    const opt = optionalHeadersSize(p, infoMask).size;
    const body = p.offsetOf('_OBJECT_HEADER', 'Body');
    const need = 16 + opt + body + p.sizeOf(opts.structType);
    const blockBytes = opts.blockBytes ?? (need + 15) & ~15;
    const poolVa = opts.poolVa ?? this.poolNext;
    if (!opts.poolVa) this.poolNext += BigInt(blockBytes + 16);
    this.ensureMapped(poolVa, blockBytes);
    const hdr = new Uint8Array(16);
    hdr[2] = Math.min(255, blockBytes / 16);
    hdr[3] = opts.poolType ?? 2;
    hdr.set(Buffer.from(opts.tag, 'latin1'), 4);
    this.writeBytes(poolVa, hdr);
    const headerVa = poolVa + 16n + BigInt(opt);
    this.writeField(headerVa, '_OBJECT_HEADER', 'PointerCount', 1n);
    this.writeField(headerVa, '_OBJECT_HEADER', 'InfoMask', BigInt(infoMask));
    const idx = opts.typeIndexOverride ?? encodeTypeIndex(TYPE_INDEX[opts.objectType] ?? 0, COOKIE, headerVa);
    this.writeField(headerVa, '_OBJECT_HEADER', 'TypeIndex', BigInt(idx));
    return { poolVa, headerVa, bodyVa: headerVa + BigInt(body) };
  }

  /** Advance the pool cursor so the next block starts `beforeEnd` bytes before a page boundary. */
  straddleNext(beforeEnd: number): void {
    const next = (this.poolNext + 0xfffn) & ~0xfffn;
    this.poolNext = next + 0x1000n - BigInt(beforeEnd);
    // map the first page now; the second page gets an unrelated physical page (allocated later/far)
    this.ensureMapped(this.poolNext, 1);
    this.b.allocPage(); this.b.allocPage(); // gap so the next page is not physically adjacent
  }
}
