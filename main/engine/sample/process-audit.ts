/**
 * What the kernel and the PEB record of where a process came from, for the sample's processes:
 * SeAuditProcessCreationInfo.ImageFileName (an _OBJECT_NAME_INFORMATION — a _UNICODE_STRING followed
 * by its text — in paged pool, pointed at from the EPROCESS; it outlives the PEB and the process's
 * exit) and the current directory in the process parameters (CurrentDirectory.DosPath).
 */
import type { Profile } from '../profile/profile.js';
import type { PlannedProcess } from './plan.js';
import { POOL_TYPE_PAGED, tagValue, type PoolArena } from './pool.js';
import { StructBuf } from './struct-buf.js';

/** The boot volume as the kernel names it: `C:\…` is `\Device\HarddiskVolume3\…` on a default install. */
const BOOT_VOLUME = '\\Device\\HarddiskVolume3';

/** The NT path the kernel records for an image, or null for a process without an image file (System, Registry). */
export function kernelImagePathOf(p: PlannedProcess): string | null {
  if (p.imagePath === null) return null;
  return `${BOOT_VOLUME}${p.imagePath.replace(/^[A-Za-z]:/, '').replace(/^\\SystemRoot\\/i, '\\Windows\\')}`;
}

/** The directory a sample process runs in (services and shells alike start in system32). */
export function currentDirectoryOf(p: PlannedProcess): string | null {
  return p.imagePath === null ? null : 'C:\\Windows\\system32\\';
}

export const utf16le = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le'));

/**
 * Allocate the _OBJECT_NAME_INFORMATION of `p`'s image in paged pool and point the EPROCESS at it
 * (nothing for a process without an image file).
 */
export function writeAuditImageName(profile: Profile, arena: PoolArena, eprocess: StructBuf, p: PlannedProcess): void {
  const path = kernelImagePathOf(p);
  if (path === null || !eprocess.has('SeAuditProcessCreationInfo.ImageFileName')) return;
  const text = utf16le(path);
  const usSize = profile.sizeOf('_UNICODE_STRING');
  const block = arena.alloc(usSize + text.length + 2, tagValue('SeAu'), POOL_TYPE_PAGED);
  const header = profile.sizeOf('_POOL_HEADER');
  const nameVa = block.va + BigInt(header);
  new StructBuf(profile, '_UNICODE_STRING', block.bytes, header)
    .set('Length', text.length).set('MaximumLength', text.length + 2).set('Buffer', nameVa + BigInt(usSize));
  block.bytes.set(text, header + usSize);
  eprocess.set('SeAuditProcessCreationInfo.ImageFileName', nameVa);
}
