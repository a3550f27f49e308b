/**
 * A fault-injecting wrapper of any PhysicalSource, stacked like the page cache and the meter: what
 * live memory does to a reader. Live RAM changes while it is read (smear): a process exits and its
 * list links are rewritten between two reads of the walk, its pool block is freed and cleared while
 * the scan is past its tag; a page is copied while it is rewritten (torn: one part old, the rest
 * new); the WinPmem device fails a page read (that page comes back absent, as WinPmemSource reports
 * it) or the whole read fails (an I/O error). For tests and robustness runs only, never wired in
 * production.
 *
 * Deterministic: every random choice is a hash of (seed, read number, page), so the same seed and
 * the same reads give the same faults. Scheduled changes land after the read that triggers them, and
 * stay: the memory really changed. `stopFaults()` ends the random faults (not the landed changes);
 * `restore()` also puts the memory back as the inner source holds it.
 */
import { createHash } from 'node:crypto';
import { MemScopeError } from '../errors.js';
import { hex } from '../util/hex.js';
import type { AbsentRange, PhysicalRun, PhysicalSource, ReadResult, SourceHints, SourceKind } from './physical-source.js';
import { checkReadRequest, pushAbsent } from './segmented.js';

const PAGE = 4096;

/** Memory that changes under the reader: `bytes` replace what is at `pa` once the trigger is met. */
export interface MemoryChange {
  /** Physical address of the first changed byte. */
  readonly pa: number;
  /** What is there afterwards (zeros: a freed pool block cleared). */
  readonly bytes: Uint8Array;
  /**
   * When it lands: after the `reads`-th read (default 1) covering physical address `pa`, or after
   * the source's `totalReads`-th read of anything (0: before the first read).
   */
  readonly after: { readonly pa: number; readonly reads?: number } | { readonly totalReads: number };
}

export interface FaultPlan {
  readonly seed: number;
  readonly changes?: readonly MemoryChange[];
  /** Chance per page read that it is torn: from a random 8-byte boundary to the page's end, other bytes. */
  readonly tornPageRate?: number;
  /**
   * Pages torn on purpose: the `read`-th read (default 1) covering physical address `pa` returns other
   * bytes from `pa` (rounded down to 8 bytes) to its page's end; later reads see the memory as it is.
   */
  readonly tears?: readonly { readonly pa: number; readonly read?: number }[];
  /** Chance per page read that the device fails it: the page is absent in that read. */
  readonly failedPageRate?: number;
  /** Chance per read call that it throws an I/O error. */
  readonly ioErrorRate?: number;
}

/** What the source injected so far. */
export interface FaultCounts {
  reads: number;
  changesLanded: number;
  tornPages: number;
  failedPages: number;
  ioErrors: number;
}

interface PendingChange {
  readonly change: MemoryChange;
  seen: number;
  landed: boolean;
}

export class FaultInjectingSource implements PhysicalSource {
  readonly kind: SourceKind;
  readonly name: string;
  readonly size: number;
  readonly hints: SourceHints;
  readonly inner: PhysicalSource;
  /** A live source's notes and device read failures, passed through (the session's header reads them). */
  readonly notes?: readonly string[];
  readonly readFailures?: () => { readonly pages: number };
  readonly counts: FaultCounts = { reads: 0, changesLanded: 0, tornPages: 0, failedPages: 0, ioErrors: 0 };
  private plan: FaultPlan;
  private changes: PendingChange[] = [];
  /** Per planned tear, the reads covering its address so far. */
  private tearsSeen: number[] = [];
  private faulting = true;

  constructor(inner: PhysicalSource, plan: FaultPlan = { seed: 0 }) {
    this.inner = inner;
    this.kind = inner.kind;
    this.name = inner.name;
    this.size = inner.size;
    this.hints = inner.hints;
    const live = inner as PhysicalSource & Pick<FaultInjectingSource, 'notes' | 'readFailures'>;
    if (live.notes) this.notes = live.notes;
    if (live.readFailures) this.readFailures = () => live.readFailures!();
    this.plan = plan;
    this.inject(plan);
  }

  /** From now on, these faults (replacing the plan; changes already landed are undone; read numbers go on). */
  inject(plan: FaultPlan): void {
    this.plan = plan;
    this.faulting = true;
    this.changes = (plan.changes ?? []).map((change) => ({ change, seen: 0, landed: false }));
    this.tearsSeen = (plan.tears ?? []).map(() => 0);
    this.landDue();
  }

  runs(): readonly PhysicalRun[] {
    return this.inner.runs();
  }

  /** No more random faults (torn, failed, I/O); changes already landed stay, later ones still land. */
  stopFaults(): void {
    this.faulting = false;
  }

  /** No faults at all and the memory as the inner source holds it: every change undone and disarmed. */
  restore(): void {
    this.faulting = false;
    this.changes = [];
  }

  /** A uniform [0, 1) draw, a pure function of the seed and its arguments. */
  private draw(...parts: readonly (string | number)[]): number {
    return createHash('sha256').update(`${this.plan.seed}:${parts.join(':')}`).digest().readUInt32LE(0) / 0x1_0000_0000;
  }

  read(address: number, length: number): ReadResult {
    checkReadRequest(this.name, address, length);
    const n = ++this.counts.reads;
    if (this.faulting && (this.plan.ioErrorRate ?? 0) > 0 && this.draw('io', n) < (this.plan.ioErrorRate ?? 0)) {
      this.counts.ioErrors++;
      throw new MemScopeError('io', `${this.name}: read of ${length} bytes at ${hex(address)} failed (injected I/O error)`);
    }
    const r = this.inner.read(address, length);
    const data = Uint8Array.from(r.data);
    const end = address + length;
    for (const c of this.changes) {
      if (!c.landed) continue;
      const s = Math.max(address, c.change.pa);
      const e = Math.min(end, c.change.pa + c.change.bytes.length);
      if (e > s) data.set(c.change.bytes.subarray(s - c.change.pa, e - c.change.pa), s - address);
    }
    const failed: AbsentRange[] = [];
    if (this.faulting) {
      this.plannedTears(n, address, data);
      this.pageFaults(n, address, data, failed);
    }
    this.afterRead(address, length);
    return { data, absent: mergeAbsent(r.absent, failed) };
  }

  readInto(address: number, target: Uint8Array): readonly AbsentRange[] {
    const r = this.read(address, target.length);
    target.set(r.data);
    return r.absent;
  }

  close(): void {
    this.inner.close();
  }

  /** The planned tears due in read number `n`. */
  private plannedTears(n: number, address: number, data: Uint8Array): void {
    const end = address + data.length;
    (this.plan.tears ?? []).forEach((t, i) => {
      if (t.pa < address || t.pa >= end || ++this.tearsSeen[i]! !== (t.read ?? 1)) return;
      const cut = t.pa - (t.pa % 8);
      this.tear(n, cut, Math.min(cut - (cut % PAGE) + PAGE, end), address, data);
    });
  }

  /** Other bytes from `cut` to `e` (the copy raced a writer): xorshift32 from one draw (a hash per byte would make a torn scan crawl). */
  private tear(n: number, cut: number, e: number, address: number, data: Uint8Array): void {
    this.counts.tornPages++;
    let x = Math.floor(this.draw('bytes', n, cut - (cut % PAGE)) * 0xffff_ffff) | 1;
    for (let a = Math.max(cut, address); a < e; a++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      data[a - address] = x & 0xff;
    }
  }

  /** Torn and failed pages of read number `n`. */
  private pageFaults(n: number, address: number, data: Uint8Array, failed: AbsentRange[]): void {
    const torn = this.plan.tornPageRate ?? 0;
    const fail = this.plan.failedPageRate ?? 0;
    if (torn <= 0 && fail <= 0) return;
    const end = address + data.length;
    for (let page = Math.floor(address / PAGE) * PAGE; page < end; page += PAGE) {
      const s = Math.max(page, address);
      const e = Math.min(page + PAGE, end);
      if (fail > 0 && this.draw('fail', n, page) < fail) {
        this.counts.failedPages++;
        data.fill(0, s - address, e - address);
        pushAbsent(failed, s, e - s);
      } else if (torn > 0 && this.draw('torn', n, page) < torn) {
        // The copy raced a writer: from an 8-byte boundary on, the page holds other bytes.
        this.tear(n, page + 8 * Math.floor(this.draw('cut', n, page) * (PAGE / 8)), e, address, data);
      }
    }
  }

  /** Count the read against each pending change's trigger; land those now due (seen by later reads). */
  private afterRead(address: number, length: number): void {
    for (const c of this.changes) {
      if (c.landed || !('pa' in c.change.after)) continue;
      const t = c.change.after.pa;
      if (t >= address && t < address + length) c.seen++;
    }
    this.landDue();
  }

  private landDue(): void {
    for (const c of this.changes) {
      if (c.landed) continue;
      const after = c.change.after;
      const due = 'totalReads' in after ? this.counts.reads >= after.totalReads : c.seen >= (after.reads ?? 1);
      if (due) {
        c.landed = true;
        this.counts.changesLanded++;
      }
    }
  }
}

/** Two sorted absent lists as one (a page the device failed may touch a hole the source already had). */
function mergeAbsent(a: readonly AbsentRange[], b: readonly AbsentRange[]): AbsentRange[] {
  if (b.length === 0) return [...a];
  const all = [...a, ...b].sort((x, y) => x.start - y.start);
  const out: AbsentRange[] = [];
  for (const r of all) {
    const last = out[out.length - 1];
    if (last && r.start <= last.start + last.length) {
      const endMax = Math.max(last.start + last.length, r.start + r.length);
      out[out.length - 1] = { start: last.start, length: endMax - last.start };
    } else out.push({ ...r });
  }
  return out;
}
