/**
 * What the 213 real ntkrnlmp.pdb symbol tables (Volatility 3 ISF, Windows 7 SP1 … 11 21H2, bundled as
 * profiles/) say about the offsets the heuristic derives: their distinct x64 layouts, the layout
 * families, are the one generated table in ../known-layouts.data.ts (see ../known-layouts.ts).
 *
 * Rules that hold in every one of the 213 tables (and that the derivation relies on; known-layouts.test.ts
 * checks the first two on every family):
 *  - _EPROCESS.Pcb (the _KPROCESS) is at offset 0 and _KPROCESS.DirectoryTableBase at +0x28;
 *  - ActiveProcessLinks = UniqueProcessId + 8 (the HANDLE is followed directly by the LIST_ENTRY);
 *  - ImageFileName is UCHAR[15] after UniqueProcessId; CreateTime/ExitTime are _LARGE_INTEGER,
 *    ActiveThreads a ULONG, Peb a _PEB*, ObjectTable a _HANDLE_TABLE*, UniqueProcessId a void*;
 *  - ExitTime is the qword right after CreateTime ONLY on Windows 7 (0x168/0x170). From 8.1 on it
 *    moved far behind (CreateTime + 0x370 on 8.1, +0x388 on 1607/1809, +0x3b0 on 1903, +0x3d8 on
 *    2004+), so "ExitTime = CreateTime + 8" is not a rule for Windows 10+ and is not assumed;
 *  - _HANDLE_TABLE.QuotaProcess / UniqueProcessId are at +0x8/+0x10 (Windows 7) or +0x10/+0x28;
 *  - user-mode ABI: _PEB.ProcessParameters +0x20, _RTL_USER_PROCESS_PARAMETERS.ImagePathName +0x60
 *    and CommandLine +0x70, _UNICODE_STRING 16 bytes (Buffer +8), _LIST_ENTRY 16 bytes (Blink +8).
 */
import { type DerivedField, KNOWN_LAYOUTS, type KnownLayout } from '../known-layouts.js';

export type { DerivedField };
export type LayoutFamily = KnownLayout;

/** Oldest build first. */
export const LAYOUT_FAMILIES: readonly LayoutFamily[] = KNOWN_LAYOUTS;

/** _KPROCESS.DirectoryTableBase of the newest family (the prior the search tries first; 0x28 in every table). */
export const DTB_PRIOR = (LAYOUT_FAMILIES[LAYOUT_FAMILIES.length - 1] as LayoutFamily).directoryTableBase;

/** User-mode ABI offsets identical in all 213 tables (not derivable from kernel memory alone). */
export const ABI = {
  pebProcessParameters: 0x20,
  paramsImagePathName: 0x60,
  paramsCommandLine: 0x70,
} as const;

/** Every offset any family uses for `field`, most recent family first. */
export function observedOffsets(field: DerivedField, families: readonly LayoutFamily[] = LAYOUT_FAMILIES): number[] {
  return [...new Set(families.slice().reverse().map((f) => f.eprocess[field]))];
}
