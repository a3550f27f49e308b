/**
 * The rows the process table shows: the engine's rows (flat, or the tree by parent fully expanded),
 * filtered by the filter box, sorted by the clicked headers. react-table keeps the column model and the
 * sort / visibility state; this replaces only its row models, which build ~60 closures per row (about
 * 2.5 KB each: 25 MB at 10,000 rows, the bulk of the page's heap) and copy every row on each sort. The
 * rules are react-table's (`filterFromLeafRows` in the tree, per-level multi-column sort, ties in
 * engine order); shown-rows.test.ts holds this to react-table's own pipeline.
 */
import type { ProcessTableRow } from '../../../common/contract.js';
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

const haystacks = new WeakMap<ProcessTableRow, string>();

/** What the filter box searches: identity, addresses, paths, status word and verdict. */
function haystack(r: ProcessTableRow): string {
  let h = haystacks.get(r);
  if (h === undefined) {
    const p = r.process;
    h = [r.psxview.pid, p?.ppid, r.psxview.name, r.psxview.offset, p?.physicalOffset, r.status, r.psxview.verdict, p?.imagePath, p?.commandLine, r.psxview.exitTime]
      .filter((v) => v !== null && v !== undefined).join('\n').toLowerCase();
    haystacks.set(r, h);
  }
  return h;
}

/** Every word of the filter must occur (case-insensitive) somewhere in the row. */
const matches = (n: ProcessNode, words: readonly string[]): boolean => {
  const h = haystack(n.row);
  return words.every((w) => h.includes(w));
};

interface Level { readonly node: ProcessNode; readonly index: number; readonly kids: Level[] }

export function shownRows(
  nodes: readonly ProcessNode[],
  view: { readonly filter: string; readonly sorting: readonly SortBy[]; readonly tree: boolean },
  compareOf: (columnId: string) => CompareNodes | undefined,
): ShownRow[] {
  const words = view.filter.toLowerCase().split(/\s+/).filter(Boolean);
  // A tree row stays when it or any descendant matches (react-table's filterFromLeafRows); flat rows alone.
  const keep = (list: readonly ProcessNode[]): Level[] => {
    const out: Level[] = [];
    list.forEach((node, index) => {
      const kids = view.tree ? keep(node.children) : [];
      if (!words.length || kids.length || matches(node, words)) out.push({ node, index, kids });
    });
    return out;
  };
  const sorts = view.sorting.flatMap((s) => {
    const compare = compareOf(s.id);
    return compare ? [{ compare, flip: s.desc ? -1 : 1 }] : [];
  });
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
    for (const l of level) {
      out.push({ id: l.node.row.key, node: l.node, depth });
      if (l.kids.length) emit(l.kids, depth + 1);
    }
  };
  emit(keep(nodes), 0);
  return out;
}
