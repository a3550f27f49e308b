/**
 * psxview: processes cross-viewed from six sources, one row per distinct EPROCESS (by kernel VA):
 *   pslist   — PsActiveProcessHead list;             psscan — `Proc` pool blocks;
 *   thrdscan — `Thre` pool blocks → owning process (Tcb.Process, else ThreadsProcess, else Cid);
 *   cidtable — PspCidTable entries of type Process;  csrss — Process handles in csrss.exe's ObjectTable;
 *   session  — every _MM_SESSION_SPACE.ProcessList (via EPROCESS.SessionProcessLinks).
 * A process missing from the active list but seen by thread or CID sources is the DKOM signature.
 * (Volatility 3's psxview has pslist/psscan/thrdscan/csrss; cidtable and session follow Volatility 2.)
 * Each source also reports its own health (`sourceHealth`): one whose structure is empty, unreadable
 * or yields no sane process is 'unusable', one whose walk broke part-way 'incomplete', each with a
 * warning naming the structure and address; verdicts then blame the source, not every process.
 */
import type { WindowsKernel } from '../../windows/kernel.js';
import { FREED_POOL_BLOCK_NOTE, readEprocess, remnantInsanity, withNote, type ProcessRow } from '../../windows/eprocess.js';
import { collectList, isKernelPointer } from '../../windows/list-walk.js';
import { walkHandleTable } from '../../windows/handle-table.js';
import { objectBodyOffset } from '../../windows/object-header.js';
import { StructView } from '../../windows/struct-view.js';
import { hex } from '../../util/hex.js';
import { MemScopeError } from '../../errors.js';
import { activeListProblem, activeListWarning, activeProcessAddresses } from '../pslist/index.js';
import { PROCESS_POOL, eprocessInsanity, noProcessFound, unmappedRemnant } from '../psscan/index.js';
import { kernelObjects, scanPoolObjects, type PoolScanOptions } from '../psscan/pool-objects.js';

export const THREAD_POOL = { tag: 'Thre', objectType: 'Thread', structType: '_ETHREAD' } as const;

export const PSXVIEW_SOURCES = ['pslist', 'psscan', 'thrdscan', 'cidtable', 'csrss', 'session'] as const;
export type PsxSource = (typeof PSXVIEW_SOURCES)[number];

export interface PsxViewRow {
  /** EPROCESS kernel VA; null for a remnant found only in a physical page no kernel table maps. */
  readonly offset: string | null;
  readonly pid: number | null;
  readonly name: string | null;
  readonly pslist: boolean;
  readonly psscan: boolean;
  readonly thrdscan: boolean;
  readonly cidtable: boolean;
  readonly csrss: boolean;
  readonly session: boolean;
  readonly exitTime: string | null;
  readonly verdict: string;
}

/** The one-word reading of a row (derived from the source booleans and exit time, never from verdict wording). */
export type ProcessStatus = 'normal' | 'hidden' | 'exited' | 'remnant' | 'suspicious';

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

/** Processes that are legitimately absent from csrss's handles / session lists (Volatility 2 notes). */
const SESSIONLESS = new Set(['System', 'Registry', 'smss.exe', 'MemCompression', 'Secure System']);

/** Is a process of this name legitimately absent from source `s` (no csrss handle / no session)? */
export function expectedAbsent(s: PsxSource, name: string | null): boolean {
  return (s === 'csrss' && (SESSIONLESS.has(name ?? '') || name === 'csrss.exe' || name === 'wininit.exe')) ||
    (s === 'session' && SESSIONLESS.has(name ?? ''));
}

/**
 * How far a source could be trusted in this image: 'unusable' when its structure is empty, unreadable
 * or yields no sane process (so absence from it says nothing), 'incomplete' when its walk ended
 * part-way (absence says little); `problem` names the structure and address.
 */
export type SourceHealth =
  | { readonly status: 'ok' }
  | { readonly status: 'incomplete' | 'unusable'; readonly problem: string };

export type SourceHealthMap = Readonly<Record<PsxSource, SourceHealth>>;

export const ALL_SOURCES_OK: SourceHealthMap = Object.fromEntries(PSXVIEW_SOURCES.map((s) => [s, { status: 'ok' }])) as Record<PsxSource, SourceHealth>;

/** What a verdict reads: the row, plus whether its EPROCESS lies in a freed pool block (PoolType 0). */
export type VerdictInput = Omit<PsxViewRow, 'verdict'> & { readonly freedPoolBlock?: boolean };

/** Plain-words reading of a process's presence pattern, given which sources this image left usable. */
export function verdict(r: VerdictInput, health: SourceHealthMap = ALL_SOURCES_OK): string {
  const ok = (s: PsxSource) => health[s].status === 'ok';
  const blame = (s: PsxSource) => {
    const h = health[s];
    return h.status === 'ok' ? '' : `${s} ${h.status} in this image (${h.problem})`;
  };
  const seenBy = PSXVIEW_SOURCES.filter((s) => r[s]);
  const missing = PSXVIEW_SOURCES.filter((s) => !r[s]);
  if (r.freedPoolBlock && !r.pslist) {
    return r.exitTime !== null ? `exited at ${r.exitTime}; remnant (freed pool block)` : 'remnant (freed pool block)';
  }
  if (r.exitTime !== null) {
    return r.pslist ? `exited at ${r.exitTime} but still on the active list` : `exited at ${r.exitTime}`;
  }
  if (!r.pslist) {
    if (!ok('pslist')) return `${blame('pslist')}; seen by ${seenBy.join(', ')}`;
    if (r.thrdscan || r.cidtable) return 'unlinked from the active list but has live threads: likely hidden (DKOM)';
    if (r.psscan && seenBy.length === 1) {
      const blind = (['thrdscan', 'cidtable'] as const).filter((s) => !ok(s));
      return blind.length === 0 ? 'only in pool, no threads: remnant' : `only in pool; live threads not ruled out: ${blind.map(blame).join('; ')}`;
    }
    return `not on the active list; seen only by ${seenBy.join(', ')}`;
  }
  if (missing.length === 0) return 'listed everywhere: normal';
  const expected = (s: PsxSource) => expectedAbsent(s, r.name);
  const asExpected = missing.filter(expected);
  const blind = missing.filter((s) => !expected(s) && !ok(s));
  const unexplained = missing.filter((s) => !expected(s) && ok(s));
  const notes = [
    ...(asExpected.length ? [`not in ${asExpected.join('/')}, as expected for ${r.name}`] : []),
    ...blind.map(blame),
  ];
  if (unexplained.length === 0) return `on the active list: normal (${notes.join('; ')})`;
  return `on the active list; not seen by ${unexplained.join(', ')}${blind.length ? `; ${blind.map(blame).join('; ')}` : ''}`;
}

/** Verdict for an EPROCESS seen only in a physical page no kernel page table maps. */
export function remnantVerdict(pa: number, exitTime: string | null): string {
  const where = `only in unmapped physical memory (PA ${hex(pa)}, virtual address unknown)`;
  return exitTime !== null ? `exited at ${exitTime}; ${where}: remnant of an exited process` : `${where}: remnant`;
}

/**
 * The status word of a row, from the sources complete so far (`done`; all by default): exited
 * (ExitTime set), remnant (pool only, a freed pool block, or an unmapped page), hidden (off the
 * active list yet seen by a live-object source: threads, CID table, csrss handles, a session list),
 * suspicious (listed but missing from a usable source that should see it), else normal. A source
 * the image left unusable (`health`) accuses nobody.
 */
export function processStatus(r: VerdictInput, done: readonly PsxSource[] = PSXVIEW_SOURCES, health: SourceHealthMap = ALL_SOURCES_OK): ProcessStatus {
  const ok = (s: PsxSource) => health[s].status === 'ok';
  if (r.offset === null) return 'remnant';
  if (r.freedPoolBlock && !r.pslist) return 'remnant';
  if (r.exitTime !== null) return 'exited';
  if (!r.pslist) {
    const live = r.thrdscan || r.cidtable || r.csrss || r.session;
    if (!ok('pslist')) return live ? 'normal' : 'remnant'; // an unusable active list hides nobody
    if (live) return 'hidden';
    return done.includes('pslist') ? 'remnant' : 'normal';
  }
  return done.some((s) => !r[s] && !expectedAbsent(s, r.name) && ok(s)) ? 'suspicious' : 'normal';
}

/** Verdict while some sources are still running: what is known, and what is still being checked. */
function interimVerdict(r: VerdictInput, pending: readonly PsxSource[], health: SourceHealthMap, cancelled = false): string {
  const open = pending.filter((s) => !r[s]);
  if (open.length === 0) return verdict(r, health);
  const seenBy = PSXVIEW_SOURCES.filter((s) => r[s]);
  const known = r.exitTime !== null ? `exited at ${r.exitTime}` : r.pslist ? 'on the active list' : `seen by ${seenBy.join(', ')}`;
  // a cancelled scan proves nothing about the sources it did not finish: say so, accuse nobody
  return cancelled ? `${known}; not checked (scan cancelled): ${open.join(', ')}` : `${known}; still checking ${open.join(', ')}`;
}

/** The default row order: PID, then EPROCESS offset (remnants, offset null, first within a PID). */
export function comparePsxRows(a: PsxViewRow, b: PsxViewRow): number {
  return (a.pid ?? 0) - (b.pid ?? 0) || (a.offset ?? '').localeCompare(b.offset ?? '');
}

/** Why a source that completed did not see a process. */
const NOT_SEEN: Record<PsxSource, string> = {
  pslist: 'not on the PsActiveProcessHead list',
  psscan: 'no Proc pool block found in physical memory',
  thrdscan: 'no ETHREAD pool block names it as its process',
  cidtable: 'no PspCidTable entry',
  csrss: 'no handle in any csrss.exe handle table',
  session: 'in no session process list',
};

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

export async function psxview(kernel: WindowsKernel, options: PoolScanOptions & { onEvent?: (ev: PsxViewEvent) => void } = {}): Promise<PsxViewResult> {
  const { profile } = kernel;
  const ctx = { profile, kernel: kernel.kernel, source: kernel.source };
  const warnings: string[] = [];
  const warn = (message: string) => { warnings.push(message); options.onEvent?.({ type: 'warning', message }); };
  /** Per source: each EPROCESS VA it saw, with what it saw (the evidence shown beside the row). */
  const seen: Record<PsxSource, Map<bigint, string>> = { pslist: new Map(), psscan: new Map(), thrdscan: new Map(), cidtable: new Map(), csrss: new Map(), session: new Map() };
  const notSeen: Record<PsxSource, string> = { ...NOT_SEEN };
  const threadCount = new Map<bigint, number>();
  const rows = new Map<bigint, ProcessRow>();
  /** EPROCESS remnants in physical pages no kernel table maps (VA unknown), keyed by PA, with the hit PA. */
  const remnants = new Map<number, { row: ProcessRow; hit: number }>();
  const done: PsxSource[] = [];
  const dirty = new Set<string>();
  /** EPROCESS VAs psscan found in a freed pool block (PoolType 0): remnants, labelled as such. */
  const freedBlocks = new Set<bigint>();
  const health: Record<PsxSource, SourceHealth> = { ...ALL_SOURCES_OK };
  /** Set when the scan is aborted: the last rows sent say which sources were never checked. */
  let cancelled = false;
  const endCancelled = (): never => {
    cancelled = true;
    flush('cancelled', true);
    throw new MemScopeError('cancelled', 'psxview cancelled');
  };
  /** Mark `src` unusable (nothing sane found) or incomplete (walk broke part-way), with a warning. */
  const judge = (src: PsxSource, problem: string | null, walkWarnings: readonly string[], warning?: string) => {
    if (problem !== null) {
      health[src] = { status: 'unusable', problem };
      warn(warning ?? `${src}: ${problem}: unusable in this image`);
    } else if (walkWarnings.length > 0) health[src] = { status: 'incomplete', problem: walkWarnings[0]! };
  };
  const rowOf = (va: bigint): ProcessRow => {
    let r = rows.get(va);
    if (!r) rows.set(va, (r = readEprocess(ctx, va)));
    return r;
  };
  /** Accept a candidate EPROCESS from an indirect source only when it decodes as a sane process. */
  const accept = (src: PsxSource, va: bigint, evidence: string, freed = false): boolean => {
    if (!isKernelPointer(va)) return false;
    const r = rowOf(va);
    const insane = freed ? remnantInsanity(r, kernel.source) : eprocessInsanity(r, kernel.source.size);
    if (insane !== null) {
      if (!PSXVIEW_SOURCES.some((s) => seen[s].has(va))) rows.delete(va);
      return false;
    }
    if (freed) { freedBlocks.add(va); rows.set(va, withNote(r, FREED_POOL_BLOCK_NOTE)); }
    if (!seen[src].has(va)) { seen[src].set(va, evidence); dirty.add(hex(va)); }
    return true;
  };

  const entryOf = (va: bigint): PsxViewEntry => {
    const p = rowOf(va);
    const base = {
      offset: hex(va), pid: p.pid, name: p.name,
      pslist: seen.pslist.has(va), psscan: seen.psscan.has(va), thrdscan: seen.thrdscan.has(va),
      cidtable: seen.cidtable.has(va), csrss: seen.csrss.has(va), session: seen.session.has(va),
      exitTime: p.exitTime,
    };
    const input = { ...base, freedPoolBlock: freedBlocks.has(va) };
    const evidence: Partial<Record<PsxSource, string>> = {};
    for (const s of PSXVIEW_SOURCES) {
      const e = seen[s].get(va);
      if (e !== undefined) evidence[s] = s === 'thrdscan' && (threadCount.get(va) ?? 1) > 1 ? `${e} (${threadCount.get(va)} threads in pool)` : e;
      else if (done.includes(s)) evidence[s] = health[s].status === 'ok' ? notSeen[s] : `${notSeen[s]} (${s} ${health[s].status} in this image)`;
    }
    const pending = PSXVIEW_SOURCES.filter((s) => !done.includes(s));
    return { key: hex(va), row: { ...base, verdict: interimVerdict(input, pending, health, cancelled) }, status: processStatus(input, done, health), evidence, process: p };
  };
  const remnantEntry = (pa: number, p: ProcessRow, hit: number): PsxViewEntry => {
    const base = {
      offset: null, pid: p.pid, name: p.name,
      pslist: false, psscan: true, thrdscan: false, cidtable: false, csrss: false, session: false,
      exitTime: p.exitTime,
    };
    const evidence: Partial<Record<PsxSource, string>> = { psscan: `pool block at PA ${hex(hit)} in a page no kernel table maps` };
    for (const s of done) if (s !== 'psscan') evidence[s] = notSeen[s];
    return { key: `pa:${hex(pa)}`, row: { ...base, verdict: remnantVerdict(pa, p.exitTime) }, status: 'remnant', evidence, process: p };
  };
  const allEntries = (): PsxViewEntry[] => {
    const all = new Set<bigint>();
    for (const src of PSXVIEW_SOURCES) for (const va of seen[src].keys()) all.add(va);
    const out = [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(entryOf);
    for (const [pa, r] of remnants) out.push(remnantEntry(pa, r.row, r.hit));
    return out.sort((a, b) => comparePsxRows(a.row, b.row));
  };
  /** Send the rows changed since the last send (all of them when a stage completes). */
  const flush = (stage: string, all: boolean): void => {
    if (!options.onEvent) return;
    if (!all && dirty.size === 0) return;
    const remnantOf = (k: string) => { const pa = Number(k.slice(3)); const r = remnants.get(pa)!; return remnantEntry(pa, r.row, r.hit); };
    const entries = all ? allEntries() : [...dirty].map((k) => (k.startsWith('pa:') ? remnantOf(k) : entryOf(BigInt(k))));
    dirty.clear();
    options.onEvent({ type: 'rows', stage, done: [...done], entries });
  };
  const complete = (...sources: PsxSource[]): void => { done.push(...sources); flush(sources.join('+'), true); };

  // pslist
  const active = activeProcessAddresses(kernel);
  active.warnings.forEach(warn);
  const linksOff = BigInt(profile.offsetOf('_EPROCESS', 'ActiveProcessLinks'));
  done.push('pslist'); // rows sent from here on are final as far as the active list goes
  for (const [i, va] of active.addresses.entries()) {
    seen.pslist.set(va, `linked at ${hex(va + linksOff)} (ActiveProcessLinks)`);
    rowOf(va);
    dirty.add(hex(va));
    // the first rows do not wait for the whole list to decode (8, then every 64), and the consumer gets them at once
    if ((i === 7 || i % 64 === 63) && options.onEvent) {
      flush('pslist', false);
      await new Promise((r) => setImmediate(r)); // let the consumer take them (and an abort land)
    }
  }
  const listProblem = activeListProblem(kernel, {
    entries: active.addresses.length,
    sane: active.addresses.filter((va) => eprocessInsanity(rowOf(va), kernel.source.size) === null).length,
  });
  judge('pslist', listProblem, active.warnings, listProblem === null ? undefined : activeListWarning(kernel, listProblem));
  flush('pslist', true); // with the list's health known: every row again

  // psscan + thrdscan in one pass over physical memory
  let procRejected = 0;
  try {
    for await (const ev of scanPoolObjects(kernel, [PROCESS_POOL, THREAD_POOL], options)) {
      if (ev.type === 'progress') { options.onEvent?.(ev); flush('psscan', false); continue; }
      if (ev.type === 'warning') { warn(ev.message); continue; }
      if (ev.type === 'rejected' && ev.want.objectType === 'Process') { procRejected++; continue; }
      if (ev.type === 'unmapped') {
        // only psscan can see these; a thread remnant names an owner by a VA we cannot check, so skip it
        if (ev.want.objectType !== 'Process') continue;
        const r = unmappedRemnant(kernel, ev.candidates);
        if (r.row) {
          const pa = Number(r.row.physicalOffset);
          if (!remnants.has(pa)) dirty.add(`pa:${hex(pa)}`);
          remnants.set(pa, { row: r.row, hit: ev.pa });
        } else procRejected++;
        continue;
      }
      if (ev.type !== 'object') continue;
      if (ev.want.objectType === 'Process') {
        const evidence = `pool block at PA ${hex(ev.pa)}`;
        if (!ev.candidates.some((c) => accept('psscan', c.bodyVa, c.freed ? `freed ${evidence}` : evidence, c.freed))) procRejected++;
      } else {
        // first header position whose ETHREAD names a sane owning process; a freed thread block is no live thread
        for (const c of ev.candidates) {
          if (c.freed) continue;
          const owner = threadOwner(kernel, c.bodyVa);
          if (owner !== null && accept('thrdscan', owner, `ETHREAD ${hex(c.bodyVa)} (pool block at PA ${hex(ev.pa)}) belongs to it`)) {
            threadCount.set(owner, (threadCount.get(owner) ?? 0) + 1);
            break;
          }
        }
      }
    }
  } catch (e) {
    if (options.signal?.aborted) endCancelled();
    throw e;
  }
  if (options.signal?.aborted) endCancelled();
  {
    const none = seen.psscan.size + remnants.size === 0;
    judge('psscan', none ? `no '${PROCESS_POOL.tag}' pool block validates as a process` : null, [], none ? noProcessFound(kernel, procRejected) : undefined);
    judge('thrdscan', seen.thrdscan.size === 0 ? `no '${THREAD_POOL.tag}' pool block names a sane owning process` : null, []);
  }
  complete('psscan', 'thrdscan');

  // PspCidTable
  const { types } = kernelObjects(kernel);
  const bodyOff = BigInt(objectBodyOffset(profile));
  const typeAt = (headerVa: bigint): string | null => {
    const r = kernel.kernel.read(headerVa, profile.sizeOf('_OBJECT_HEADER'));
    if (r.missing.length) return null;
    const stored = r.data[profile.offsetOf('_OBJECT_HEADER', 'TypeIndex')] ?? 0;
    return types.typeOf(stored, headerVa);
  };
  if (!profile.hasSymbol('PspCidTable')) { judge('cidtable', 'the profile has no PspCidTable symbol', []); notSeen.cidtable = 'PspCidTable is not in the profile'; }
  else {
    const p = kernel.kernel.read(kernel.symbolVa('PspCidTable'), 8);
    if (p.missing.length) { judge('cidtable', `PspCidTable pointer at ${hex(kernel.symbolVa('PspCidTable'))} is not readable`, []); notSeen.cidtable = 'PspCidTable is not readable'; }
    else {
      const table = new DataView(p.data.buffer, p.data.byteOffset, 8).getBigUint64(0, true);
      const w = walkHandleTable(profile, kernel.kernel, table, 'PspCidTable');
      w.warnings.forEach(warn);
      for (const e of w.entries) {
        // Windows 8+ CID entries point at the object body; tolerate a header pointer as well.
        const evidence = `entry for PID ${e.handle}`; // a process's CID is its PspCidTable handle value
        if (typeAt(e.pointer - bodyOff) === 'Process') accept('cidtable', e.pointer, evidence);
        else if (typeAt(e.pointer) === 'Process') accept('cidtable', e.pointer + bodyOff, evidence);
      }
      judge('cidtable', seen.cidtable.size === 0
        ? `PspCidTable at ${hex(kernel.symbolVa('PspCidTable'))} (table ${hex(table)}, ${w.entries.length} entries) holds no sane Process entry`
        : null, w.warnings);
    }
  }
  complete('cidtable');

  // csrss.exe handle tables: Process objects it holds handles to (entries point at object headers)
  const known = () => [...new Set([...seen.pslist.keys(), ...seen.psscan.keys()])];
  const csrssTables: string[] = [];
  const csrssWarnings: string[] = [];
  for (const va of known()) {
    const r = rows.get(va);
    if (r?.name !== 'csrss.exe' || r.exitTime !== null) continue;
    const v = StructView.fromVirtual(profile, '_EPROCESS', kernel.kernel, va);
    const table = v.pointer('ObjectTable');
    csrssTables.push(`csrss.exe (PID ${r.pid}) ObjectTable ${table === null ? 'unreadable' : hex(table)}`);
    if (table === null || table === 0n) continue;
    const w = walkHandleTable(profile, kernel.kernel, table, `csrss.exe (PID ${r.pid}) handle table`);
    w.warnings.forEach(warn);
    csrssWarnings.push(...w.warnings);
    for (const e of w.entries) if (typeAt(e.pointer) === 'Process') accept('csrss', e.pointer + bodyOff, `handle ${hex(e.handle)} in csrss.exe (PID ${r.pid})`);
  }
  judge('csrss', csrssTables.length === 0
    ? 'no live csrss.exe among the processes pslist and psscan found'
    : seen.csrss.size === 0 ? `no sane Process handle in ${csrssTables.join(', ')}` : null, csrssWarnings);
  const csrssPids = csrssTables.map((t) => /PID (\S+)\)/.exec(t)?.[1] ?? '?');
  notSeen.csrss = csrssPids.length ? `no handle in csrss.exe (PID ${csrssPids.join(', ')})` : 'no live csrss.exe with a handle table was found';
  complete('csrss');

  // session process lists, from every session any known process points at
  /** Session VA → PID of one live process that points at it (an empty list there is then broken). */
  const sessions = new Map<bigint, number | null>();
  for (const va of known()) {
    if (rows.get(va)?.exitTime !== null) continue;
    const v = StructView.fromVirtual(profile, '_EPROCESS', kernel.kernel, va);
    const s = v.has('Session') ? v.pointer('Session') : null;
    if (s !== null && s !== 0n && isKernelPointer(s) && !sessions.has(s)) sessions.set(s, rows.get(va)?.pid ?? null);
  }
  const spLinks = BigInt(profile.offsetOf('_EPROCESS', 'SessionProcessLinks'));
  const plOff = BigInt(profile.offsetOf('_MM_SESSION_SPACE', 'ProcessList'));
  const sessionProblems: string[] = [];
  for (const [s, claimant] of sessions) {
    const what = `_MM_SESSION_SPACE ${hex(s)} ProcessList at ${hex(s + plOff)}`;
    const walk = collectList(kernel.kernel, s + plOff, `session ${hex(s)} ProcessList`, 65536, '_EPROCESS.SessionProcessLinks');
    walk.warnings.forEach(warn);
    sessionProblems.push(...walk.warnings);
    const before = seen.session.size;
    for (const entry of walk.entries) accept('session', entry - spLinks, `on the ProcessList of session space ${hex(s)}`);
    if (seen.session.size === before && walk.warnings.length === 0) {
      const problem = `${what} ${walk.entries.length === 0 ? 'points to itself' : `holds no sane process (${walk.entries.length} entries)`}`;
      warn(`session: ${problem}, yet PID ${claimant ?? '?'} points at the session`);
      sessionProblems.push(problem);
    }
  }
  judge('session', sessions.size === 0
    ? 'no live process points at a session (EPROCESS.Session)'
    : seen.session.size === 0 ? sessionProblems[0] ?? `no session ProcessList holds a sane process` : null, sessionProblems);

  if (sessions.size === 0) notSeen.session = 'no session space was found to walk';
  done.push('session');

  // one row per distinct EPROCESS seen by any source, plus the unmapped remnants, in the default order
  const entries = allEntries();
  options.onEvent?.({ type: 'rows', stage: 'session', done: [...done], entries });
  dirty.clear();
  const processes = new Map(entries.map((e) => [e.row.offset ?? hex(Number(e.key.slice(3))), e.process] as const)); // physical offsets: no clash with kernel VAs
  return { rows: entries.map((e) => e.row), entries, warnings, processes, sourceHealth: health };
}

/** EPROCESS VA owning the ETHREAD at `ethread`: Tcb.Process, else ThreadsProcess; null when unreadable. */
export function threadOwner(kernel: WindowsKernel, ethread: bigint): bigint | null {
  const v = StructView.fromVirtual(kernel.profile, '_ETHREAD', kernel.kernel, ethread);
  for (const f of ['Tcb.Process', 'ThreadsProcess', 'Tcb.ApcState.Process']) {
    if (!v.has(f)) continue;
    const p = v.pointer(f);
    if (p !== null && isKernelPointer(p)) return p;
  }
  return null;
}
