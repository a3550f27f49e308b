/**
 * DTB method (d): the System process. Its _EPROCESS holds UniqueProcessId 4, ImageFileName
 * "System" (15-byte char array, zero padded) and, in the embedded _KPROCESS, DirectoryTableBase —
 * the kernel CR3. A bytes scan for the name finds candidates in all of physical memory (in one pass
 * with the self-referencing PML4 method, whole-memory.ts); for each hit every known EPROCESS layout
 * is tried (the profile's when the build is known, else the distinct layouts of the bundled
 * profiles, KNOWN_X64_LAYOUTS), and the DirectoryTableBase must name a page that looks
 * like a kernel PML4 (inspectPml4). The EPROCESS is read physically contiguous from the name's
 * page: System's EPROCESS is a non-paged pool allocation, and a hit whose fields would cross into an
 * absent page is skipped.
 */
import type { PhysicalSource } from '../../../sources/physical-source.js';
import { asciiHex, bytesScan, type BytesHit } from '../../../scan/scanners/bytes.js';
import type { Profile } from '../../../profile/profile.js';
import { KNOWN_LAYOUTS, type KnownLayout } from '../../known-layouts.js';
import { hex } from '../../../util/hex.js';
import { inspectPml4, readU64 } from '../page-walk.js';
import { type DtbCandidate } from '../types.js';
import type { DtbScanMethod } from './whole-memory.js';
import { pml4FromDtb } from '../../../translate/x64/mmu.js';

export interface EprocessLayout {
  readonly uniqueProcessId: number;
  readonly imageFileName: number;
  /** _EPROCESS.Pcb (offset 0) + _KPROCESS.DirectoryTableBase. */
  readonly directoryTableBase: number;
  readonly label: string;
}

/**
 * The distinct (UniqueProcessId, ImageFileName, DirectoryTableBase) triples of the bundled profiles'
 * layouts (known-layouts.data.ts), newest first: what a System hit is tried against before the build
 * is known; once it is, layoutFromProfile() is authoritative.
 */
export const KNOWN_X64_LAYOUTS: readonly EprocessLayout[] = systemProcessLayouts(KNOWN_LAYOUTS);

export function systemProcessLayouts(layouts: readonly KnownLayout[]): EprocessLayout[] {
  const out = new Map<string, EprocessLayout>();
  for (const l of [...layouts].reverse()) {
    const triple = { uniqueProcessId: l.eprocess.UniqueProcessId, imageFileName: l.eprocess.ImageFileName, directoryTableBase: l.directoryTableBase };
    const key = JSON.stringify(triple);
    const seen = out.get(key);
    out.set(key, { ...triple, label: seen ? `${l.label} / ${seen.label}` : l.label });
  }
  return [...out.values()];
}

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
        const pml4 = pml4FromDtb(dtb);
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
