/** Export evidence…: the hand-off action beside the screen tabs (the host writes the bundle; the notice names the folder). */
import { useState } from 'react';
import { useApp } from '../../store/context.js';

export function ExportEvidenceButton() {
  const exportEvidence = useApp((s) => s.exportEvidence);
  const live = useApp((s) => s.session?.source.live ?? false);
  const scanning = useApp((s) => s.run?.state === 'running');
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button" className="export-evidence" disabled={busy || live}
      title={live ? 'An evidence bundle of live memory is not in this build' : 'Write every table, the DTB and discovery reports, the timeline, manifest.json and SHA256SUMS into a new folder'}
      onClick={() => { setBusy(true); void exportEvidence().finally(() => setBusy(false)); }}
    >
      {busy ? (scanning ? 'Writing evidence (finishing the scan)…' : 'Writing evidence…') : 'Export evidence…'}
    </button>
  );
}
