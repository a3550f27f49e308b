/**
 * psxview's collectors, one per source (the shape of Volatility 3's psxview `_check_*` methods):
 * each adds what its structure shows to the tally and answers how far it could be trusted in this
 * image (its health) and, when that differs from the default, why a process it did not see was not
 * seen. Structure knowledge (ETHREAD owners, object headers, handle tables) lives in windows/.
 */
import type { PsxSource } from '../../../../common/process-vocabulary.js';
import type { WindowsKernel } from '../../windows/kernel.js';
import { eprocessInsanity } from '../../windows/eprocess.js';
import { threadOwner } from '../../windows/ethread.js';
import { walkHandleTable } from '../../windows/handle-table.js';
import { collectList } from '../../windows/list-walk.js';
import { StructView } from '../../windows/struct-view.js';
import { isKernelPointer } from '../../translate/x64/kernel-half.js';
import { hex } from '../../util/hex.js';
import { activeListProblem, activeListWarning, activeProcessAddresses } from '../pslist/index.js';
import { PROCESS_POOL, noProcessFound, rereadTornProcess, unmappedRemnant } from '../psscan/index.js';
import { kernelObjects, scanPoolObjects, type PoolScanOptions } from '../psscan/pool-objects.js';
import type { SourceHealth } from './presence.js';
import type { PsxTally } from './tally.js';

export const THREAD_POOL = { tag: 'Thre', objectType: 'Thread', structType: '_ETHREAD' } as const;

/** What a collector answers: its health, and why a process it did not see was not seen (when not the default). */
export interface SourceCheck {
  readonly health: SourceHealth;
  readonly notSeen?: string;
}

/** Why a source that completed did not see a process (unless its check says otherwise). */
export const NOT_SEEN: Readonly<Record<PsxSource, string>> = {
  pslist: 'not on the PsActiveProcessHead list',
  psscan: 'no Proc pool block found in physical memory',
  thrdscan: 'no ETHREAD pool block names it as its process',
  cidtable: 'no PspCidTable entry',
  csrss: 'no handle in any csrss.exe handle table',
  session: 'in no session process list',
};

/**
 * A source's health from what its walk found: 'unusable' (with a warning) when `problem` says it
 * found nothing sane, 'incomplete' when its walk broke part-way, else 'ok'.
 */
function healthOf(tally: PsxTally, src: PsxSource, problem: string | null, walkWarnings: readonly string[], warning?: string): SourceHealth {
  if (problem !== null) {
    tally.warn(warning ?? `${src}: ${problem}: unusable in this image`);
    return { status: 'unusable', problem };
  }
  return walkWarnings.length > 0 ? { status: 'incomplete', problem: walkWarnings[0]! } : { status: 'ok' };
}

/**
 * pslist: PsActiveProcessHead → ActiveProcessLinks. `batch` is called after the 8th row and every
 * 64th, so the first rows reach the consumer before the whole list is decoded.
 */
export async function checkActiveList(kernel: WindowsKernel, tally: PsxTally, batch: () => Promise<void>): Promise<SourceCheck> {
  const active = activeProcessAddresses(kernel);
  active.warnings.forEach(tally.warn);
  const linksOff = BigInt(kernel.profile.offsetOf('_EPROCESS', 'ActiveProcessLinks'));
  for (const [i, va] of active.addresses.entries()) {
    tally.see('pslist', va, `linked at ${hex(va + linksOff)} (ActiveProcessLinks)`);
    if (i === 7 || i % 64 === 63) await batch();
  }
  const problem = activeListProblem(kernel, {
    entries: active.addresses.length,
    sane: active.addresses.filter((va) => eprocessInsanity(tally.rowOf(va), kernel.source.size) === null).length,
  });
  return { health: healthOf(tally, 'pslist', problem, active.warnings, problem === null ? undefined : activeListWarning(kernel, problem)) };
}

/**
 * psscan and thrdscan in one pass over physical memory: `Proc` blocks are processes (a freed block
 * a remnant; one in an unmapped page a remnant psscan alone can see), `Thre` blocks name their
 * owning process. `progress` gets the scan's progress.
 */
export async function checkPoolScans(
  kernel: WindowsKernel, tally: PsxTally, options: PoolScanOptions, progress: (bytesDone: number, bytesTotal: number) => void,
): Promise<{ psscan: SourceCheck; thrdscan: SourceCheck }> {
  let procRejected = 0;
  for await (const ev of scanPoolObjects(kernel, [PROCESS_POOL, THREAD_POOL], options)) {
    if (ev.type === 'progress') { progress(ev.bytesDone, ev.bytesTotal); continue; }
    if (ev.type === 'warning') { tally.warn(ev.message); continue; }
    if (ev.type === 'rejected') { if (ev.want.objectType === 'Process') procRejected++; continue; }
    if (ev.type === 'unmapped') {
      // only psscan can see these; a thread remnant names an owner by a VA we cannot check, so skip it
      if (ev.want.objectType !== 'Process') continue;
      const r = unmappedRemnant(kernel, ev.candidates);
      if (r.row) tally.addRemnant(r.row.physicalOffset!, r.row, ev.pa);
      else procRejected++;
      continue;
    }
    if (ev.want.objectType === 'Process') {
      const evidence = `pool block at PA ${hex(ev.pa)}`;
      if (ev.candidates.some((c) => tally.accept('psscan', c.bodyVa, c.freed ? `freed ${evidence}` : evidence, c.freed))) continue;
      // none sane: psscan's re-read of a torn page decides, and the tally keeps the fresh row
      const again = rereadTornProcess(kernel, ev.candidates);
      if (again !== null) tally.warn(again.warning);
      const c = again?.found.candidate;
      if (!c || !tally.accept('psscan', c.bodyVa, c.freed ? `freed ${evidence}` : evidence, c.freed, again.found.row!)) procRejected++;
      continue;
    }
    // first header position whose ETHREAD names a sane owning process; a freed thread block is no live thread
    for (const c of ev.candidates) {
      if (c.freed) continue;
      const owner = threadOwner(kernel.profile, kernel.kernel, c.bodyVa);
      if (owner !== null && tally.accept('thrdscan', owner, `ETHREAD ${hex(c.bodyVa)} (pool block at PA ${hex(ev.pa)}) belongs to it`)) {
        tally.threadCount.set(owner, (tally.threadCount.get(owner) ?? 0) + 1);
        break;
      }
    }
  }
  const none = tally.seen.psscan.size + tally.remnants.size === 0;
  return {
    psscan: { health: healthOf(tally, 'psscan', none ? `no '${PROCESS_POOL.tag}' pool block validates as a process` : null, [], none ? noProcessFound(kernel, procRejected) : undefined) },
    thrdscan: { health: healthOf(tally, 'thrdscan', tally.seen.thrdscan.size === 0 ? `no '${THREAD_POOL.tag}' pool block names a sane owning process` : null, []) },
  };
}

/** cidtable: the Process entries of PspCidTable (a process's CID is its handle value there). */
export function checkCidTable(kernel: WindowsKernel, tally: PsxTally): SourceCheck {
  const { profile } = kernel;
  if (!profile.hasSymbol('PspCidTable')) {
    return { health: healthOf(tally, 'cidtable', 'the profile has no PspCidTable symbol', []), notSeen: 'PspCidTable is not in the profile' };
  }
  const at = kernel.symbolVa('PspCidTable');
  const p = kernel.kernel.read(at, 8);
  if (p.missing.length) {
    return { health: healthOf(tally, 'cidtable', `PspCidTable pointer at ${hex(at)} is not readable`, []), notSeen: 'PspCidTable is not readable' };
  }
  const table = new DataView(p.data.buffer, p.data.byteOffset, 8).getBigUint64(0, true);
  const w = walkHandleTable(profile, kernel.kernel, table, 'PspCidTable');
  w.warnings.forEach(tally.warn);
  const { types } = kernelObjects(kernel);
  for (const e of w.entries) {
    const body = types.bodyOf(e.pointer, 'Process', 'either');
    if (body !== null) tally.accept('cidtable', body, `entry for PID ${e.handle}`);
  }
  const problem = tally.seen.cidtable.size === 0 ? `PspCidTable at ${hex(at)} (table ${hex(table)}, ${w.entries.length} entries) holds no sane Process entry` : null;
  return { health: healthOf(tally, 'cidtable', problem, w.warnings) };
}

/** csrss: Process objects each live csrss.exe holds a handle to (its ObjectTable's entries point at object headers). */
export function checkCsrss(kernel: WindowsKernel, tally: PsxTally): SourceCheck {
  const { profile } = kernel;
  const { types } = kernelObjects(kernel);
  const tables: string[] = [];
  const pids: (number | null)[] = [];
  const walkWarnings: string[] = [];
  for (const { va, row } of tally.liveKnown()) {
    if (row.name !== 'csrss.exe') continue;
    const table = StructView.fromVirtual(profile, '_EPROCESS', kernel.kernel, va).pointer('ObjectTable');
    pids.push(row.pid);
    tables.push(`csrss.exe (PID ${row.pid}) ObjectTable ${table === null ? 'unreadable' : hex(table)}`);
    if (table === null || table === 0n) continue;
    const w = walkHandleTable(profile, kernel.kernel, table, `csrss.exe (PID ${row.pid}) handle table`);
    w.warnings.forEach(tally.warn);
    walkWarnings.push(...w.warnings);
    for (const e of w.entries) {
      const body = types.bodyOf(e.pointer, 'Process', 'header');
      if (body !== null) tally.accept('csrss', body, `handle ${hex(e.handle)} in csrss.exe (PID ${row.pid})`);
    }
  }
  const problem = tables.length === 0
    ? 'no live csrss.exe among the processes pslist and psscan found'
    : tally.seen.csrss.size === 0 ? `no sane Process handle in ${tables.join(', ')}` : null;
  return {
    health: healthOf(tally, 'csrss', problem, walkWarnings),
    notSeen: pids.length ? `no handle in csrss.exe (PID ${pids.map((p) => p ?? '?').join(', ')})` : 'no live csrss.exe with a handle table was found',
  };
}

/** session: the ProcessList of every _MM_SESSION_SPACE a live known process points at (EPROCESS.Session). */
export function checkSessions(kernel: WindowsKernel, tally: PsxTally): SourceCheck {
  const { profile } = kernel;
  /** Session VA → PID of one live process that points at it (an empty list there is then broken). */
  const sessions = new Map<bigint, number | null>();
  for (const { va, row } of tally.liveKnown()) {
    const v = StructView.fromVirtual(profile, '_EPROCESS', kernel.kernel, va);
    const s = v.has('Session') ? v.pointer('Session') : null;
    if (s !== null && s !== 0n && isKernelPointer(s) && !sessions.has(s)) sessions.set(s, row.pid);
  }
  const spLinks = BigInt(profile.offsetOf('_EPROCESS', 'SessionProcessLinks'));
  const plOff = BigInt(profile.offsetOf('_MM_SESSION_SPACE', 'ProcessList'));
  const problems: string[] = [];
  for (const [s, claimant] of sessions) {
    const walk = collectList(kernel.kernel, s + plOff, `session ${hex(s)} ProcessList`, 65536, '_EPROCESS.SessionProcessLinks');
    walk.warnings.forEach(tally.warn);
    problems.push(...walk.warnings);
    const before = tally.seen.session.size;
    for (const entry of walk.entries) tally.accept('session', entry - spLinks, `on the ProcessList of session space ${hex(s)}`);
    if (tally.seen.session.size === before && walk.warnings.length === 0) {
      const problem = `_MM_SESSION_SPACE ${hex(s)} ProcessList at ${hex(s + plOff)} ${walk.entries.length === 0 ? 'points to itself' : `holds no sane process (${walk.entries.length} entries)`}`;
      tally.warn(`session: ${problem}, yet PID ${claimant ?? '?'} points at the session`);
      problems.push(problem);
    }
  }
  const problem = sessions.size === 0
    ? 'no live process points at a session (EPROCESS.Session)'
    : tally.seen.session.size === 0 ? problems[0] ?? 'no session ProcessList holds a sane process' : null;
  return { health: healthOf(tally, 'session', problem, problems), ...(sessions.size === 0 ? { notSeen: 'no session space was found to walk' } : {}) };
}
