/** Show or hide the optional columns (identity and verdict always show). */
import type { Table } from '@tanstack/react-table';
import type { ProcessNode } from '../store/process-tree.js';
import { CHOOSABLE, metaOf } from './columns.js';

export function ColumnChooser({ table }: { table: Table<ProcessNode> }) {
  return (
    <details className="column-chooser">
      <summary>Columns</summary>
      <fieldset>
        <legend>Shown columns</legend>
        {CHOOSABLE.map((id) => {
          const c = table.getColumn(id);
          if (!c) return null;
          return (
            <label key={id}>
              <input type="checkbox" checked={c.getIsVisible()} onChange={c.getToggleVisibilityHandler()} />
              {metaOf(c).label}
            </label>
          );
        })}
      </fieldset>
    </details>
  );
}
