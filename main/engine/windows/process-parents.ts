/**
 * A process's parent, by name, from the other processes found: the process whose PID is its PPID
 * (InheritedFromUniqueProcessId). Windows reuses PIDs, so a process with that PID created after the
 * child is not its parent (the parent exited and its PID went to someone else, as Volatility's
 * pstree warns); among several earlier ones the latest created wins.
 */
import type { ProcessRow } from './eprocess.js';

/** Why a parent has no name, in plain words. */
function whyNoParent(row: ProcessRow, byPid: ReadonlyMap<number, readonly ProcessRow[]>): string {
  if (row.ppid === null) return 'PPID unreadable';
  if (row.ppid === 0) return 'no parent (PPID 0)';
  return (byPid.get(row.ppid) ?? []).some((p) => p !== row)
    ? `PID ${row.ppid} belongs to a process started after this one (the parent exited)`
    : `no process with PID ${row.ppid} in this image (the parent exited)`;
}

/** The parent of `row` among `byPid` (processes by PID), or null. */
function parentOf(row: ProcessRow, byPid: ReadonlyMap<number, readonly ProcessRow[]>): ProcessRow | null {
  if (row.ppid === null || row.ppid === 0) return null;
  const born = row.createTime === null ? null : Date.parse(row.createTime);
  let best: ProcessRow | null = null;
  for (const p of byPid.get(row.ppid) ?? []) {
    if (p === row || p.name === null) continue;
    const t = p.createTime === null ? null : Date.parse(p.createTime);
    if (born !== null && t !== null && t > born) continue; // a later process that got the PID
    if (best === null || (t !== null && (best.createTime === null || t > Date.parse(best.createTime)))) best = p;
  }
  return best;
}

/** Index processes by PID, for resolving many rows against one set. */
export function pidIndex(rows: Iterable<ProcessRow>): Map<number, ProcessRow[]> {
  const byPid = new Map<number, ProcessRow[]>();
  for (const r of rows) {
    if (r.pid === null) continue;
    const list = byPid.get(r.pid);
    if (list) list.push(r);
    else byPid.set(r.pid, [r]);
  }
  return byPid;
}

/** `row` with its parent's name (or why there is none) resolved against the processes in `byPid`. */
export function withParentName(row: ProcessRow, byPid: ReadonlyMap<number, readonly ProcessRow[]>): ProcessRow {
  const parent = parentOf(row, byPid);
  const { parentName: _unresolved, ...whyAbsent } = row.whyAbsent;
  if (parent) return { ...row, parentName: parent.name, whyAbsent };
  return { ...row, parentName: null, whyAbsent: { ...whyAbsent, parentName: whyNoParent(row, byPid) } };
}

/** Every row with its parent resolved against all of them. */
export function withParentNames(rows: readonly ProcessRow[]): ProcessRow[] {
  const byPid = pidIndex(rows);
  return rows.map((r) => withParentName(r, byPid));
}
