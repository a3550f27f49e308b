import { describe, expect, it } from 'vitest';
import {
  createTable, getCoreRowModel, getExpandedRowModel, getSortedRowModel,
  type Row, type RowModel, type SortingState, type Table, type TableOptionsResolved,
} from '@tanstack/react-table';
import { columns } from '../../components/columns.js';
import { syntheticRows } from '../../bench/synthetic-rows.js';
import { buildTree, flatNodes, type ProcessNode } from '../../store/process-tree.js';
import { sortedRowModelWithoutCopies } from './sorted-row-model.js';

type SortedModel = (table: Table<ProcessNode>) => () => RowModel<ProcessNode>;

function shownIds(data: ProcessNode[], sorting: SortingState, sorted: SortedModel): { ids: string[]; depths: number[]; rows: Row<ProcessNode>[]; table: Table<ProcessNode> } {
  const options: TableOptionsResolved<ProcessNode> = {
    data, columns, state: { sorting, expanded: true, columnPinning: {} }, onStateChange: () => {}, renderFallbackValue: null,
    getRowId: (n) => n.row.key, getSubRows: (n) => (n.children.length ? n.children : undefined), sortDescFirst: false,
    getCoreRowModel: getCoreRowModel(), getSortedRowModel: sorted, getExpandedRowModel: getExpandedRowModel(),
  };
  const table = createTable(options);
  const rows = table.getRowModel().rows;
  return { ids: rows.map((r) => r.id), depths: rows.map((r) => r.depth), rows, table };
}

// Synthetic rows have many equal names, statuses, thread counts and null exit times: ties and nulls.
const rows = syntheticRows(1500, 7);
const SORTS: SortingState[] = [
  [{ id: 'pid', desc: false }], [{ id: 'pid', desc: true }],
  [{ id: 'name', desc: false }], [{ id: 'name', desc: true }],
  [{ id: 'verdict', desc: false }], [{ id: 'exitTime', desc: true }],
  [{ id: 'threads', desc: false }, { id: 'name', desc: true }],
  [{ id: 'pslist', desc: false }, { id: 'createTime', desc: true }],
];

describe('sorted row model without copies', () => {
  for (const [view, data] of [['flat', flatNodes(rows)], ['tree by parent', buildTree(rows)]] as const) {
    it.each(SORTS.map((s) => [s.map((x) => `${x.id} ${x.desc ? 'desc' : 'asc'}`).join(', '), s] as const))(`${view}: %s shows the rows in react-table's own order`, (label, sorting) => {
      const ours = shownIds([...data], sorting, sortedRowModelWithoutCopies<ProcessNode>());
      const theirs = shownIds([...data], sorting, getSortedRowModel<ProcessNode>());
      expect(ours.ids).toEqual(theirs.ids);
      expect(ours.depths).toEqual(theirs.depths);
      // The sort did something (synthetic rows come in PID order, so PID ascending is the one no-op).
      if (label !== 'pid asc') expect(ours.ids).not.toEqual(shownIds([...data], [], sortedRowModelWithoutCopies<ProcessNode>()).ids);
    });
  }

  it('sorts the row objects themselves in a flat table (no per-row copies)', () => {
    const { rows: shown, table } = shownIds(flatNodes(rows), [{ id: 'name', desc: true }], sortedRowModelWithoutCopies<ProcessNode>());
    const before = new Set(table.getPreSortedRowModel().rows);
    expect(shown.length).toBe(rows.length);
    expect(shown.every((r) => before.has(r))).toBe(true);
    // react-table's own model hands back copies: the property this model exists for.
    const theirs = shownIds(flatNodes(rows), [{ id: 'name', desc: true }], getSortedRowModel<ProcessNode>());
    const theirBefore = new Set(theirs.table.getPreSortedRowModel().rows);
    expect(theirs.rows.some((r) => theirBefore.has(r))).toBe(false);
  });
});
