import { MemScopeError } from '../../errors.js';

/**
 * Shared vocabulary of kernel discovery: DTB candidates as every strategy reports them, progress
 * events, and the report that explains what was tried. Kept free of any strategy so each strategy
 * module depends only on this file and the layers below (sources, translate, profile).
 */

/** How a DTB candidate was found. */
export type DtbMethod = 'source-cr3' | 'low-stub' | 'selfref-pml4' | 'system-process';

export interface DtbCandidate {
  /** CR3 / DirectoryTableBase as found, low bits kept (PCID, flags). */
  readonly dtbRaw: bigint;
  /** Physical address of the PML4 (dtbRaw masked to bits 12..51). */
  readonly pml4: number;
  readonly method: DtbMethod;
  /** Plain-words facts that made this a candidate ("PROCESSOR_START_BLOCK at 0x1000", …). */
  readonly evidence: string[];
  /** Higher is more believable before validation: hardware-recorded > signature > scan hit. */
  readonly score: number;
  /** A kernel VA the method learned on the way (low-stub kernel entry, System EPROCESS), used as a
   *  back-scan start for the kernel base. */
  readonly kernelHintVa?: bigint;
}

export interface DiscoveryProgress {
  /** Which step is running: 'dtb:selfref-pml4', 'kernel-base', 'profile', … */
  readonly step: string;
  readonly done: number;
  readonly total: number;
  readonly message?: string;
}

export type ProgressFn = (p: DiscoveryProgress) => void;

export interface StrategyOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: ProgressFn;
}

/** One method tried, in the order it finished. */
export interface MethodReport {
  /** e.g. 'dtb:low-stub', 'kernel-base:va-scan', 'profile:bundled'. */
  readonly method: string;
  readonly ok: boolean;
  /** Why it failed or what it found, one line. */
  readonly detail: string;
  readonly ms: number;
}

export interface CandidateReport extends DtbCandidate {
  /** 'accepted' | 'rejected' | 'not-validated' (discovery stopped before reaching it). */
  readonly status: 'accepted' | 'rejected' | 'not-validated';
  /** Validation steps passed / the reason it was rejected. */
  readonly validation: string[];
  readonly kernelBase?: bigint;
}

export interface DiscoveryReport {
  readonly source: string;
  readonly methods: MethodReport[];
  readonly candidates: CandidateReport[];
  /** Milliseconds per step: 'dtb', 'kernelBase', 'profile', 'validate', 'total'. */
  readonly timings: Record<string, number>;
  readonly accepted: {
    readonly dtbRaw: bigint;
    readonly dtb: bigint;
    readonly dtbMethod: string;
    readonly kernelBase: bigint;
    readonly buildNumber: number | null;
    readonly pdb: { readonly name: string; readonly guid: string; readonly age: number } | null;
    readonly profileSource: string | null;
  } | null;
  readonly warnings: string[];
}

export const cancelled = (): MemScopeError => new MemScopeError('cancelled', 'kernel discovery cancelled');

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled();
}
