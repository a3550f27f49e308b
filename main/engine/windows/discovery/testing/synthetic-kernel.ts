/**
 * Test fixture: a minimal but real-shaped Windows x64 kernel in page tables built with the SDM
 * page-table builder — a PML4 with a self-map entry, ntoskrnl's PE header (DOS/NT headers, a
 * debug directory with a CodeView RSDS record naming the profile's PDB), NtBuildNumber and an
 * (empty, self-linked) PsActiveProcessHead at the profile's RVAs, and an optional low stub.
 * Small enough to build in microseconds, so strategy and failure-mode tests need no sample image.
 */
import type { PdbIdentity } from '../../../profile/model.js';
import type { Profile } from '../../../profile/profile.js';
import type { MemorySource } from '../../../sources/memory-source.js';
import { PageTableBuilder } from '../../../translate/testing/page-table-builder.js';
import { X64_MMU } from '../../../translate/x64/mmu.js';

export interface SyntheticKernelOptions {
  readonly source: MemorySource;
  /** First PA for this kernel's page tables and pages (each kernel gets its own region). */
  readonly region: number;
  readonly base: bigint;
  readonly profile: Profile;
  readonly selfRefIndex?: number;
  readonly buildNumber?: number;
  /** Break the PE header (bad e_lfanew). */
  readonly corruptPe?: boolean;
}

export interface SyntheticKernel {
  readonly builder: PageTableBuilder;
  readonly pml4: number;
  readonly headerPa: number;
}

export function symbolFormToGuidBytes(guid: string): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, Number.parseInt(guid.slice(0, 8), 16), true);
  dv.setUint16(4, Number.parseInt(guid.slice(8, 12), 16), true);
  dv.setUint16(6, Number.parseInt(guid.slice(12, 16), 16), true);
  for (let i = 0; i < 8; i++) b[8 + i] = Number.parseInt(guid.slice(16 + 2 * i, 18 + 2 * i), 16);
  return b;
}

export function peHeaderPage(pdb: PdbIdentity, sizeOfImage: number, corrupt = false): Uint8Array {
  const p = new Uint8Array(0x1000);
  const dv = new DataView(p.buffer);
  p[0] = 0x4d; p[1] = 0x5a;
  dv.setUint32(0x3c, corrupt ? 0xfff0 : 0x80, true);
  dv.setUint32(0x80, 0x4550, true); // "PE\0\0"
  dv.setUint16(0x84, 0x8664, true); // Machine AMD64
  dv.setUint16(0x86, 1, true); // NumberOfSections
  dv.setUint16(0x94, 0xf0, true); // SizeOfOptionalHeader
  const opt = 0x98;
  dv.setUint16(opt, 0x20b, true); // PE32+
  dv.setUint32(opt + 56, sizeOfImage, true);
  dv.setUint32(opt + 108, 16, true); // NumberOfRvaAndSizes
  dv.setUint32(opt + 112 + 6 * 8, 0x400, true); // debug directory RVA
  dv.setUint32(opt + 112 + 6 * 8 + 4, 28, true);
  dv.setUint32(0x400 + 12, 2, true); // IMAGE_DEBUG_TYPE_CODEVIEW
  const name = new TextEncoder().encode(pdb.name);
  dv.setUint32(0x400 + 16, 24 + name.length + 1, true);
  dv.setUint32(0x400 + 20, 0x440, true);
  p.set([0x52, 0x53, 0x44, 0x53], 0x440);
  p.set(symbolFormToGuidBytes(pdb.guid), 0x444);
  dv.setUint32(0x454, pdb.age, true);
  p.set(name, 0x458);
  return p;
}

export function buildSyntheticKernel(o: SyntheticKernelOptions): SyntheticKernel {
  const b = new PageTableBuilder({ source: o.source, tableBase: o.region });
  b.selfMap(o.selfRefIndex ?? 0x1ed);
  const headerPa = b.allocPage();
  o.source.write(headerPa, peHeaderPage(o.profile.pdb, 0x100_0000, o.corruptPe));
  b.map(o.base, headerPa);
  const page = (rva: number): number => {
    const va = o.base + BigInt(rva & ~0xfff);
    let pa: number;
    try { pa = Number(b.readU64(b.entryAddressOf('PT', va)) & X64_MMU.physMask); } catch { pa = 0; }
    if (pa === 0) { pa = b.allocPage(); b.map(va, pa); }
    return pa + (rva & 0xfff);
  };
  const head = o.profile.symbol('PsActiveProcessHead');
  const headVa = o.base + BigInt(head);
  const hp = page(head);
  o.source.writeU64(hp, headVa);
  o.source.writeU64(hp + 8, headVa);
  if (o.profile.hasSymbol('NtBuildNumber')) {
    const nb = page(o.profile.symbol('NtBuildNumber'));
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, (0xf000_0000 | (o.buildNumber ?? 19041)) >>> 0, true);
    o.source.write(nb, v);
  }
  // a pool page elsewhere in the kernel half, as every real PML4 has several kernel entries
  b.map(0xffff_a000_0000_0000n, b.allocPage());
  return { builder: b, pml4: b.pml4, headerPa };
}

/** PROCESSOR_START_BLOCK at `pa` (below 1 MiB) naming `cr3` and kernel entry `entry`. */
export function writeLowStub(source: MemorySource, pa: number, cr3: bigint, entry: bigint): void {
  const p = new Uint8Array(0x1000);
  const dv = new DataView(p.buffer);
  dv.setBigUint64(0, 0x0000_0001_0006_10e9n, true); // jmp + the masked-out byte varies per build
  dv.setBigUint64(0x70, entry, true);
  dv.setBigUint64(0xa0, cr3, true);
  source.write(pa, p);
}
