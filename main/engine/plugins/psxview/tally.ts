/**
 * What psxview's sources have seen so far: per source, each EPROCESS VA with what it saw there (the
 * evidence beside the row), the decoded processes, the remnants only psscan can see, and the rows
 * changed since the last send. The collectors (sources.ts) add to it; the aggregator reads it.
 */
import { PSXVIEW_SOURCES, type PsxSource } from '../../../../common/process-vocabulary.js';
import type { WindowsKernel } from '../../windows/kernel.js';
import { FREED_POOL_BLOCK_NOTE, eprocessInsanity, readEprocess, remnantInsanity, withNote, type ProcessRow } from '../../windows/eprocess.js';
import { isKernelPointer } from '../../translate/x64/kernel-half.js';

export class PsxTally {
  /** Per source: each EPROCESS VA it saw, with what it saw. */
  readonly seen: Record<PsxSource, Map<bigint, string>> = {
    pslist: new Map(), psscan: new Map(), thrdscan: new Map(), cidtable: new Map(), csrss: new Map(), session: new Map(),
  };
  /** ETHREAD pool blocks naming each process as owner. */
  readonly threadCount = new Map<bigint, number>();
  readonly rows = new Map<bigint, ProcessRow>();
  /** EPROCESS remnants in physical pages no kernel table maps (VA unknown), keyed by PA, with the hit PA. */
  readonly remnants = new Map<number, { row: ProcessRow; hit: number }>();
  /** EPROCESS VAs psscan found in a freed pool block (PoolType 0). */
  readonly freedBlocks = new Set<bigint>();
  /** Rows new or changed since the last send: VAs, and remnant PAs. */
  readonly dirtyVas = new Set<bigint>();
  readonly dirtyPas = new Set<number>();

  constructor(private readonly kernel: WindowsKernel, readonly warn: (message: string) => void) {}

  /** The decoded EPROCESS at `va` (decoded once). */
  rowOf(va: bigint): ProcessRow {
    let r = this.rows.get(va);
    if (!r) this.rows.set(va, (r = readEprocess({ profile: this.kernel.profile, kernel: this.kernel.kernel, source: this.kernel.source }, va)));
    return r;
  }

  /** Record that `src` saw the EPROCESS at `va` (a direct source: the active list). */
  see(src: PsxSource, va: bigint, evidence: string): void {
    this.seen[src].set(va, evidence);
    this.rowOf(va);
    this.dirtyVas.add(va);
  }

  /**
   * Accept a candidate EPROCESS from an indirect source only when it decodes as a sane process;
   * `reread` replaces the decoded row (psscan's re-read of a torn page).
   */
  accept(src: PsxSource, va: bigint, evidence: string, freed = false, reread?: ProcessRow): boolean {
    if (!isKernelPointer(va)) return false;
    if (reread) this.rows.set(va, reread);
    const r = this.rowOf(va);
    const insane = freed ? remnantInsanity(r, this.kernel.source) : eprocessInsanity(r, this.kernel.source.size);
    if (insane !== null) {
      if (!PSXVIEW_SOURCES.some((s) => this.seen[s].has(va))) this.rows.delete(va);
      return false;
    }
    if (freed) { this.freedBlocks.add(va); this.rows.set(va, withNote(r, FREED_POOL_BLOCK_NOTE)); }
    if (!this.seen[src].has(va)) { this.seen[src].set(va, evidence); this.dirtyVas.add(va); }
    return true;
  }

  /** A remnant EPROCESS at physical `pa` (pool hit at `hit`) in a page no kernel table maps. */
  addRemnant(pa: number, row: ProcessRow, hit: number): void {
    if (!this.remnants.has(pa)) this.dirtyPas.add(pa);
    this.remnants.set(pa, { row, hit });
  }

  /** Every EPROCESS VA any source saw, ascending. */
  allVas(): bigint[] {
    const all = new Set<bigint>();
    for (const src of PSXVIEW_SOURCES) for (const va of this.seen[src].keys()) all.add(va);
    return [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The live (not exited) processes pslist or psscan found, whose pointers later sources follow. */
  liveKnown(): { va: bigint; row: ProcessRow }[] {
    const vas = [...new Set([...this.seen.pslist.keys(), ...this.seen.psscan.keys()])];
    return vas.map((va) => ({ va, row: this.rows.get(va) })).filter((x): x is { va: bigint; row: ProcessRow } => x.row !== undefined && x.row.exitTime === null);
  }
}
