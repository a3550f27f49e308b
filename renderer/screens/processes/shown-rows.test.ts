import { describe, expect, it } from 'vitest';
import {
  createTable, getCoreRowModel, getExpandedRowModel, getFilteredRowModel, getSortedRowModel,
  type ColumnDef, type FilterFn, type SortingState, type TableOptionsResolved,
} from '@tanstack/react-table';
import { columns, metaOf } from '../../components/columns.js';
import { syntheticRows } from '../../bench/synthetic-rows.js';
import { buildTree, flatNodes, type ProcessNode } from '../../store/process-tree.js';
import { shownRows } from './shown-rows.js';

// Synthetic rows have many equal names, statuses, thread counts and null exit times: ties and nulls.
const rows = syntheticRows(1500, 7);
const compareOf = (id: string) => { const c = columns.find((x) => x.id === id); return c ? metaOf({ columnDef: c }).compare : undefined; };

/** The reference: react-table's own filter → sort → expand pipeline, with the columns' compare as sortingFn. */
function reactTableOrder(data: ProcessNode[], sorting: SortingState, tree: boolean, matches: ((n: ProcessNode) => boolean) | null): { id: string; depth: number }[] {
  const filterFn: FilterFn<ProcessNode> = (row) => (matches ? matches(row.original) : true);
  const cols = columns.map((c) => ({ ...c, sortingFn: (a, b) => metaOf({ columnDef: c }).compare(a.original, b.original), sortUndefined: false })) as ColumnDef<ProcessNode, unknown>[];
  const options: TableOptionsResolved<ProcessNode> = {
    data, columns: cols, state: { sorting, globalFilter: matches ? 'x' : '', expanded: true, columnPinning: {} }, onStateChange: () => {}, renderFallbackValue: null,
    getRowId: (n) => n.row.key, getSubRows: (n) => (n.children.length ? n.children : undefined), sortDescFirst: false,
    globalFilterFn: filterFn, getColumnCanGlobalFilter: (c) => c.id === 'name', filterFromLeafRows: tree,
    getCoreRowModel: getCoreRowModel(), getFilteredRowModel: getFilteredRowModel(), getSortedRowModel: getSortedRowModel(), getExpandedRowModel: getExpandedRowModel(),
  };
  return createTable(options).getRowModel().rows.map((r) => ({ id: r.id, depth: r.depth }));
}

const SORTS: SortingState[] = [
  [], [{ id: 'pid', desc: true }], [{ id: 'name', desc: false }], [{ id: 'name', desc: true }],
  [{ id: 'verdict', desc: false }], [{ id: 'exitTime', desc: true }],
  [{ id: 'threads', desc: false }, { id: 'name', desc: true }], [{ id: 'pslist', desc: false }, { id: 'createTime', desc: true }],
];
// Filters whose meaning is plain from one field, so the reference can test that field alone.
const FILTERS: [string, ((n: ProcessNode) => boolean) | null][] = [
  ['', null],
  ['svchost', (n) => (n.row.psxview.name ?? '').includes('svchost')],
  ['HIDDEN', (n) => n.row.status === 'hidden'],
  ['0x1aa', (n) => (n.row.process?.dtb ?? '').includes('0x1aa') || (n.row.psxview.offset ?? '').includes('0x1aa') || (n.row.process?.physicalOffset ?? '').includes('0x1aa')],
];

describe('shown rows', () => {
  for (const [view, tree] of [['flat', false], ['tree by parent', true]] as const) {
    const data = tree ? buildTree(rows) : flatNodes(rows);
    for (const [filter, matches] of FILTERS) {
      it.each(SORTS.map((s) => [s.map((x) => `${x.id} ${x.desc ? 'desc' : 'asc'}`).join(', ') || 'unsorted', s] as const))(
        `${view}, filter "${filter}": %s gives react-table's rows, order and depths`, (_label, sorting) => {
          const ours = shownRows(data, { filter, sorting, tree }, compareOf).map((r) => ({ id: r.id, depth: r.depth }));
          expect(ours).toEqual(reactTableOrder(data, sorting, tree, matches));
          expect(ours.length).toBeGreaterThan(0);
        });
    }
  }

  it('keeps a tree parent that does not match when a descendant does, and drops non-matching children', () => {
    const data = buildTree(rows);
    const shown = shownRows(data, { filter: 'hidden', sorting: [], tree: true }, compareOf);
    const hidden = shown.filter((r) => r.node.row.status === 'hidden');
    expect(hidden.length).toBe(rows.filter((r) => r.status === 'hidden').length);
    const others = shown.filter((r) => r.node.row.status !== 'hidden');
    expect(others.length).toBeGreaterThan(0);
    for (const o of others) expect(JSON.stringify(o.node)).toContain('"status":"hidden"');
  });

  it('searching verdicts too, matches every word of the filter anywhere in the row, case-insensitively', () => {
    const flat = flatNodes(rows);
    const byPath = shownRows(flat, { filter: 'SYSTEM32\\chrome -k', sorting: [], tree: false, scope: 'verdicts' }, compareOf);
    expect(byPath.length).toBe(rows.filter((r) => r.psxview.name === 'chrome.exe').length);
    expect(shownRows(flat, { filter: 'chrome nosuchword', sorting: [], tree: false, scope: 'verdicts' }, compareOf)).toEqual([]);
  });

  it('by default searches identity only: name, PID, PPID, addresses, DirBase and status word, not verdicts or paths', () => {
    const flat = flatNodes(rows);
    const ids = (filter: string, scope?: 'identity' | 'verdicts') => shownRows(flat, { filter, sorting: [], tree: false, ...(scope ? { scope } : {}) }, compareOf).map((r) => r.id);
    // "dkom" and "system32" are only in verdicts and image paths.
    expect(ids('dkom')).toEqual([]);
    expect(ids('system32')).toEqual([]);
    expect(ids('dkom', 'verdicts').length).toBe(rows.filter((r) => r.status === 'hidden').length);
    const r = rows[123]!;
    expect(ids(r.process!.dtb!)).toEqual([r.key]);
    expect(ids(r.process!.physicalOffset!)).toEqual([r.key]);
    expect(ids(r.key)).toEqual([r.key]);
    expect(ids(String(r.process!.ppid)).length).toBeGreaterThanOrEqual(rows.filter((x) => x.process!.ppid === r.process!.ppid).length);
  });

  it('a status filter keeps only that status, with the text filter on top', () => {
    const flat = flatNodes(rows);
    const exited = shownRows(flat, { filter: '', sorting: [], tree: false, status: 'exited' }, compareOf);
    expect(exited.map((r) => r.id)).toEqual(rows.filter((r) => r.status === 'exited').map((r) => r.key));
    const exitedSvchost = shownRows(flat, { filter: 'svchost', sorting: [], tree: false, status: 'exited' }, compareOf);
    expect(exitedSvchost.map((r) => r.id)).toEqual(rows.filter((r) => r.status === 'exited' && r.psxview.name === 'svchost.exe').map((r) => r.key));
    expect(exitedSvchost.length).toBeGreaterThan(0);
  });

  it('alarming first: unsorted flat rows start with hidden, exited and remnant ones, engine order within each; a sort or the tree overrides it', () => {
    const flat = flatNodes(rows);
    const shown = shownRows(flat, { filter: '', sorting: [], tree: false, alarmingFirst: true }, compareOf).map((r) => r.node.row);
    const rank = { hidden: 0, suspicious: 1, exited: 2, remnant: 3, normal: 4 } as const;
    const expected = (['hidden', 'suspicious', 'exited', 'remnant', 'normal'] as const).flatMap((st) => rows.filter((r) => r.status === st));
    expect(shown.map((r) => r.key)).toEqual(expected.map((r) => r.key));
    expect(shown[0]!.status).toBe('hidden');
    expect(shown.map((r) => rank[r.status])).toEqual([...shown.map((r) => rank[r.status])].sort((a, b) => a - b));
    const byPid = shownRows(flat, { filter: '', sorting: [{ id: 'pid', desc: false }], tree: false, alarmingFirst: true }, compareOf);
    expect(byPid.map((r) => r.id)).toEqual(rows.map((r) => r.key));
    const tree = buildTree(rows);
    expect(shownRows(tree, { filter: '', sorting: [], tree: true, alarmingFirst: true }, compareOf)).toEqual(shownRows(tree, { filter: '', sorting: [], tree: true }, compareOf));
  });
});
