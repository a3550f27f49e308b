/** The selected process, field by field, each value copyable; what every source saw of it. */
import { PSXVIEW_SOURCES } from '../../common/contract.js';
import { useApp } from '../store/context.js';
import { CopyValue } from './CopyValue.js';

export function DetailsPanel() {
  const key = useApp((s) => s.ui.selectedKey);
  const row = useApp((s) => (key === null ? undefined : s.rows.get(key)));
  const setUi = useApp((s) => s.setUi);
  if (!row) return null;
  const p = row.process;
  const v = row.psxview;
  const fields: [string, string | null, boolean][] = [
    ['PID', v.pid === null ? null : String(v.pid), true],
    ['PPID', p?.ppid === null || p?.ppid === undefined ? null : String(p.ppid), true],
    ['Name', v.name, false],
    ['EPROCESS', v.offset, true],
    ['Physical', p?.physicalOffset ?? null, true],
    ['DirBase', p?.dtb ?? null, true],
    ['User DirBase', p?.userDtb ?? null, true],
    ['Created', p?.createTime ?? null, true],
    ['Exited', v.exitTime, true],
    ['Threads', p?.threads === null || p?.threads === undefined ? null : String(p.threads), true],
    ['Session', p?.sessionId === null || p?.sessionId === undefined ? null : String(p.sessionId), true],
    ['Image path', p?.imagePath ?? null, false],
    ['Command line', p?.commandLine ?? null, false],
  ];
  return (
    <aside className="details" aria-label="Process details">
      <div className="details-head">
        <h2><span className={`status-word status-${row.status}`}>{row.status}</span> {v.name ?? 'unnamed'} <span className="mono muted">{v.pid ?? ''}</span></h2>
        <button type="button" className="close" aria-label="Close details" onClick={() => setUi({ selectedKey: null })}>×</button>
      </div>
      <p className="details-verdict">{v.verdict}</p>
      <dl className="details-fields">
        {fields.map(([name, value, mono]) => (
          <div key={name}><dt>{name}</dt><dd><CopyValue label={name} value={value} mono={mono} /></dd></div>
        ))}
      </dl>
      <h3>Sources</h3>
      <ul className="details-sources">
        {PSXVIEW_SOURCES.map((s) => (
          <li key={s} className={v[s] ? 'seen' : 'unseen'}>
            <span className="tick-word">{v[s] ? 'seen' : 'not seen'}</span> <strong>{s}</strong>{row.evidence[s] ? <>: <span className="evidence">{row.evidence[s]}</span></> : null}
          </li>
        ))}
      </ul>
      {p && (p.missing.length > 0 || p.warnings.length > 0) && (
        <>
          <h3>Unreadable</h3>
          <ul className="details-warnings">
            {p.missing.map((m) => <li key={`m-${m}`}>{m} could not be read</li>)}
            {p.warnings.map((w) => <li key={`w-${w}`}>{w}</li>)}
          </ul>
        </>
      )}
    </aside>
  );
}
