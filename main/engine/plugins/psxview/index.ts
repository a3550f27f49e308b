/**
 * psxview: processes cross-viewed from six sources, one row per distinct EPROCESS (by kernel VA):
 *   pslist   — PsActiveProcessHead list;             psscan — `Proc` pool blocks;
 *   thrdscan — `Thre` pool blocks → owning process (Tcb.Process, else ThreadsProcess, else Cid);
 *   cidtable — PspCidTable entries of type Process;  csrss — Process handles in csrss.exe's ObjectTable;
 *   session  — every _MM_SESSION_SPACE.ProcessList (via EPROCESS.SessionProcessLinks).
 * A process missing from the active list but seen by thread or CID sources is the DKOM signature.
 * (Volatility 3's psxview has pslist/psscan/thrdscan/csrss; cidtable and session follow Volatility 2.)
 * One collector per source (sources.ts) answers what it saw and its health: 'unusable' when its
 * structure is empty, unreadable or yields no sane process, 'incomplete' when its walk broke
 * part-way, each with a warning naming the structure and address; a source a cancelled scan never
 * reached stays 'unchecked' (its cells empty, never `false`). This file aggregates: the presence
 * table (presence.ts) reads each row, and rows stream as the sources complete.
 */
import { PSXVIEW_SOURCES, type ProcessStatusWord, type PsxSource } from '../../../../common/process-vocabulary.js';
import { MemScopeError } from '../../errors.js';
import type { WindowsKernel } from '../../windows/kernel.js';
import type { ProcessRow } from '../../windows/eprocess.js';
import { pidIndex, withParentName } from '../../windows/process-parents.js';
import { hex } from '../../util/hex.js';
import type { PoolScanOptions } from '../psscan/pool-objects.js';
import { NONE_CHECKED, readPresence, seenValue, type PresenceFacts, type SourceHealth, type SourceHealthMap } from './presence.js';
import { NOT_SEEN, checkActiveList, checkCidTable, checkCsrss, checkPoolScans, checkSessions, type SourceCheck } from './sources.js';
import { PsxTally } from './tally.js';

export { THREAD_POOL } from './sources.js';
export { PSXVIEW_SOURCES, type PsxSource };
export { ALL_SOURCES_OK, expectedAbsent, type SourceHealth, type SourceHealthMap } from './presence.js';

export interface PsxViewRow {
  /** EPROCESS kernel VA; null for a remnant found only in a physical page no kernel table maps. */
  readonly offset: bigint | null;
  readonly pid: number | null;
  readonly name: string | null;
  /** Per source: seen, not seen, or null when the source was not checked (cancelled or still running). */
  readonly pslist: boolean | null;
  readonly psscan: boolean | null;
  readonly thrdscan: boolean | null;
  readonly cidtable: boolean | null;
  readonly csrss: boolean | null;
  readonly session: boolean | null;
  readonly exitTime: string | null;
  /** The status word, then why (presence.ts). */
  readonly verdict: string;
  readonly status: ProcessStatus;
}

export type ProcessStatus = ProcessStatusWord;

/** A psxview row with its status word, what each source saw (or why not), and the decoded process. */
export interface PsxViewEntry {
  /** The EPROCESS VA (hex), or `pa:0x…` for a remnant in an unmapped physical page. */
  readonly key: string;
  readonly row: PsxViewRow;
  readonly status: ProcessStatus;
  readonly evidence: Partial<Record<PsxSource, string>>;
  readonly process: ProcessRow;
}

export type PsxViewEvent =
  | { readonly type: 'progress'; readonly bytesDone: number; readonly bytesTotal: number }
  | { readonly type: 'warning'; readonly message: string }
  /**
   * Rows new or changed since the last such event. After each stage (`done` lists the sources
   * complete so far) every row is re-sent: its verdict then covers one more source.
   */
  | { readonly type: 'rows'; readonly stage: string; readonly done: readonly PsxSource[]; readonly entries: readonly PsxViewEntry[] };

/** The row of one process from the presence table's facts: each source's tick, the word and the sentence. */
export function presenceRow(base: { offset: bigint | null; pid: number | null; name: string | null }, f: PresenceFacts): PsxViewRow {
  const { status, verdict } = readPresence(f);
  const tick = (s: PsxSource) => seenValue(f, s);
  return {
    ...base,
    pslist: tick('pslist'), psscan: tick('psscan'), thrdscan: tick('thrdscan'), cidtable: tick('cidtable'), csrss: tick('csrss'), session: tick('session'),
    exitTime: f.exitTime, verdict, status,
  };
}

/** The default row order: PID, then EPROCESS offset (remnants, offset null, first within a PID). */
export function comparePsxRows(a: PsxViewRow, b: PsxViewRow): number {
  if (a.pid !== b.pid) return (a.pid ?? 0) - (b.pid ?? 0);
  if (a.offset === b.offset) return 0;
  return a.offset === null ? -1 : b.offset === null ? 1 : a.offset < b.offset ? -1 : 1;
}

export interface PsxViewResult {
  /** In the default order (PID, then offset): the order the CLI prints. */
  readonly rows: PsxViewRow[];
  readonly entries: PsxViewEntry[];
  readonly warnings: string[];
  /** Full process rows by EPROCESS VA (hex), or by physical offset for unmapped remnants. */
  readonly processes: ReadonlyMap<string, ProcessRow>;
  /** Which sources this image left usable (the verdicts already account for it). */
  readonly sourceHealth: SourceHealthMap;
}

/** Rows of the tally as the presence table reads them, given each source's health so far. */
class PsxRows {
  readonly health: Record<PsxSource, SourceHealth> = { ...NONE_CHECKED };
  readonly notSeen: Record<PsxSource, string> = { ...NOT_SEEN };

  constructor(private readonly tally: PsxTally) {}

  /** A source's check is in: its health, and its reason for absence. */
  complete(src: PsxSource, check: SourceCheck): void {
    this.health[src] = check.health;
    if (check.notSeen !== undefined) this.notSeen[src] = check.notSeen;
  }

  /** The sources checked so far (`done` of a rows event). */
  done(): PsxSource[] {
    return PSXVIEW_SOURCES.filter((s) => this.health[s].status !== 'unchecked');
  }

  /** Every source not yet checked is now never checked: the scan was cancelled. */
  cancel(): void {
    for (const s of PSXVIEW_SOURCES) if (this.health[s].status === 'unchecked') this.health[s] = { status: 'unchecked', reason: 'scan cancelled' };
  }

  /** What a source says about a process it did not see. */
  private absence(s: PsxSource): string {
    const h = this.health[s];
    if (h.status === 'unchecked') return `not checked (${h.reason})`;
    return h.status === 'ok' ? this.notSeen[s] : `${this.notSeen[s]} (${s} ${h.status} in this image)`;
  }

  /** Processes by PID, for naming parents (rebuilt for each batch of rows sent). */
  private parents(): Map<number, ProcessRow[]> {
    return pidIndex([...this.tally.rows.values(), ...[...this.tally.remnants.values()].map((r) => r.row)]);
  }

  entryOf(va: bigint, byPid: ReadonlyMap<number, readonly ProcessRow[]>): PsxViewEntry {
    const t = this.tally;
    const p = withParentName(t.rowOf(va), byPid);
    const seen = Object.fromEntries(PSXVIEW_SOURCES.map((s) => [s, t.seen[s].has(va)])) as Record<PsxSource, boolean>;
    const facts: PresenceFacts = { name: p.name, seen, health: this.health, exitTime: p.exitTime, freedPoolBlock: t.freedBlocks.has(va), unmappedPa: null };
    const evidence: Partial<Record<PsxSource, string>> = {};
    for (const s of PSXVIEW_SOURCES) {
      const e = t.seen[s].get(va);
      const threads = t.threadCount.get(va) ?? 1;
      evidence[s] = e === undefined ? this.absence(s) : s === 'thrdscan' && threads > 1 ? `${e} (${threads} threads in pool)` : e;
    }
    const row = presenceRow({ offset: va, pid: p.pid, name: p.name }, facts);
    return { key: hex(va), row, status: row.status, evidence, process: p };
  }

  remnantEntry(pa: number, byPid: ReadonlyMap<number, readonly ProcessRow[]>): PsxViewEntry {
    const remnant = this.tally.remnants.get(pa)!;
    const p = withParentName(remnant.row, byPid);
    const hit = remnant.hit;
    const seen = Object.fromEntries(PSXVIEW_SOURCES.map((s) => [s, s === 'psscan'])) as Record<PsxSource, boolean>;
    const facts: PresenceFacts = { name: p.name, seen, health: this.health, exitTime: p.exitTime, freedPoolBlock: false, unmappedPa: pa };
    const evidence: Partial<Record<PsxSource, string>> = {};
    for (const s of PSXVIEW_SOURCES) evidence[s] = s === 'psscan' ? `pool block at PA ${hex(hit)} in a page no kernel table maps` : this.absence(s);
    const row = presenceRow({ offset: null, pid: p.pid, name: p.name }, facts);
    return { key: `pa:${hex(pa)}`, row, status: row.status, evidence, process: p };
  }

  /** Every row, in the default order. */
  all(): PsxViewEntry[] {
    const byPid = this.parents();
    const out = this.tally.allVas().map((va) => this.entryOf(va, byPid));
    for (const pa of this.tally.remnants.keys()) out.push(this.remnantEntry(pa, byPid));
    return out.sort((a, b) => comparePsxRows(a.row, b.row));
  }

  /** The rows changed since the last call (and forget them). */
  changed(): PsxViewEntry[] {
    const byPid = this.parents();
    const out = [...this.tally.dirtyVas].map((va) => this.entryOf(va, byPid));
    for (const pa of this.tally.dirtyPas) out.push(this.remnantEntry(pa, byPid));
    this.tally.dirtyVas.clear();
    this.tally.dirtyPas.clear();
    return out;
  }
}

export async function psxview(kernel: WindowsKernel, options: PoolScanOptions & { onEvent?: (ev: PsxViewEvent) => void } = {}): Promise<PsxViewResult> {
  const warnings: string[] = [];
  const tally = new PsxTally(kernel, (message) => { warnings.push(message); options.onEvent?.({ type: 'warning', message }); });
  const rows = new PsxRows(tally);
  const send = (stage: string, entries: PsxViewEntry[]) => { options.onEvent?.({ type: 'rows', stage, done: rows.done(), entries }); };
  /** Send the rows changed since the last send. */
  const sendChanged = (stage: string) => {
    if (!options.onEvent) return;
    const entries = rows.changed();
    if (entries.length) send(stage, entries);
  };
  /** Send every row (a stage completed: each verdict covers one more source). */
  const sendAll = (stage: string) => {
    if (!options.onEvent) return;
    rows.changed();
    send(stage, rows.all());
  };
  /** A cancelled scan: the last rows say which sources were never checked, then `cancelled` is thrown. */
  const stopIfAborted = () => {
    if (!options.signal?.aborted) return;
    rows.cancel();
    sendAll('cancelled');
    throw new MemScopeError('cancelled', 'psxview cancelled');
  };

  // pslist first: its rows are final as far as the active list goes, so they stream at once
  rows.complete('pslist', { health: { status: 'ok' } });
  rows.complete('pslist', await checkActiveList(kernel, tally, async () => {
    if (!options.onEvent) return;
    sendChanged('pslist');
    await new Promise((r) => setImmediate(r)); // let the consumer take them (and an abort land)
  }));
  sendAll('pslist'); // with the list's health known: every row again
  stopIfAborted();

  let pool: { psscan: SourceCheck; thrdscan: SourceCheck };
  try {
    pool = await checkPoolScans(kernel, tally, options, (bytesDone, bytesTotal) => {
      options.onEvent?.({ type: 'progress', bytesDone, bytesTotal });
      sendChanged('psscan');
    });
  } catch (e) {
    stopIfAborted();
    throw e;
  }
  stopIfAborted();
  rows.complete('psscan', pool.psscan);
  rows.complete('thrdscan', pool.thrdscan);
  sendAll('psscan+thrdscan');

  const later: readonly [PsxSource, () => SourceCheck][] = [
    ['cidtable', () => checkCidTable(kernel, tally)],
    ['csrss', () => checkCsrss(kernel, tally)],
    ['session', () => checkSessions(kernel, tally)],
  ];
  for (const [src, check] of later) {
    rows.complete(src, check());
    if (src === 'session') break; // the last: its rows are the result, sent below
    sendAll(src);
    stopIfAborted();
  }

  // one row per distinct EPROCESS seen by any source, plus the unmapped remnants, in the default order
  const entries = rows.all();
  tally.dirtyVas.clear();
  tally.dirtyPas.clear();
  send('session', entries);
  const processes = new Map(entries.map((e) => [e.row.offset === null ? e.key.slice(3) : hex(e.row.offset), e.process] as const)); // physical offsets: no clash with kernel VAs
  return { rows: entries.map((e) => e.row), entries, warnings, processes, sourceHealth: { ...rows.health } };
}
