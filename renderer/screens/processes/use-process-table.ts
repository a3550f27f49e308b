/**
 * The process table's model over the store's rows: flat (engine order) or a tree by parent, filtered by
 * the filter box, sorted by the clicked headers, with the chosen columns. react-table holds the columns
 * and the sort / visibility state (headers, aria-sort, the column chooser); the rows themselves come from
 * shown-rows.ts. The toolbar's export asks it for what is on screen.
 */
import { useMemo } from 'react';
import { getCoreRowModel, useReactTable, type SortingState, type Table, type Updater, type VisibilityState } from '@tanstack/react-table';
import type { ProcessTableRow } from '../../../common/contract.js';
import { columns, metaOf } from '../../components/columns.js';
import { useApp } from '../../store/context.js';
import { buildTree, flatNodes, type ProcessNode } from '../../store/process-tree.js';
import type { UiState } from '../../store/app-store.js';
import { shownRows, type CompareNodes, type ShownRow } from './shown-rows.js';

/** Unfiltered, unsorted and flat: what is on screen is the engine's default table (export `keys: null`). */
export const isDefaultView = (ui: UiState): boolean => ui.filter.trim() === '' && ui.status === null && ui.sorting.length === 0 && !ui.tree;

export interface ProcessTableModel {
  /** Columns, headers and sort / visibility state (it holds no rows). */
  readonly table: Table<ProcessNode>;
  /** The rows on screen, in screen order. */
  readonly rows: readonly ShownRow[];
  /** Keys of the rows on screen in screen order, or null when that is the default table. */
  readonly shownKeys: () => string[] | null;
}

const NO_ROWS: ProcessNode[] = [];
const compareById = new Map<string, CompareNodes>(columns.map((c) => [c.id!, metaOf({ columnDef: c }).compare]));
const compareOf = (id: string): CompareNodes | undefined => compareById.get(id);

export function useProcessTable(): ProcessTableModel {
  const rows = useApp((s) => s.rows);
  const order = useApp((s) => s.order);
  const ui = useApp((s) => s.ui);
  const setUi = useApp((s) => s.setUi);

  const nodes = useMemo(() => {
    const list = order.map((k) => rows.get(k)).filter((r): r is ProcessTableRow => r !== undefined);
    return ui.tree ? buildTree(list) : flatNodes(list);
  }, [rows, order, ui.tree]);
  const shown = useMemo(
    () => shownRows(nodes, { filter: ui.filter, sorting: ui.sorting, tree: ui.tree, scope: ui.searchVerdicts ? 'verdicts' : 'identity', status: ui.status, alarmingFirst: true }, compareOf),
    [nodes, ui.filter, ui.sorting, ui.tree, ui.searchVerdicts, ui.status],
  );

  const table = useReactTable<ProcessNode>({
    data: NO_ROWS,
    columns,
    state: { sorting: ui.sorting as SortingState, columnVisibility: ui.visibility as VisibilityState },
    onSortingChange: (u: Updater<SortingState>) => setUi({ sorting: typeof u === 'function' ? u(ui.sorting as SortingState) : u }),
    onColumnVisibilityChange: (u: Updater<VisibilityState>) => {
      const next = typeof u === 'function' ? u(ui.visibility as VisibilityState) : u;
      setUi({ visibility: next });
    },
    manualSorting: true,
    manualFiltering: true,
    sortDescFirst: false,
    getCoreRowModel: getCoreRowModel(),
  });

  return {
    table,
    rows: shown,
    shownKeys: () => (isDefaultView(ui) ? null : shown.map((r) => r.id)),
  };
}
