/**
 * While an image opens, the main view says so where the eye is (the status line below has the same
 * stage and the Cancel open button): which file, what discovery is doing, for how long, and how to stop.
 */
import { useApp } from '../store/context.js';
import { bytes, duration } from './format.js';
import { useTick } from './ScanStatus.js';

export function OpeningPanel() {
  const opening = useApp((s) => s.opening);
  const st = useApp((s) => s.openStatus);
  useTick(st !== null, 200);
  if (!opening || !st) return null;
  return (
    <div className="opening-panel">
      <p className="opening-title">Opening <span className="mono">{opening}</span></p>
      <p>
        <span className="stage">{st.stage}</span>
        {st.bytesTotal ? <span className="mono"> · {bytes(st.bytesDone ?? 0)} of {bytes(st.bytesTotal)}</span> : null}
        <span className="mono"> · {duration(performance.now() - st.startedAt)}</span>
      </p>
      <p className="muted">Esc or <strong>Cancel open</strong> (below) stops it; the image is only read, never written.</p>
    </div>
  );
}
