import type { Profile } from '../profile/profile.js';
import { utf16 } from './bytes.js';
import type { KernelImage } from './kernel-image.js';
import { AddressSpace } from './paging.js';
import { alignUp } from './pe.js';
import { PAGE_SIZE, type SparsePhysicalMemory } from './physmem.js';
import type { PlannedProcess } from './plan.js';
import type { BuiltProcess } from './process-objects.js';
import type { Prng } from './prng.js';
import { StructBuf } from './struct-buf.js';
import { currentDirectoryOf } from './process-audit.js';

/** The seed's LockApp.exe DirBase 0x4e312002, masked: that process gets its PML4 there when free. */
const SEED_DTB_PA = 0x4e31_2000;

/**
 * Each process's page tables: its own PML4 with the kernel half copied from System's and the
 * self-reference entry, the PEB and process parameters in its user half, and with KVA shadowing a
 * second (user-mode) PML4 sharing the user tables. System keeps the kernel PML4.
 */
export function buildAddressSpaces(
  profile: Profile, rng: Prng, mem: SparsePhysicalMemory, ks: AddressSpace, selfRef: number,
  kernel: KernelImage, buildNumber: number, built: readonly BuiltProcess[],
): void {
  const system = built[0];
  for (const b of built) {
    if (b === system) {
      b.dtb = BigInt(ks.pml4);
      continue;
    }
    const wantSeed = b.p.exe === 'LockApp.exe' && mem.isFree(SEED_DTB_PA / PAGE_SIZE);
    if (wantSeed) mem.reserve(SEED_DTB_PA);
    const as = AddressSpace.create(mem, wantSeed ? SEED_DTB_PA : undefined);
    as.copyKernelHalf(ks);
    as.setSelfRef(selfRef);
    b.as = as;
    b.dtb = BigInt(as.pml4) | (b.p.kvaShadow ? 0x2n : 0n); // PCID-like low bits as Windows 10/11 show them
    if (b.p.exe !== 'Registry') b.peb = (BigInt(rng.int(0x10, 0xff)) << 32n) | (BigInt(rng.int(0, 0xfffff)) << 12n);
    if (b.p.hasPeb && b.peb !== 0n) writePeb(profile, rng, mem, as, b.p, b.peb, buildNumber, kernel.osMajor, kernel.osMinor);
    if (b.p.kvaShadow) {
      // KVA shadow: a second PML4 for user mode sharing the user tables; the kernel keeps it beside DirBase.
      const shadow = AddressSpace.create(mem);
      shadow.copyUserHalf(as);
      b.userDtb = BigInt(shadow.pml4) | 0x1n;
    }
  }
}

function writePeb(
  profile: Profile, rng: Prng, mem: SparsePhysicalMemory, as: AddressSpace, p: PlannedProcess,
  pebVa: bigint, buildNumber: number, osMajor: number, osMinor: number,
): void {
  const imagePath = utf16(p.imagePath ?? '');
  const cmd = utf16(p.commandLine ?? '');
  const curDir = utf16(currentDirectoryOf(p) ?? '');
  const paramsSize = profile.sizeOf('_RTL_USER_PROCESS_PARAMETERS');
  // Normalised parameters: the strings follow the structure in the same allocation.
  const total = alignUp(paramsSize + imagePath.length + 2 + cmd.length + 2 + curDir.length + 2, 16);
  const paramsVa = (BigInt(rng.int(0x100, 0x2ff)) << 32n) | (BigInt(rng.int(0, 0xffff)) << 16n);
  for (let off = 0; off < total; off += PAGE_SIZE) as.map4k(paramsVa + BigInt(off), mem.allocPage(), { user: true });
  as.map4k(pebVa, mem.allocPage(), { user: true });
  const params = new Uint8Array(total);
  const rp = new StructBuf(profile, '_RTL_USER_PROCESS_PARAMETERS', params);
  const ipVa = paramsVa + BigInt(paramsSize);
  const cmdVa = ipVa + BigInt(imagePath.length + 2);
  rp.set('MaximumLength', total).set('Length', total).set('Flags', 1); // RTL_USER_PROC_PARAMS_NORMALIZED
  rp.set('ImagePathName.Length', imagePath.length).set('ImagePathName.MaximumLength', imagePath.length + 2).set('ImagePathName.Buffer', ipVa);
  rp.set('CommandLine.Length', cmd.length).set('CommandLine.MaximumLength', cmd.length + 2).set('CommandLine.Buffer', cmdVa);
  params.set(imagePath, paramsSize);
  params.set(cmd, paramsSize + imagePath.length + 2);
  const curDirAt = paramsSize + imagePath.length + 2 + cmd.length + 2;
  rp.set('CurrentDirectory.DosPath.Length', curDir.length).set('CurrentDirectory.DosPath.MaximumLength', curDir.length + 2).set('CurrentDirectory.DosPath.Buffer', paramsVa + BigInt(curDirAt));
  params.set(curDir, curDirAt);
  as.write(paramsVa, params);
  const peb = new StructBuf(profile, '_PEB', new Uint8Array(profile.sizeOf('_PEB')));
  peb.set('ImageBaseAddress', 0x7ff6_0000_0000n + (BigInt(rng.int(0, 0xffff)) << 16n));
  peb.set('ProcessParameters', paramsVa);
  peb.setIf('OSMajorVersion', osMajor);
  peb.setIf('OSMinorVersion', osMinor);
  peb.setIf('OSBuildNumber', buildNumber);
  if (p.session !== null) peb.setIf('SessionId', p.session);
  as.write(pebVa, peb.buf);
}
