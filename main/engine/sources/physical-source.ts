/**
 * The bottom layer: where physical bytes come from. Every image format and the live WinPmem device
 * implement this one interface; wrappers (page cache, throughput meter, fault injector) implement it
 * too and stack, as memflow's physical-memory middleware does.
 *
 * Physical addresses are JS numbers: x64 physical addresses are at most 52 bits (Intel SDM vol. 3,
 * 4.1.4, MAXPHYADDR <= 52), well inside Number.MAX_SAFE_INTEGER. Reads are synchronous: every format
 * is a file or a device read with a bounded buffer, and the worker pool gives parallelism.
 */

/** A contiguous range of physical memory the source can serve. */
export interface PhysicalRun {
  /** First physical address of the run. */
  readonly start: number;
  /** Length in bytes. */
  readonly length: number;
}

/** A physical range the source could not serve (a hole between runs, past the end, a device error). */
export interface AbsentRange {
  readonly start: number;
  readonly length: number;
}

export interface ReadResult {
  /** Exactly the requested length; absent bytes are zero. */
  readonly data: Uint8Array;
  /** Which parts of the request were absent, in address order; empty when everything was read. */
  readonly absent: readonly AbsentRange[];
}

/**
 * What the source itself knows about the machine it holds: a crash-dump header or WinPmem's
 * GET_INFO reply. Every value is a hint for discovery, validated there, never trusted blindly.
 */
export interface SourceHints {
  /** CR3 as recorded, low bits kept (PCID may be set). */
  readonly dtb?: bigint;
  readonly kernelBase?: bigint;
  readonly psActiveProcessHead?: bigint;
  readonly psLoadedModuleList?: bigint;
  readonly kdDebuggerDataBlock?: bigint;
  readonly majorVersion?: number;
  readonly minorVersion?: number;
  /** NtBuildNumber's low 16 bits (e.g. 19041) when the source records it. */
  readonly buildNumber?: number;
  readonly numberOfProcessors?: number;
  /** PE machine type (0x8664 for x64). */
  readonly machineImageType?: number;
}

export type SourceKind = 'raw' | 'elf-core' | 'crashdump-full' | 'crashdump-bitmap' | 'winpmem';

export interface PhysicalSource {
  readonly kind: SourceKind;
  /** What to call this source in messages: the file path or the device name. */
  readonly name: string;
  /** Highest physical address served + 1. */
  readonly size: number;
  readonly hints: SourceHints;
  /** The physical runs, sorted by start, non-overlapping. */
  runs(): readonly PhysicalRun[];
  /** Read `length` bytes at physical `address`; never throws for absent memory, only for I/O failure. */
  read(address: number, length: number): ReadResult;
  /**
   * Optional: the same read into a caller-owned buffer (target.length bytes at `address`; absent
   * bytes zeroed), so a whole-memory scan reuses one buffer instead of allocating per chunk (fresh
   * multi-MiB buffers cost 2-4x the read itself). Returns the absent ranges, as read() does.
   */
  readInto?(address: number, target: Uint8Array): readonly AbsentRange[];
  close(): void;
}

/** Read into `target` through readInto where the source has it, else read() and copy; the absent ranges. */
export function readIntoTarget(source: PhysicalSource, address: number, target: Uint8Array): readonly AbsentRange[] {
  if (source.readInto) return source.readInto(address, target);
  const r = source.read(address, target.length);
  target.set(r.data);
  return r.absent;
}

/** Largest single read the engine will ask of a source; bigger requests are a caller bug or hostile input. */
export const MAX_READ = 64 * 1024 * 1024;
