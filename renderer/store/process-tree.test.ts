import { describe, expect, it } from 'vitest';
import type { ProcessTableRow } from '../../common/contract.js';
import { buildTree, type ProcessNode } from './process-tree.js';

function row(key: string, pid: number | null, ppid: number | null, createTime: string | null = null): ProcessTableRow {
  return {
    key, status: 'normal', evidence: {},
    psxview: { offset: key, pid, name: `p${pid}`, pslist: true, psscan: true, thrdscan: true, cidtable: true, csrss: true, session: true, exitTime: null, verdict: 'normal: listed everywhere', status: 'normal' },
    process: { pid, ppid, name: `p${pid}`, imagePath: null, commandLine: null, offset: key, physicalOffset: null, dtb: null, userDtb: null, createTime, exitTime: null, threads: 1, sessionId: 1, wow64: false, missing: [], warnings: [], parentName: null, kernelImagePath: null, currentDirectory: null, whyAbsent: {} },
  };
}

const shape = (nodes: readonly ProcessNode[]): unknown => nodes.map((n) => (n.children.length ? { [n.row.key]: shape(n.children) } : n.row.key));

describe('process tree by parent', () => {
  it('nests children under the process whose PID is their PPID; unknown parents are roots', () => {
    const t = buildTree([row('a', 4, 0), row('b', 8, 4), row('c', 12, 8), row('d', 16, 999)]);
    expect(shape(t)).toEqual([{ a: [{ b: ['c'] }] }, 'd']);
  });

  it('with a reused PID, the parent is the latest process of that PID created before the child', () => {
    const t = buildTree([
      row('old', 100, 4, '2023-01-01T10:00:00Z'),
      row('new', 100, 4, '2023-01-01T12:00:00Z'),
      row('child-of-old', 200, 100, '2023-01-01T11:00:00Z'),
      row('child-of-new', 300, 100, '2023-01-01T13:00:00Z'),
    ]);
    expect(shape(t)).toEqual([{ old: ['child-of-old'] }, { new: ['child-of-new'] }]);
  });

  it('cuts PPID loops (forged or corrupt fields) so every row is shown exactly once', () => {
    const t = buildTree([row('a', 1, 2), row('b', 2, 1), row('self', 3, 3), row('c', 4, 1)]);
    const keys: string[] = [];
    const walk = (ns: readonly ProcessNode[]): void => { for (const n of ns) { keys.push(n.row.key); walk(n.children); } };
    walk(t);
    expect(keys.sort()).toEqual(['a', 'b', 'c', 'self']);
    expect(t.map((n) => n.row.key)).toContain('self');
    expect(t.length).toBe(2); // the a/b loop becomes one root with the other under it; self is a root
  });
});
