/** The views of an open image ("Processes", "Timeline") and the hand-off action, Export evidence…. */
import { useState } from 'react';
import { useApp } from '../../store/context.js';

export type ViewName = 'processes' | 'timeline';
const VIEWS: readonly [ViewName, string][] = [['processes', 'Processes'], ['timeline', 'Timeline']];

export function ViewTabs({ view, onView }: { view: ViewName; onView: (v: ViewName) => void }) {
  const exportEvidence = useApp((s) => s.exportEvidence);
  const live = useApp((s) => s.session?.source.live ?? false);
  const scanning = useApp((s) => s.run?.state === 'running');
  const [busy, setBusy] = useState(false);
  return (
    <div className="view-tabs">
      <div role="tablist" aria-label="Views">
        {VIEWS.map(([v, name]) => (
          <button key={v} type="button" role="tab" aria-selected={view === v} className={view === v ? 'active' : ''} onClick={() => onView(v)}>{name}</button>
        ))}
      </div>
      <button
        type="button" className="export-evidence" disabled={busy || live}
        title={live ? 'An evidence bundle of live memory is not in this build' : 'Write every table, the DTB and discovery reports, the timeline, manifest.json and SHA256SUMS into a new folder'}
        onClick={() => { setBusy(true); void exportEvidence().finally(() => setBusy(false)); }}
      >
        {busy ? (scanning ? 'Writing evidence (finishing the scan)…' : 'Writing evidence…') : 'Export evidence…'}
      </button>
    </div>
  );
}
