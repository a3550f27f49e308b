import { usageError } from '../errors.js';
import type { Profile } from '../profile/profile.js';
import { utf16 } from './bytes.js';
import { KERNEL_PML4_INDEX } from './kernel-layout.js';
import { AddressSpace } from './paging.js';
import { PAGE_SIZE, type SparsePhysicalMemory } from './physmem.js';
import { isAlive, type BuiltProcess } from './process-objects.js';

/**
 * DirBases a responder must be warned about, planted on a named live process (option
 * `dirBaseFaults: { kind: exe }`), after its address space is built and before its EPROCESS is written:
 * - `not-a-page-table`: DirectoryTableBase points at a page of file text, not a PML4;
 * - `tampered-kernel-half`: its PML4 maps ntoskrnl's slot (0x1f0) through a private copy of the
 *   PDPT, so one kernel-half entry differs from System's (a rootkit's private kernel view, or a
 *   smeared live read);
 * - `no-self-reference`: the PML4 self-map entry is cleared;
 * - `pcid-bits-without-pcid`: low bits 0x2 on a build before Windows 10, which never loads a PCID;
 * - `garbage-user-dtb`: KVA-shadow UserDirectoryTableBase overwritten with "AAAAAAAA";
 * - `zero-dtb`: DirectoryTableBase 0 on a running process.
 */
export const DIRBASE_FAULTS = [
  'not-a-page-table', 'tampered-kernel-half', 'no-self-reference', 'pcid-bits-without-pcid', 'garbage-user-dtb', 'zero-dtb',
] as const;
export type DirBaseFault = (typeof DIRBASE_FAULTS)[number];
/** Which process (by image name; the first running one of that name) gets which fault. */
export type DirBaseFaults = Readonly<Partial<Record<DirBaseFault, string>>>;

const GARBAGE_USER_DTB = 0x4141_4141_4141_4141n; // "AAAAAAAA" over the field
const NOT_A_TABLE_TEXT = 'This page holds file data, not a page table. ';

/** Plant each requested fault; returns victim -> fault (the truth labels them `dirbase-<fault>`). */
export function plantDirBaseFaults(
  profile: Profile, mem: SparsePhysicalMemory, selfRef: number, buildNumber: number,
  built: readonly BuiltProcess[], faults: DirBaseFaults,
): Map<BuiltProcess, DirBaseFault> {
  const planted = new Map<BuiltProcess, DirBaseFault>();
  for (const kind of DIRBASE_FAULTS) {
    const exe = faults[kind];
    if (exe === undefined) continue;
    const b = built.find((x) => x.p.exe === exe && isAlive(x) && x.p.pid !== 4 && !planted.has(x));
    if (!b) throw usageError(`DirBase fault ${kind}: no running process named ${exe} (other than System and the other victims)`);
    planted.set(b, kind);
    switch (kind) {
      case 'not-a-page-table': {
        const pa = mem.allocPage();
        const text = utf16(NOT_A_TABLE_TEXT.repeat(Math.ceil(PAGE_SIZE / 2 / NOT_A_TABLE_TEXT.length))).subarray(0, PAGE_SIZE);
        mem.write(pa, text);
        // The claim the truth makes (user space unreadable) checked with the builder's own walker.
        if (b.peb !== 0n && new AddressSpace(mem, pa).translate(b.peb) !== null) throw new RangeError('text page translates the PEB');
        b.dtb = BigInt(pa) | (b.dtb & 0xfffn);
        break;
      }
      case 'tampered-kernel-half': {
        const entry = b.as.readEntry(b.as.pml4, KERNEL_PML4_INDEX);
        const pdpt = Number(entry & 0x000f_ffff_ffff_f000n);
        const copy = mem.allocPage();
        mem.write(copy, mem.read(pdpt, PAGE_SIZE));
        b.as.writeEntry(b.as.pml4, KERNEL_PML4_INDEX, (entry & ~0x000f_ffff_ffff_f000n) | BigInt(copy));
        break;
      }
      case 'no-self-reference':
        b.as.writeEntry(b.as.pml4, selfRef, 0n);
        break;
      case 'pcid-bits-without-pcid':
        if (buildNumber >= 10240) throw usageError(`DirBase fault ${kind} needs a build before Windows 10 (got ${buildNumber})`);
        b.dtb |= 0x2n;
        break;
      case 'garbage-user-dtb':
        if (!profile.hasField('_KPROCESS', 'UserDirectoryTableBase')) throw usageError(`DirBase fault ${kind}: build ${buildNumber} has no UserDirectoryTableBase`);
        b.userDtb = GARBAGE_USER_DTB;
        break;
      case 'zero-dtb':
        b.dtb = 0n;
        break;
    }
  }
  return planted;
}

/** Faults that leave the process's user space (PEB, parameters) unreadable through its DirBase. */
export const hidesUserSpace = (f: DirBaseFault | undefined): boolean => f === 'not-a-page-table' || f === 'zero-dtb';
