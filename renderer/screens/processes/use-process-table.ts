/**
 * The process table's model over the store's rows: flat (engine order) or a tree by parent, filtered by
 * the filter box, sorted by the clicked headers, with the chosen columns. The toolbar's export asks it
 * for what is on screen.
 */
import { useMemo } from 'react';
import {
  getCoreRowModel, getExpandedRowModel, getFilteredRowModel, useReactTable,
  type FilterFn, type SortingState, type Table, type Updater, type VisibilityState,
} from '@tanstack/react-table';
import type { ProcessTableRow } from '../../../common/contract.js';
import { columns } from '../../components/columns.js';
import { useApp } from '../../store/context.js';
import { sortedRowModelWithoutCopies } from './sorted-row-model.js';
import { buildTree, flatNodes, type ProcessNode } from '../../store/process-tree.js';
import type { UiState } from '../../store/app-store.js';

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
const matchesFilter: FilterFn<ProcessNode> = (row, _columnId, value: string) => {
  const words = value.toLowerCase().split(/\s+/).filter(Boolean);
  const h = haystack(row.original.row);
  return words.every((w) => h.includes(w));
};

/** Unfiltered, unsorted and flat: what is on screen is the engine's default table (export `keys: null`). */
export const isDefaultView = (ui: UiState): boolean => ui.filter.trim() === '' && ui.sorting.length === 0 && !ui.tree;

export interface ProcessTableModel {
  readonly table: Table<ProcessNode>;
  /** Keys of the rows on screen in screen order, or null when that is the default table. */
  readonly shownKeys: () => string[] | null;
}

export function useProcessTable(): ProcessTableModel {
  const rows = useApp((s) => s.rows);
  const order = useApp((s) => s.order);
  const ui = useApp((s) => s.ui);
  const setUi = useApp((s) => s.setUi);

  const data = useMemo(() => {
    const list = order.map((k) => rows.get(k)).filter((r): r is ProcessTableRow => r !== undefined);
    return ui.tree ? buildTree(list) : flatNodes(list);
  }, [rows, order, ui.tree]);

  const table = useReactTable<ProcessNode>({
    data,
    columns,
    getRowId: (n) => n.row.key,
    getSubRows: (n) => (n.children.length ? n.children : undefined),
    state: {
      sorting: ui.sorting as SortingState,
      globalFilter: ui.filter,
      columnVisibility: ui.visibility as VisibilityState,
      expanded: true,
    },
    onSortingChange: (u: Updater<SortingState>) => setUi({ sorting: typeof u === 'function' ? u(ui.sorting as SortingState) : u }),
    onColumnVisibilityChange: (u: Updater<VisibilityState>) => {
      const next = typeof u === 'function' ? u(ui.visibility as VisibilityState) : u;
      setUi({ visibility: next });
    },
    globalFilterFn: matchesFilter,
    // One column carries the row-wide filter, so each row is tested once, not once per column.
    getColumnCanGlobalFilter: (c) => c.id === 'name',
    filterFromLeafRows: ui.tree,
    sortDescFirst: false,
    getCoreRowModel: getCoreRowModel(),
    getFilteredRowModel: getFilteredRowModel(),
    getSortedRowModel: sortedRowModelWithoutCopies<ProcessNode>(),
    getExpandedRowModel: getExpandedRowModel(),
  });

  return {
    table,
    shownKeys: () => (isDefaultView(ui) ? null : table.getRowModel().rows.map((r) => r.id)),
  };
}
