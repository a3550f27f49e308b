/** One sentence naming the file and the fault, and what was kept; the app stays usable around it. */
import { useApp } from '../store/context.js';
import { LinkBanner } from './LinkBanner.js';
import { OpeningPanel } from './OpeningPanel.js';

export function ErrorPanel() {
  const problem = useApp((s) => s.problem);
  const dismiss = useApp((s) => s.dismissProblem);
  const notice = useApp((s) => s.notice);
  const dismissNotice = useApp((s) => s.dismissNotice);
  return (
    <>
      <LinkBanner />
      <OpeningPanel />
      {problem && (
        <div className="error-panel" role="alert">
          <span className="error-mark" aria-hidden="true">!</span>
          <div className="error-text">
            <p className="error-message">{problem.message}</p>
            {problem.kept && <p className="error-kept">{problem.kept}</p>}
          </div>
          <button type="button" onClick={dismiss}>Dismiss</button>
        </div>
      )}
      {notice && (
        <div className="notice-panel" role="status">
          <p>{notice}</p>
          <button type="button" onClick={dismissNotice}>Dismiss</button>
        </div>
      )}
    </>
  );
}
