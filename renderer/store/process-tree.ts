/**
 * The process tree by parent: each row under the row whose PID is its PPID. PIDs are reused (an exited
 * process and a later one), so the parent is the row with that PID created before the child; loops
 * (a PPID chain back to itself, as corrupt or forged EPROCESS fields give) are cut and those rows become roots.
 */
import type { ProcessTableRow } from '../../common/contract.js';

export interface ProcessNode {
  readonly row: ProcessTableRow;
  readonly children: ProcessNode[];
}

const created = (r: ProcessTableRow): string => r.process?.createTime ?? '';

export function buildTree(rows: readonly ProcessTableRow[]): ProcessNode[] {
  const nodes = rows.map((row) => ({ row, children: [] as ProcessNode[] }));
  const byPid = new Map<number, ProcessNode[]>();
  for (const n of nodes) {
    const pid = n.row.psxview.pid;
    if (pid === null) continue;
    const list = byPid.get(pid);
    if (list) list.push(n); else byPid.set(pid, [n]);
  }
  const parentOf = new Map<ProcessNode, ProcessNode>();
  for (const n of nodes) {
    const ppid = n.row.process?.ppid ?? null;
    if (ppid === null || ppid === n.row.psxview.pid) continue;
    const candidates = byPid.get(ppid);
    if (!candidates) continue;
    const c = created(n.row);
    // The latest candidate created before the child; without times, the first one listed.
    let best: ProcessNode | null = null;
    for (const p of candidates) {
      if (p === n) continue;
      const pc = created(p.row);
      if (c && pc && pc > c) continue;
      if (!best || (pc && created(best.row) < pc)) best = p;
    }
    if (best) parentOf.set(n, best);
  }
  // Cut loops: walk up from each node; a node met twice on its own chain is made a root.
  for (const n of nodes) {
    const seen = new Set<ProcessNode>([n]);
    let p = parentOf.get(n);
    while (p) {
      if (seen.has(p)) { parentOf.delete(n); break; }
      seen.add(p);
      p = parentOf.get(p);
    }
  }
  const roots: ProcessNode[] = [];
  for (const n of nodes) {
    const p = parentOf.get(n);
    if (p) p.children.push(n); else roots.push(n);
  }
  return roots;
}

export const flatNodes = (rows: readonly ProcessTableRow[]): ProcessNode[] => rows.map((row) => ({ row, children: [] }));
