/**
 * The rows the process table shows: the engine's rows (flat, or the tree by parent fully expanded),
 * filtered by the filter box, sorted by the clicked headers. react-table keeps the column model and the
 * sort / visibility state; this replaces only its row models, which build ~60 closures per row (about
 * 2.5 KB each: 25 MB at 10,000 rows, the bulk of the page's heap) and copy every row on each sort. The
 * rules are react-table's (`filterFromLeafRows` in the tree, per-level multi-column sort, ties in
 * engine order); shown-rows.test.ts holds this to react-table's own pipeline.
 */
import type { ProcessStatus, ProcessTableRow } from '../../../common/contract.js';
import { STATUS_RANK } from '../../components/columns.js';
import type { ProcessNode } from '../../store/process-tree.js';

export interface ShownRow {
  /** The row key (`ProcessTableRow.key`). */
  readonly id: string;
  readonly node: ProcessNode;
  /** Nesting level in the tree by parent; 0 in the flat table. */
  readonly depth: number;
}

export interface SortBy {
  readonly id: string;
  readonly desc: boolean;
}

export type CompareNodes = (a: ProcessNode, b: ProcessNode) => number;

/**
 * What the filter box searches. By default a process's identity: name, PID, PPID, its addresses
 * (EPROCESS VA and PA), DirBase and status word; with `verdicts`, also the verdict text, image path,
 * command line and exit time. (Verdicts name other processes: "csrss" would find System, smss and
 * Registry, whose verdicts say csrss holds no handle to them.)
 */
export type FilterScope = 'identity' | 'verdicts';

const haystacks: Record<FilterScope, WeakMap<ProcessTableRow, string>> = { identity: new WeakMap(), verdicts: new WeakMap() };

function haystack(r: ProcessTableRow, scope: FilterScope): string {
  let h = haystacks[scope].get(r);
  if (h === undefined) {
    const p = r.process;
    const identity = [r.psxview.pid, p?.ppid, r.psxview.name, r.psxview.offset, p?.physicalOffset, p?.dtb, r.status];
    const more = scope === 'verdicts' ? [r.psxview.verdict, p?.imagePath, p?.commandLine, r.psxview.exitTime] : [];
    h = [...identity, ...more].filter((v) => v !== null && v !== undefined).join('\n').toLowerCase();
    haystacks[scope].set(r, h);
  }
  return h;
}

/** Every word of the filter must occur (case-insensitive) somewhere in the row's searched fields. */
const matches = (n: ProcessNode, words: readonly string[], scope: FilterScope): boolean => {
  const h = haystack(n.row, scope);
  return words.every((w) => h.includes(w));
};

/** Most alarming first (hidden, suspicious, exited, remnant, then normal), engine order within each:
 *  one pass into buckets, not a sort (this runs on every frame of rows streaming in). */
function byStatusRank<T extends { readonly node: ProcessNode }>(level: readonly T[]): T[] {
  const buckets: T[][] = [[], [], [], [], []];
  for (const l of level) buckets[STATUS_RANK[l.node.row.status]]!.push(l);
  return buckets.flat();
}

export interface ShownView {
  readonly filter: string;
  readonly sorting: readonly SortBy[];
  readonly tree: boolean;
  /** Fields the filter searches (default identity). */
  readonly scope?: FilterScope;
  /** Only rows of this status (the status summary's buttons), or every row. */
  readonly status?: ProcessStatus | null;
  /** Unsorted flat rows put hidden, exited and remnant processes first, where a laptop's screen shows
   *  them (the engine's order puts them after the listed processes, below the fold). */
  readonly alarmingFirst?: boolean;
}

interface Level { readonly node: ProcessNode; readonly index: number; readonly kids: Level[] }

export function shownRows(
  nodes: readonly ProcessNode[],
  view: ShownView,
  compareOf: (columnId: string) => CompareNodes | undefined,
): ShownRow[] {
  const words = view.filter.toLowerCase().split(/\s+/).filter(Boolean);
  const scope = view.scope ?? 'identity';
  const status = view.status ?? null;
  const filtered = words.length > 0 || status !== null;
  const wanted = (node: ProcessNode): boolean => (status === null || node.row.status === status) && matches(node, words, scope);
  // A tree row stays when it or any descendant matches (react-table's filterFromLeafRows); flat rows alone.
  const keep = (list: readonly ProcessNode[]): Level[] => {
    const out: Level[] = [];
    list.forEach((node, index) => {
      const kids = view.tree ? keep(node.children) : [];
      if (!filtered || kids.length || wanted(node)) out.push({ node, index, kids });
    });
    return out;
  };
  const sorts = view.sorting.flatMap((s) => {
    const compare = compareOf(s.id);
    return compare ? [{ compare, flip: s.desc ? -1 : 1 }] : [];
  });
  const statusFirst = !sorts.length && view.alarmingFirst === true && !view.tree;
  const order = (a: Level, b: Level): number => {
    for (const s of sorts) {
      const r = s.compare(a.node, b.node);
      if (r !== 0) return r * s.flip;
    }
    return a.index - b.index;
  };
  const out: ShownRow[] = [];
  const emit = (level: Level[], depth: number): void => {
    if (sorts.length) level.sort(order);
    else if (statusFirst) level = byStatusRank(level);
    for (const l of level) {
      out.push({ id: l.node.row.key, node: l.node, depth });
      if (l.kids.length) emit(l.kids, depth + 1);
    }
  };
  emit(keep(nodes), 0);
  return out;
}
