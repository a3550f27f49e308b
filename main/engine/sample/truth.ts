/**
 * Ground truth written beside every sample image (`<image>.truth.json`). Tests compare the engine's
 * findings with it field by field. Hex values are lower-case `0x…` strings, times ISO 8601 UTC.
 */
export interface TruthProcess {
  readonly pid: number;
  readonly ppid: number;
  readonly name: string; // ImageFileName (15 chars max as the kernel stores it)
  readonly imagePath: string | null;
  readonly commandLine: string | null;
  /** PEB → ProcessParameters → CurrentDirectory.DosPath (null without a PEB). */
  readonly currentDirectory?: string | null;
  /** SeAuditProcessCreationInfo.ImageFileName (null for a process without an image file). */
  readonly kernelImagePath?: string | null;
  readonly offset: string; // EPROCESS kernel VA
  readonly physicalOffset: string; // PA of the EPROCESS start
  readonly dtb: string; // raw DirectoryTableBase, low bits kept
  readonly userDtb: string | null; // KVA-shadow UserDirectoryTableBase
  readonly createTime: string;
  readonly exitTime: string | null;
  readonly threads: number;
  readonly sessionId: number | null;
  readonly wow64: boolean;
  /** Which methods must find this process (true) and must not (false). */
  readonly foundBy: {
    readonly pslist: boolean;
    readonly psscan: boolean;
    readonly thrdscan: boolean;
    readonly cidtable: boolean;
    readonly csrss: boolean;
    readonly session: boolean;
  };
  /**
   * What was planted: 'normal' | 'dkom-unlinked' | 'exited' | 'remnant' | 'unmapped-remnant' |
   * 'freed-pool-block' (an intact EPROCESS in a free pool block, PoolType 0) | 'pcid-dtb' …
   */
  readonly planted: readonly string[];
  /** EPROCESS straddles a 4 KiB page boundary (halves on unrelated physical pages). */
  readonly straddles: boolean;
  /** Optional detail written by the sample builder (absent in truths from other sources). */
  readonly threadIds?: readonly number[];
  readonly threadOffsets?: readonly string[]; // ETHREAD kernel VAs
  readonly objectHeader?: string; // _OBJECT_HEADER kernel VA
  readonly poolHeader?: string; // _POOL_HEADER kernel VA
  readonly infoMask?: number; // _OBJECT_HEADER.InfoMask
  /**
   * false: the EPROCESS sits in a physical page no page table maps any more (a remnant on the free /
   * standby lists); `offset`, `objectHeader` and `poolHeader` are the VAs it HAD when mapped, and only
   * a physical scan can find it. Absent means mapped.
   */
  readonly mapped?: boolean;
}

export interface GroundTruth {
  readonly format: 'raw' | 'elf' | 'crashdump' | 'crashdump-bitmap';
  readonly build: string; // e.g. "10.0.19041.508"
  readonly buildNumber: number; // e.g. 19041
  readonly pdb: { readonly name: string; readonly guid: string; readonly age: number };
  readonly seed: number;
  readonly sizeBytes: number;
  readonly runs: readonly { readonly start: string; readonly length: string }[];
  readonly kernelBase: string;
  readonly dtb: string; // System DirBase as the kernel stores it (may carry low bits)
  readonly pml4: string; // page-aligned PML4 PA
  readonly selfRefIndex: number;
  readonly lowStub: boolean;
  readonly lowStubPa: string | null;
  readonly kernelSize?: string; // SizeOfImage of ntoskrnl
  readonly obHeaderCookie?: number | null; // null before Windows 10 (TypeIndex not encoded)
  readonly cidTableLevel?: number; // PspCidTable TableCode level (0 or 1)
  readonly poolTags?: { readonly process: string; readonly thread: string }; // PoolTag as u32 hex
  readonly symbols: Readonly<Record<string, string>>; // symbol -> VA, for those the builder wrote
  readonly processes: readonly TruthProcess[];
  /** When the image was taken (KUSER_SHARED_DATA.SystemTime) and the machine booted (KeBootTime), ISO 8601 UTC. */
  readonly captureTime?: string;
  readonly bootTime?: string;
  /** Things that look like a process but are not, which no method may report. */
  readonly decoys: readonly { readonly physicalOffset: string; readonly why: string; readonly kind?: string }[];
  /**
   * Kernel pages behind a PTE whose Valid bit is clear, in a Windows software format: 'transition'
   * ones still have their data in RAM at `pa` (the page starts with STANDBY_MARKER and its VA), so a
   * walker resolves them there; the others map nothing. Absent in truths from older builders.
   */
  readonly kernelSoftwarePtes?: readonly {
    readonly va: string;
    readonly kind: 'transition' | 'prototype' | 'pagefile' | 'demand-zero';
    readonly pte: string;
    readonly pa: string | null;
  }[];
}

/** First bytes of every page the builder puts behind a transition PTE (followed by its VA in hex). */
export const STANDBY_MARKER = 'MemScope sample: paged pool page on the standby list at';
