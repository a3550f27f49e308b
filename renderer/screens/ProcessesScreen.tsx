/** The process screen: the table, and the selected process beside it. Enter or a double-click opens its hex view. */
import type { KeyboardEvent } from 'react';
import { DetailsPanel } from './processes/DetailsPanel.js';
import { ProcessTable } from './processes/ProcessTable.js';
import type { ProcessTableModel } from './processes/use-process-table.js';
import { useApp } from '../store/context.js';
import { useViews } from '../store/views-context.js';

export function ProcessesScreen({ model }: { model: ProcessTableModel }) {
  const selected = useApp((s) => (s.ui.selectedKey === null ? undefined : s.rows.get(s.ui.selectedKey)));
  const openProcess = useViews((s) => s.openProcess);
  const onKey = (e: KeyboardEvent<HTMLDivElement>): void => {
    if (e.key !== 'Enter' || !selected || (e.target as Element).closest('input, button, textarea, select')) return;
    e.preventDefault();
    openProcess(selected);
  };
  const onDouble = (e: React.MouseEvent<HTMLDivElement>): void => {
    if (selected && (e.target as Element).closest('[role="row"]')) openProcess(selected);
  };
  return (
    <div className="processes-screen" onKeyDown={onKey} onDoubleClick={onDouble}>
      <ProcessTable model={model} />
      <DetailsPanel />
    </div>
  );
}
