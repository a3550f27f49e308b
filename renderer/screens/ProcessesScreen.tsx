/** The process screen: the table, and the selected process beside it. */
import { DetailsPanel } from '../components/DetailsPanel.js';
import { ProcessTable } from './processes/ProcessTable.js';
import type { ProcessTableModel } from './processes/use-process-table.js';

export function ProcessesScreen({ model }: { model: ProcessTableModel }) {
  return (
    <div className="processes-screen">
      <ProcessTable model={model} />
      <DetailsPanel />
    </div>
  );
}
