/**
 * The status line: always says where things are. Opening (the stage and the time it has taken, Cancel),
 * scanning (stage, bytes, MB/s, time left or "finishing", Cancel scan), done (totals and time),
 * cancelled (how far it got, Rescan), failed (one sentence, Rescan). The counts of hidden, exited and
 * remnant processes are buttons that show only those rows.
 */
import { useEffect, useState } from 'react';
import type { ProcessStatus, ProcessTableRow } from '../../common/contract.js';
import { useApp } from '../store/context.js';
import { bytesPerSecond, secondsLeft } from '../store/scan-rate.js';
import { bytes, duration, percent, rate } from './format.js';

const ALARMING = ['hidden', 'suspicious', 'unchecked', 'exited', 'remnant'] as const;

export function countByStatus(rows: ReadonlyMap<string, ProcessTableRow>): Record<ProcessStatus, number> {
  const n: Record<ProcessStatus, number> = { normal: 0, hidden: 0, suspicious: 0, exited: 0, remnant: 0, unchecked: 0 };
  for (const r of rows.values()) n[r.status]++;
  return n;
}

/** "30 processes (1 hidden, 1 exited, 3 remnant)", each count a button that filters the table to it. */
function Tally({ rows }: { rows: ReadonlyMap<string, ProcessTableRow> }) {
  const status = useApp((s) => s.ui.status);
  const setUi = useApp((s) => s.setUi);
  const n = countByStatus(rows);
  const parts = ALARMING.filter((s) => n[s] > 0);
  return (
    <>
      {`${rows.size} process${rows.size === 1 ? '' : 'es'}`}
      {parts.length > 0 && ' ('}
      {parts.map((s, i) => (
        <span key={s}>
          {i > 0 && ', '}
          <button
            type="button"
            className={`tally status-${s}-count`}
            aria-pressed={status === s}
            title={status === s ? 'Show every process again' : `Show only the ${n[s]} ${s} process${n[s] === 1 ? '' : 'es'}`}
            onClick={() => setUi({ status: status === s ? null : s, selectedKey: null })}
          >{`${n[s]} ${s}`}</button>
        </span>
      ))}
      {parts.length > 0 && ')'}
    </>
  );
}

/** Re-renders every `ms` while `on` (the elapsed time of an open). */
export function useTick(on: boolean, ms: number): void {
  const [, set] = useState(0);
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => set((x) => x + 1), ms);
    return () => clearInterval(t);
  }, [on, ms]);
}

export function ScanStatus() {
  const run = useApp((s) => s.run);
  const rows = useApp((s) => s.rows);
  const opening = useApp((s) => s.opening);
  const openStatus = useApp((s) => s.openStatus);
  const session = useApp((s) => s.session);
  const cancel = useApp((s) => s.cancelScan);
  const cancelOpen = useApp((s) => s.cancelOpen);
  const rescan = useApp((s) => s.rescan);
  const link = useApp((s) => s.link);
  useTick(openStatus !== null, 200);

  let state = 'idle';
  let text: React.ReactNode = session ? 'Ready.' : 'Open an image to begin.';
  let bar: number | null = null;
  if (opening) {
    state = 'opening';
    const elapsed = openStatus ? duration(performance.now() - openStatus.startedAt) : null;
    const scanned = openStatus?.bytesTotal ? ` (${bytes(openStatus.bytesDone ?? 0)} of ${bytes(openStatus.bytesTotal)})` : '';
    if (openStatus?.bytesTotal) bar = percent(openStatus.bytesDone ?? 0, openStatus.bytesTotal);
    text = (
      <>
        <strong>Opening</strong> <span className="mono">{opening}</span>
        <span className="sep">·</span><span className="stage">{openStatus ? `${openStatus.stage}${scanned}` : 'finding the kernel, DTB and profile'}</span>
        {elapsed && <><span className="sep">·</span><span className="mono">{elapsed}</span></>}
      </>
    );
  } else if (run) {
    const covered = `${bytes(run.bytesDone)} of ${bytes(run.bytesTotal)} (${percent(run.bytesDone, run.bytesTotal)}%)`;
    // pages the device refused were scanned as zeros: a process there may be missing, so say how many
    const n = run.unreadablePages ?? 0;
    const unreadable = n > 0 ? <> <span className="unreadable-pages">{n.toLocaleString('en-US')} {n === 1 ? 'page' : 'pages'} could not be read and were scanned as zeros.</span></> : null;
    state = run.state;
    if (run.state === 'running') {
      const bps = bytesPerSecond(run.samples);
      const left = secondsLeft(run.samples, run.bytesTotal);
      // All bytes read: what remains is cross-checking, which has no byte count to estimate from.
      const finishing = run.bytesTotal > 0 && run.bytesDone >= run.bytesTotal;
      bar = percent(run.bytesDone, run.bytesTotal);
      text = (
        <>
          <strong>Scanning</strong> <span className="stage">{run.stage}</span>
          <span className="sep">·</span><span className="mono">{run.bytesTotal ? covered : 'starting'}</span>
          {finishing ? (
            <><span className="sep">·</span><span>finishing: cross-checking the sources</span></>
          ) : (
            <>
              <span className="sep">·</span><span className="mono">{bps ? rate(bps) : '– MiB/s'}</span>
              <span className="sep">·</span><span>{left === null ? 'time left: estimating' : `${duration(left * 1000)} left`}</span>
            </>
          )}
          <span className="sep">·</span><span><Tally rows={rows} /> so far</span>
        </>
      );
    } else if (run.state === 'completed') {
      text = <><strong>Scan complete:</strong> <Tally rows={rows} /> in {duration(run.ms ?? 0)}, {bytes(run.bytesTotal)} of memory scanned.{unreadable}</>;
    } else if (run.state === 'cancelled') {
      text = <><strong>Scan cancelled</strong> after {covered} of memory: the <Tally rows={rows} /> found so far are shown; processes only in the unscanned part may be missing, and each verdict names the sources the scan did not get to check.</>;
    } else {
      text = <><strong>Scan failed</strong> after {covered}: {run.error ?? 'unknown fault'}. The <Tally rows={rows} /> found before are kept.</>;
    }
  }

  return (
    <footer className={`scan-status state-${state}`} aria-label="Scan status">
      <div role="status" aria-live="polite" className="scan-text" data-state={state}>{text}</div>
      {bar !== null && (
        <div className="progress" role="progressbar" aria-label={opening ? 'Open progress' : 'Scan progress'} aria-valuemin={0} aria-valuemax={100} aria-valuenow={bar}>
          <div className="progress-fill" style={{ width: `${bar}%` }} />
        </div>
      )}
      {opening && openStatus && (
        <button type="button" className="cancel" onClick={cancelOpen} title="Stop opening this image (Esc)">Cancel open</button>
      )}
      {run?.state === 'running' && !opening && (
        <button type="button" className="cancel" onClick={() => void cancel()} disabled={run.stage === 'cancelling'} title="Cancel scan (Esc)">Cancel scan</button>
      )}
      {(run?.state === 'cancelled' || run?.state === 'failed') && !opening && link.up && !link.restored && (
        // The engine cannot resume a scan part-way: say that this one starts again from the first byte.
        <button type="button" className="rescan" onClick={() => void rescan()} title="Scan all of memory again, from the start (a cancelled scan cannot resume); the rows shown stay until their new results arrive">Rescan from the start</button>
      )}
    </footer>
  );
}
