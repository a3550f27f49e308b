/**
 * DTB method (d): the System process. Its _EPROCESS holds UniqueProcessId 4, ImageFileName
 * "System" (15-byte char array, zero padded) and, in the embedded _KPROCESS, DirectoryTableBase —
 * the kernel CR3. A bytes scan for the name finds candidates in all of physical memory (in one pass
 * with the self-referencing PML4 method, whole-memory.ts); for each hit every known EPROCESS layout
 * is tried (the profile's when the build is known, else the distinct layouts of the bundled
 * profiles), and the DirectoryTableBase must name a page that looks
 * like a kernel PML4 (inspectPml4). The EPROCESS is read physically contiguous from the name's
 * page: System's EPROCESS is a non-paged pool allocation, and a hit whose fields would cross into an
 * absent page is skipped.
 */
import type { PhysicalSource } from '../../../sources/physical-source.js';
import { asciiHex, bytesScan, type BytesHit } from '../../../scan/scanners/bytes.js';
import type { Profile } from '../../../profile/profile.js';
import { hex } from '../../../util/hex.js';
import { inspectPml4, readU64 } from '../page-walk.js';
import { type DtbCandidate, pml4Of } from '../types.js';
import type { DtbScanMethod } from './whole-memory.js';

export interface EprocessLayout {
  readonly uniqueProcessId: number;
  readonly imageFileName: number;
  /** _EPROCESS.Pcb (offset 0) + _KPROCESS.DirectoryTableBase. */
  readonly directoryTableBase: number;
  readonly label: string;
}

/**
 * The distinct x64 layouts across the 213 bundled ntkrnlmp.pdb profiles (Windows 7 SP1 … 11 21H2),
 * extracted from their ISF (_EPROCESS.UniqueProcessId/ImageFileName, _KPROCESS.DirectoryTableBase).
 * Used only before the build is known; once it is, layoutFromProfile() is authoritative.
 */
export const KNOWN_X64_LAYOUTS: readonly EprocessLayout[] = [
  { uniqueProcessId: 0x440, imageFileName: 0x5a8, directoryTableBase: 0x28, label: 'Windows 10 2004+ / 11' },
  { uniqueProcessId: 0x2e8, imageFileName: 0x450, directoryTableBase: 0x28, label: 'Windows 10 1903/1909' },
  { uniqueProcessId: 0x2e0, imageFileName: 0x450, directoryTableBase: 0x28, label: 'Windows 10 1607..1809' },
  { uniqueProcessId: 0x2e0, imageFileName: 0x438, directoryTableBase: 0x28, label: 'Windows 8.1 / 10 1507..1511' },
  { uniqueProcessId: 0x180, imageFileName: 0x2e0, directoryTableBase: 0x28, label: 'Windows 7 SP1' },
];

export function layoutFromProfile(p: Profile): EprocessLayout {
  return {
    uniqueProcessId: p.offsetOf('_EPROCESS', 'UniqueProcessId'),
    imageFileName: p.offsetOf('_EPROCESS', 'ImageFileName'),
    directoryTableBase: p.offsetOf('_EPROCESS', 'Pcb') + p.offsetOf('_KPROCESS', 'DirectoryTableBase'),
    label: p.label,
  };
}

/** "System" and the 9 zero bytes that pad ImageFileName[15]. */
const NAME_NEEDLE = asciiHex('System') + '00'.repeat(9);

export function systemProcess(source: PhysicalSource, layouts: readonly EprocessLayout[] = KNOWN_X64_LAYOUTS): DtbScanMethod<BytesHit> {
  const seen = new Set<number>();
  return {
    name: 'system-process',
    spec: bytesScan({ needles: [NAME_NEEDLE], align: 8 }),
    candidates(hit: BytesHit): DtbCandidate[] {
      for (const l of layouts) {
        const eproc = hit.pa - l.imageFileName;
        if (eproc < 0) continue;
        if (readU64(source, eproc + l.uniqueProcessId) !== 4n) continue;
        const dtb = readU64(source, eproc + l.directoryTableBase);
        if (dtb === null || dtb === 0n) continue;
        const pml4 = pml4Of(dtb);
        if (seen.has(pml4)) continue;
        const look = inspectPml4(source, pml4);
        if (look.reason !== null) continue;
        seen.add(pml4);
        return [{
          dtbRaw: dtb,
          pml4,
          method: 'system-process',
          evidence: [
            `EPROCESS at PA ${hex(eproc)} (${l.label} layout): UniqueProcessId 4, ImageFileName "System"`,
            `DirectoryTableBase ${hex(dtb)} at +0x${l.directoryTableBase.toString(16)}; its PML4 self-references at 0x${look.selfRefIndex!.toString(16)}`,
          ],
          score: 70,
        }];
      }
      return [];
    },
  };
}
