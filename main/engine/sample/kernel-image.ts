import { usageError } from '../errors.js';
import type { Profile } from '../profile/profile.js';
import { hex } from '../util/hex.js';
import { infoMaskToOffsetTable } from './objects.js';
import { KERNEL_VA_HI, KERNEL_VA_LO } from './kernel-layout.js';
import type { AddressSpace } from './paging.js';
import { alignUp, buildDebugDirectory, buildPeHeader, fileOffsetOf, type PeSection } from './pe.js';
import { LARGE_PAGE_SIZE, PAGE_SIZE, type SparsePhysicalMemory } from './physmem.js';
import type { Prng } from './prng.js';

/**
 * ntoskrnl in the sample machine: a KASLR base in 2 MiB pages, a PE header with sections and a
 * CodeView debug record naming the profile's PDB, and the kernel globals every reader starts from.
 */
export interface KernelImage {
  readonly base: bigint;
  readonly sizeOfImage: number;
  /** PE OperatingSystemVersion (and what the PEB reports). */
  readonly osMajor: number;
  readonly osMinor: number;
  /** ObHeaderCookie, or null before Windows 10 (TypeIndex stored in clear). */
  readonly cookie: number | null;
  /** Symbol name -> VA, for every kernel global the builder wrote (insertion order kept). */
  readonly symbolsWritten: Record<string, string>;
  kva(rva: number): bigint;
  /** Write `bytes` at the symbol's VA and record it in the truth. */
  writeSymbol(name: string, bytes: Uint8Array): bigint;
}

export function mapKernelImage(
  profile: Profile, rng: Prng, mem: SparsePhysicalMemory, ks: AddressSpace, buildNumber: number, kernelBaseOpt: bigint | undefined,
): KernelImage {
  const kernelBase = kernelBaseOpt ?? KERNEL_VA_LO + BigInt(rng.int(0, 8191)) * BigInt(LARGE_PAGE_SIZE);
  if (kernelBase < KERNEL_VA_LO || kernelBase >= KERNEL_VA_HI || kernelBase % BigInt(LARGE_PAGE_SIZE) !== 0n) {
    throw usageError(`kernel base ${hex(kernelBase)} must be 2 MiB aligned inside 0xfffff80000000000–0xfffff803ffffffff`);
  }
  let maxRva = 0;
  for (const rva of Object.values(profile.data.symbols)) if (rva < 0x400_0000 && rva > maxRva) maxRva = rva;
  const sizeOfImage = alignUp(maxRva + 0x1000, PAGE_SIZE);
  for (let off = 0; off < sizeOfImage; off += LARGE_PAGE_SIZE) {
    ks.map2m(kernelBase + BigInt(off), mem.allocLargePage(), { writable: true, executable: true, global: true });
  }
  const kva = (rva: number): bigint => kernelBase + BigInt(rva);
  const symbolsWritten: Record<string, string> = {};
  const writeSymbol = (name: string, bytes: Uint8Array): bigint => {
    const va = kva(profile.symbol(name));
    ks.write(va, bytes);
    symbolsWritten[name] = hex(va);
    return va;
  };

  const { sections, rdataStart } = kernelSections(profile, sizeOfImage);
  const win10 = buildNumber >= 10240;
  const [osMajor, osMinor] = win10 ? [10, 0] : buildNumber >= 9600 ? [6, 3] : buildNumber >= 9200 ? [6, 2] : [6, 1];
  const peSpec = {
    imageBase: kernelBase, sizeOfImage, entryPointRva: 0x1000 + rng.int(0x100, 0x1000) * 16,
    timeDateStamp: rng.nextU32(), checkSum: rng.nextU32(), osMajor: osMajor as number, osMinor: osMinor as number, sections,
    debugDirRva: rdataStart + rng.int(0, 0x40) * 16,
    pdbGuid: profile.pdb.guid, pdbAge: profile.pdb.age, pdbName: profile.pdb.name,
  };
  ks.write(kernelBase, buildPeHeader(peSpec));
  ks.write(kva(peSpec.debugDirRva), buildDebugDirectory(peSpec, (rva) => fileOffsetOf(sections, rva)));

  const nt = new Uint8Array(4);
  new DataView(nt.buffer).setUint32(0, (0xf000_0000 | buildNumber) >>> 0, true); // free build: 0xF000xxxx
  writeSymbol('NtBuildNumber', nt);
  const cookie = profile.hasSymbol('ObHeaderCookie') ? rng.int(1, 0xff) : null;
  if (cookie !== null) writeSymbol('ObHeaderCookie', Uint8Array.of(cookie));
  if (profile.hasSymbol('ObpInfoMaskToOffset')) writeSymbol('ObpInfoMaskToOffset', infoMaskToOffsetTable(profile));
  return { base: kernelBase, sizeOfImage, osMajor: osMajor as number, osMinor: osMinor as number, cookie, symbolsWritten, kva, writeSymbol };
}

/** Sections placed so that the kernel globals the readers need fall inside .data. */
function kernelSections(profile: Profile, sizeOfImage: number): { sections: PeSection[]; rdataStart: number } {
  const dataRvas = ['NtBuildNumber', 'PsActiveProcessHead', 'PspCidTable', 'ObTypeIndexTable', 'ObpInfoMaskToOffset', 'PsInitialSystemProcess']
    .filter((s) => profile.hasSymbol(s))
    .map((s) => profile.symbol(s));
  const dataStart = Math.floor(Math.min(...dataRvas) / PAGE_SIZE) * PAGE_SIZE;
  const rdataStart = Math.max(0x2000, Math.floor((dataStart * 0.8) / PAGE_SIZE) * PAGE_SIZE);
  const dataEnd = Math.min(sizeOfImage - 0x2000, alignUp(Math.max(...dataRvas) + 0x1000, PAGE_SIZE));
  const sections = [
    { name: '.text', rva: 0x1000, size: rdataStart - 0x1000, characteristics: 0x6800_0020 },
    { name: '.rdata', rva: rdataStart, size: dataStart - rdataStart, characteristics: 0x4800_0040 },
    { name: '.data', rva: dataStart, size: dataEnd - dataStart, characteristics: 0xc800_0040 },
    { name: 'INIT', rva: dataEnd, size: sizeOfImage - 0x1000 - dataEnd, characteristics: 0x6200_0020 },
    { name: '.reloc', rva: sizeOfImage - 0x1000, size: 0x1000, characteristics: 0x4200_0040 },
  ].filter((s) => s.size > 0);
  return { sections, rdataStart };
}
