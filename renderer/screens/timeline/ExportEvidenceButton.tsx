/**
 * Export evidence…: the hand-off action beside the screen tabs, for image and live sessions alike.
 * In Electron it opens the native folder dialog (choose or create the folder); over the bridge a
 * browser has no folder dialog on the host, so a small form takes the folder's path (empty: a new
 * folder the host chooses under MEMSCOPE_HOME/evidence). The notice names the folder written.
 */
import { useState, type FormEvent } from 'react';
import { useApp } from '../../store/context.js';

export function ExportEvidenceButton() {
  const exportEvidence = useApp((s) => s.exportEvidence);
  const pickFolder = useApp((s) => s.pickEvidenceFolder);
  const dialogs = useApp((s) => s.capabilities?.nativeDialogs ?? false);
  const scanning = useApp((s) => s.run?.state === 'running');
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState(false);
  const [folder, setFolder] = useState('');

  const write = async (out: string | null): Promise<void> => {
    setBusy(true);
    try { await exportEvidence(out); } finally { setBusy(false); }
  };
  const onClick = async (): Promise<void> => {
    if (!dialogs) { setAsking(!asking); return; }
    const path = await pickFolder();
    if (path) await write(path);
  };
  const onSubmit = (e: FormEvent): void => {
    e.preventDefault();
    setAsking(false);
    void write(folder);
  };

  return (
    <div className="export-evidence-wrap">
      <button
        type="button" className="export-evidence" disabled={busy} aria-expanded={dialogs ? undefined : asking}
        title="Write every table, the DTB and discovery reports, the timeline, manifest.json and SHA256SUMS into a new folder"
        onClick={() => void onClick()}
      >
        {busy ? (scanning ? 'Writing evidence (finishing the scan)…' : 'Writing evidence…') : 'Export evidence…'}
      </button>
      {asking && !busy && (
        <form className="evidence-form" role="dialog" aria-label="Export evidence" onSubmit={onSubmit} onKeyDown={(e) => { if (e.key === 'Escape') setAsking(false); }}>
          <label htmlFor="evidence-out">Folder on the host (new or empty)</label>
          <input
            id="evidence-out" type="text" className="mono" autoFocus value={folder} onChange={(e) => setFolder(e.target.value)}
            placeholder="absolute path, e.g. /cases/host-42/evidence"
          />
          <p className="evidence-form-note">This browser cannot open a folder dialog on the host: type the folder, or leave it empty for a new folder under MEMSCOPE_HOME/evidence.</p>
          <div className="evidence-form-actions">
            <button type="button" onClick={() => setAsking(false)}>Cancel</button>
            <button type="submit" className="primary">Write bundle</button>
          </div>
        </form>
      )}
    </div>
  );
}
