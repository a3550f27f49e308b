/**
 * The connection to the server, when it is not simply up: lost (at once, with the time and why; the
 * rows stay on screen, the page reconnects by itself), or back after a loss (the server's sessions of
 * the old connection are gone: one click opens the image again).
 */
import { useApp } from '../store/context.js';

const clock = (ms: number): string => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

export function LinkBanner() {
  const link = useApp((s) => s.link);
  const session = useApp((s) => s.session);
  const rows = useApp((s) => s.rows.size);
  const reopen = useApp((s) => s.reopen);
  const opening = useApp((s) => s.opening);
  if (link.up && !link.restored) return null;
  if (!link.up) {
    return (
      <div className="link-banner lost" role="alert" aria-label="Connection">
        <span className="error-mark" aria-hidden="true">!</span>
        <p>
          <strong>Lost the connection to the MemScope server at {clock(link.since)}.</strong>{' '}
          {rows > 0 ? `The ${rows} rows shown are kept (export needs the server). ` : ''}
          Reconnecting…
          <span className="muted link-reason"> {link.reason}</span>
        </p>
      </div>
    );
  }
  if (!session || opening) return null;
  return (
    <div className="link-banner restored" role="status" aria-label="Connection">
      <p>
        <strong>Reconnected at {clock(link.since)}.</strong> The server no longer has this image open: the rows shown are from before the loss.
      </p>
      <button type="button" className="primary" onClick={() => void reopen()}>Open {session.source.live ? 'live memory' : session.source.fileName} again</button>
    </div>
  );
}
