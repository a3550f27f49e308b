/**
 * Live memory: the pre-flight lines (pass / fail / warning, each with what was found and what it
 * means), then Start — the session opens like an image and the process table fills — and, on a
 * live session, Acquire…: memory to a file with progress (bytes, MB/s, time left) and Cancel.
 */
import { useEffect, useRef, useState } from 'react';
import type { AcquireState, LivePreflight } from '../../../common/contract.js';
import { useApp } from '../../store/context.js';
import { useLivePanel } from './live-panel-store.js';
import './live.css';

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;

function AcquireSection({ sessionId }: { readonly sessionId: string }) {
  const api = useApp((s) => s.liveApi)();
  const [out, setOut] = useState('');
  const [format, setFormat] = useState<'raw' | 'elf'>('raw');
  const [id, setId] = useState<string | null>(null);
  const [state, setState] = useState<AcquireState | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!api || !id) return;
    const t = setInterval(() => {
      void api.acquireStatus({ acquireId: id }).then((r) => {
        if (!r.ok) { setError(r.error.message); return; }
        setState(r.value);
        if (r.value.state !== 'running') clearInterval(t);
      });
    }, 250);
    return () => clearInterval(t);
  }, [api, id]);
  if (!api) return null;
  const running = state?.state === 'running' || (id !== null && state === null);
  const start = async (): Promise<void> => {
    setError(null);
    setState(null);
    const r = await api.acquireStart({ sessionId, out: out.trim(), format });
    if (!r.ok) { setError(r.error.message); return; }
    setId(r.value.acquireId);
  };
  const pct = state && state.bytesTotal > 0 ? (state.bytesDone / state.bytesTotal) * 100 : 0;
  return (
    <section className="live-acquire" aria-label="Acquire memory to a file">
      <div className="live-acquire-row">
        <label htmlFor="acquire-out" className="live-label">Acquire to</label>
        <input id="acquire-out" type="text" className="mono" placeholder="path of the new file (never overwritten), e.g. D:\evidence\host.raw" value={out} onChange={(e) => setOut(e.target.value)} disabled={running} />
        <select aria-label="Format" value={format} onChange={(e) => setFormat(e.target.value as 'raw' | 'elf')} disabled={running}>
          <option value="raw">raw</option>
          <option value="elf">ELF core</option>
        </select>
        {running
          ? <button type="button" onClick={() => id && void api.acquireCancel({ acquireId: id })}>Cancel</button>
          : <button type="button" className="primary" disabled={!out.trim()} onClick={() => void start()}>Acquire…</button>}
      </div>
      {state && (
        <>
          <div className="live-progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)}><div className="live-progress-fill" style={{ width: `${pct}%` }} /></div>
          <p className="mono" role="status">
            {state.state === 'running' && `${mib(state.bytesDone)} of ${mib(state.bytesTotal)}, ${state.mbPerSecond.toFixed(0)} MB/s, ${state.secondsLeft === null ? '…' : `${Math.ceil(state.secondsLeft)} s left`}`}
            {state.state === 'complete' && `Done: ${state.out}, SHA-256 ${state.sha256}; sidecar ${state.sidecar}`}
            {state.state !== 'running' && state.state !== 'complete' && `Stopped (${state.state}): ${state.error ?? ''} The partial file and ${state.sidecar} are kept; \`memscope acquire --resume\` continues it.`}
            {state.unreadablePages > 0 && ` ${state.unreadablePages} pages unreadable (zero-filled, listed in the sidecar).`}
          </p>
        </>
      )}
      {error && <p role="alert" className="error-message">{error}</p>}
    </section>
  );
}

export function LivePanel() {
  const open = useLivePanel((s) => s.open);
  const hide = useLivePanel((s) => s.hide);
  const api = useApp((s) => s.liveApi)();
  const openLive = useApp((s) => s.openLive);
  const session = useApp((s) => s.session);
  const opening = useApp((s) => s.opening);
  const [pf, setPf] = useState<LivePreflight | null>(null);
  const [error, setError] = useState<string | null>(null);
  const startRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open || !api) return;
    setPf(null);
    setError(null);
    void api.livePreflight({}).then((r) => {
      if (r.ok) { setPf(r.value); return; }
      // No live memory here at all (not Windows, the bridge): the one-line notice says why, as before.
      if (r.error.code === 'unsupported') { hide(); void openLive(); return; }
      setError(r.error.message);
    });
  }, [open, api, session?.sessionId, hide, openLive]);
  useEffect(() => { if (pf?.canStart) startRef.current?.focus(); }, [pf]);
  if (!open) return null;
  const live = session?.source.live === true;
  const start = async (): Promise<void> => {
    await openLive();
    hide();
  };
  return (
    <div className="live-backdrop" onKeyDown={(e) => { if (e.key === 'Escape') hide(); }}>
      <div className="live-panel" role="dialog" aria-modal="true" aria-labelledby="live-title">
        <header className="live-head">
          <h2 id="live-title">Live memory</h2>
          {pf?.simulated && <span className="live-sim">Simulated device</span>}
          <span className="muted">Pre-flight checks before the WinPmem driver is loaded</span>
        </header>
        {error && <p role="alert" className="live-checks error-message">{error}</p>}
        {!pf && !error && <p className="live-checks muted" role="status">Checking…</p>}
        {pf && (
          <ul className="live-checks" aria-label="Pre-flight checks">
            {pf.checks.map((c) => (
              <li key={c.id} className="live-check" data-check={c.id}>
                <span className={`check-word check-${c.status}`}>{c.status}</span>
                <span className="live-label">{c.label}</span>
                <span className="live-detail">{c.detail}</span>
              </li>
            ))}
          </ul>
        )}
        {live && session && <AcquireSection sessionId={session.sessionId} />}
        <footer className="live-actions">
          <span className="live-verdict">
            {pf && (pf.canStart ? (live ? 'Live session open: Acquire… writes its memory to a file.' : pf.simulated ? 'Ready: Start opens the simulated device and lists processes.' : 'Ready: Start loads the driver and lists processes.') : 'A check failed: fix it before Start.')}
          </span>
          {!live && <button ref={startRef} type="button" className="primary" disabled={!pf?.canStart || opening !== null} onClick={() => void start()}>{opening ? 'Starting…' : 'Start'}</button>}
          <button type="button" onClick={hide}>Close</button>
        </footer>
      </div>
    </div>
  );
}
