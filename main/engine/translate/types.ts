/**
 * Contract of the x64 translation layer (implemented in translate/x64/). Virtual addresses are
 * bigint (64-bit canonical), physical addresses numbers (<= 52 bits).
 */
export type PageSize = '4K' | '2M' | '1G';

export type PagingLevel = 'PML4' | 'PDPT' | 'PD' | 'PT';

/** One entry read during a walk, so the UI can explain a translation step by step. */
export interface WalkStep {
  readonly level: PagingLevel;
  /** Physical address of the entry that was read. */
  readonly entryAddress: number;
  /** The raw 64-bit entry (null when the table page itself was absent from the source). */
  readonly entry: bigint | null;
}

export interface Translation {
  readonly va: bigint;
  readonly pa: number | null;
  readonly page: PageSize | null;
  /** "resident", "transition" when resolved through a transition PTE, or why not: e.g.
   *  "PDE not present", "prototype PTE (not resident)", "page file PTE (not resident)",
   *  "demand-zero PTE (not resident)", "non-canonical address", "page table outside physical memory". */
  readonly reason: string;
  readonly walk: readonly WalkStep[];
}

export interface VirtualReadResult {
  /** Exactly the requested length; unreadable bytes are zero. */
  readonly data: Uint8Array;
  /** Virtual ranges that could not be read (not resident or absent from the source). */
  readonly missing: readonly { readonly va: bigint; readonly length: number; readonly reason: string }[];
}

/** A virtual address space: what the Windows layer sees of the one below. */
export interface VirtualMemory {
  /** DTB as given (low bits kept). */
  readonly dtbRaw: bigint;
  /** Physical address of the PML4 (DTB masked to bits 12..51). */
  readonly pml4: number;
  translate(va: bigint): Translation;
  read(va: bigint, length: number): VirtualReadResult;
}
