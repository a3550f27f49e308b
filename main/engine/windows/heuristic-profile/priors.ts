/**
 * What the 213 real ntkrnlmp.pdb symbol tables (Volatility 3 ISF, Windows 7 SP1 … 11 21H2; see
 * /work/shared/data/windows-symbols) say about the offsets the heuristic derives. Extracted once at
 * development time (a throwaway script reading every *.json.xz) and condensed here; the data files
 * themselves are not shipped. They collapse into six x64 layout families:
 *
 *   family  builds                 Pid   APL   Name  Parent CTime ETime Peb   ObjTbl Thr   size
 *   7601    Windows 7 SP1          0x180 0x188 0x2e0 0x290  0x168 0x170 0x338 0x200  0x328 0x4f8
 *   9600    Windows 8.1            0x2e0 0x2e8 0x438 0x3d0  0x2d0 0x640 0x3e8 0x408  0x480 0x700..0x708
 *   14393   Windows 10 1607        0x2e8 0x2f0 0x450 0x3e0  0x308 0x690 0x3f8 0x418  0x498 0x7c8..0x7d0
 *   17763   Windows 10 1809        0x2e0 0x2e8 0x450 0x3e0  0x308 0x690 0x3f8 0x418  0x498 0x850..0x858
 *   18362   Windows 10 1903/1909   0x2e8 0x2f0 0x450 0x3e8  0x310 0x6c0 0x3f8 0x418  0x498 0x880
 *   19041   Win 10 2004+, 2022, 11 0x440 0x448 0x5a8 0x540  0x468 0x840 0x550 0x570  0x5f0 0xa40..0xbc0
 *
 * Rules that hold in every one of the 213 tables (and that the derivation relies on):
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

export type DerivedField =
  | 'UniqueProcessId' | 'ActiveProcessLinks' | 'ImageFileName' | 'InheritedFromUniqueProcessId'
  | 'CreateTime' | 'ExitTime' | 'Peb' | 'ObjectTable' | 'ActiveThreads';

export interface LayoutFamily {
  readonly label: string;
  /** Lowest and highest NtBuildNumber seen with this layout. */
  readonly builds: readonly [number, number];
  readonly eprocess: Readonly<Record<DerivedField, number>>;
  readonly handleTable: { readonly quotaProcess: number; readonly uniqueProcessId: number };
}

const fam = (
  label: string, builds: [number, number], pid: number, name: number, parent: number, ct: number, et: number,
  peb: number, ot: number, thr: number, ht: [number, number],
): LayoutFamily => ({
  label,
  builds,
  eprocess: {
    UniqueProcessId: pid, ActiveProcessLinks: pid + 8, ImageFileName: name, InheritedFromUniqueProcessId: parent,
    CreateTime: ct, ExitTime: et, Peb: peb, ObjectTable: ot, ActiveThreads: thr,
  },
  handleTable: { quotaProcess: ht[0], uniqueProcessId: ht[1] },
});

export const LAYOUT_FAMILIES: readonly LayoutFamily[] = [
  fam('Windows 7 SP1', [7601, 7601], 0x180, 0x2e0, 0x290, 0x168, 0x170, 0x338, 0x200, 0x328, [0x8, 0x10]),
  fam('Windows 8.1', [9600, 9600], 0x2e0, 0x438, 0x3d0, 0x2d0, 0x640, 0x3e8, 0x408, 0x480, [0x10, 0x28]),
  fam('Windows 10 1607', [14393, 14393], 0x2e8, 0x450, 0x3e0, 0x308, 0x690, 0x3f8, 0x418, 0x498, [0x10, 0x28]),
  fam('Windows 10 1809', [17763, 17763], 0x2e0, 0x450, 0x3e0, 0x308, 0x690, 0x3f8, 0x418, 0x498, [0x10, 0x28]),
  fam('Windows 10 1903/1909', [18326, 18363], 0x2e8, 0x450, 0x3e8, 0x310, 0x6c0, 0x3f8, 0x418, 0x498, [0x10, 0x28]),
  fam('Windows 10 2004+ / Server 2022 / Windows 11 21H2', [19041, 22000], 0x440, 0x5a8, 0x540, 0x468, 0x840, 0x550, 0x570, 0x5f0, [0x10, 0x28]),
];

/** _KPROCESS.DirectoryTableBase in every table (the prior the search tries first). */
export const DTB_PRIOR = 0x28;

/** User-mode ABI offsets identical in all 213 tables (not derivable from kernel memory alone). */
export const ABI = {
  pebProcessParameters: 0x20,
  paramsImagePathName: 0x60,
  paramsCommandLine: 0x70,
} as const;

/** Every offset any family uses for `field`, most recent family first. */
export function observedOffsets(field: DerivedField): number[] {
  return [...new Set(LAYOUT_FAMILIES.slice().reverse().map((f) => f.eprocess[field]))];
}
