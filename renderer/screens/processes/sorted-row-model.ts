/**
 * The table's sorted row model: react-table's `getSortedRowModel` with the same order rules (each
 * sorted column's sortingFn in turn, `desc` and `invertSorting` flip it, ties keep the incoming order)
 * but without copying every row. react-table 8 spreads each row into a new object on every sort; at
 * 10,000 rows of ~60 properties that is megabytes of garbage per header click, and its collection
 * landed in the scroll that followed (the bench's 50–70 ms frames). Here a flat table sorts the row
 * objects themselves; only a row whose children are re-ordered gets a derived object (its own
 * `subRows`, everything else read through to the original), as react-table's copy would.
 */
import { getMemoOptions, memo, type Row, type RowModel, type Table } from '@tanstack/react-table';

export function sortedRowModelWithoutCopies<T>(): (table: Table<T>) => () => RowModel<T> {
  return (table) => memo(
    () => [table.getState().sorting, table.getPreSortedRowModel()],
    (sorting, model) => {
      if (!model.rows.length || !sorting?.length) return model;
      const sorts = sorting.flatMap((s) => {
        const column = table.getColumn(s.id);
        if (!column?.getCanSort()) return [];
        return [{ id: s.id, desc: s.desc, invert: column.columnDef.invertSorting === true, undef: column.columnDef.sortUndefined, fn: column.getSortingFn() }];
      });
      const compare = (a: Row<T>, b: Row<T>): number => {
        for (const s of sorts) {
          let r = 0;
          // react-table's rule for undefined values: 'first' / 'last' ignore the direction, a number is
          // flipped by it like any comparison.
          if (s.undef) {
            const au = a.getValue(s.id) === undefined;
            const bu = b.getValue(s.id) === undefined;
            if (au || bu) {
              if (s.undef === 'first') return au ? -1 : 1;
              if (s.undef === 'last') return au ? 1 : -1;
              r = au && bu ? 0 : au ? s.undef : -s.undef;
            }
          }
          if (r === 0) r = s.fn(a, b, s.id);
          if (r !== 0) return r * (s.desc ? -1 : 1) * (s.invert ? -1 : 1);
        }
        return a.index - b.index;
      };
      const flatRows: Row<T>[] = [];
      const sortLevel = (rows: readonly Row<T>[]): Row<T>[] => rows.slice().sort(compare).map((row) => {
        flatRows.push(row);
        if (!row.subRows?.length) return row;
        const derived = Object.create(row) as Row<T>;
        derived.subRows = sortLevel(row.subRows);
        return derived;
      });
      return { rows: sortLevel(model.rows), flatRows, rowsById: model.rowsById };
    },
    getMemoOptions(table.options, 'debugTable', 'getSortedRowModel'),
  );
}
