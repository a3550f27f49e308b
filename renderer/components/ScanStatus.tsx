/**
 * The status line: always says where the scan is. Scanning (stage, bytes, MB/s, time left, Cancel scan),
 * done (totals and time), cancelled (how far it got; what was found is kept), failed (one sentence).
 */
import type { ProcessStatus, ProcessTableRow } from '../../common/contract.js';
import { useApp } from '../store/context.js';
import { bytesPerSecond, secondsLeft } from '../store/scan-rate.js';
import { bytes, duration, percent, rate } from './format.js';

function tally(rows: ReadonlyMap<string, ProcessTableRow>): string {
  const n: Record<ProcessStatus, number> = { normal: 0, hidden: 0, suspicious: 0, exited: 0, remnant: 0, unchecked: 0 };
  for (const r of rows.values()) n[r.status]++;
  const parts = (['hidden', 'suspicious', 'unchecked', 'exited', 'remnant'] as const).filter((s) => n[s] > 0).map((s) => `${n[s]} ${s}`);
  return `${rows.size} process${rows.size === 1 ? '' : 'es'}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

export function ScanStatus() {
  const run = useApp((s) => s.run);
  const rows = useApp((s) => s.rows);
  const opening = useApp((s) => s.opening);
  const session = useApp((s) => s.session);
  const cancel = useApp((s) => s.cancelScan);

  let state = 'idle';
  let text: React.ReactNode = session ? 'Ready.' : 'Open an image to begin.';
  let bar: number | null = null;
  if (opening) {
    state = 'opening';
    text = `Opening ${opening}: finding the kernel, DTB and profile…`;
  } else if (run) {
    const covered = `${bytes(run.bytesDone)} of ${bytes(run.bytesTotal)} (${percent(run.bytesDone, run.bytesTotal)}%)`;
    state = run.state;
    if (run.state === 'running') {
      const bps = bytesPerSecond(run.samples);
      const left = secondsLeft(run.samples, run.bytesTotal);
      bar = percent(run.bytesDone, run.bytesTotal);
      text = (
        <>
          <strong>Scanning</strong> <span className="stage">{run.stage}</span>
          <span className="sep">·</span><span className="mono">{run.bytesTotal ? covered : 'starting'}</span>
          <span className="sep">·</span><span className="mono">{bps ? rate(bps) : '– MiB/s'}</span>
          <span className="sep">·</span><span>{left === null ? 'time left: estimating' : `${duration(left * 1000)} left`}</span>
          <span className="sep">·</span><span>{tally(rows)} so far</span>
        </>
      );
    } else if (run.state === 'completed') {
      text = <><strong>Scan complete:</strong> {tally(rows)} in {duration(run.ms ?? 0)}, {bytes(run.bytesTotal)} of memory scanned.</>;
    } else if (run.state === 'cancelled') {
      text = <><strong>Scan cancelled</strong> after {covered} of memory: the {tally(rows)} found so far are shown; processes only in the unscanned part may be missing, and each verdict names the sources the scan did not get to check.</>;
    } else {
      text = <><strong>Scan failed</strong> after {covered}: {run.error ?? 'unknown fault'}. The {tally(rows)} found before are kept.</>;
    }
  }

  return (
    <footer className={`scan-status state-${state}`} aria-label="Scan status">
      <div role="status" aria-live="polite" className="scan-text" data-state={state}>{text}</div>
      {bar !== null && (
        <div className="progress" role="progressbar" aria-label="Scan progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={bar}>
          <div className="progress-fill" style={{ width: `${bar}%` }} />
        </div>
      )}
      {run?.state === 'running' && (
        <button type="button" className="cancel" onClick={() => void cancel()} disabled={run.stage === 'cancelling'} title="Cancel scan (Esc)">Cancel scan</button>
      )}
    </footer>
  );
}
