/**
 * The selected process, what a responder pastes into a report first: identity with the parent's
 * name, the kernel's own image path (SeAuditProcessCreationInfo, which survives a paged-out PEB or
 * an exited process), current directory, WoW64; for every absent value a plain reason instead of a
 * blank; WinDbg's forms (`dt nt!_EPROCESS 0x…`, `!process 0x… 1`) to copy; what every source saw of
 * it; and the way into its hex view (Enter, double-click, or the button).
 */
import { PSXVIEW_SOURCES, type ImageTime, type ProcessTableRow } from '../../../common/contract.js';
import { againstCapture } from '../../components/capture-time.js';
import { CopyValue } from '../../components/CopyValue.js';
import { useApp } from '../../store/context.js';
import { useViews } from '../../store/views-context.js';

/** Why a value is absent, in words: the engine's own note when it gave one, else what the row's state implies. */
export function absentReason(row: ProcessTableRow, field: string): string {
  const p = row.process;
  if (!p) return 'not decoded: only the pool copy of this process was found';
  const why = p.whyAbsent[field];
  if (why) return why; // the engine's reason (no PEB, paged out, exited, outside the image, …)
  const note = p.warnings.find((w) => w.toLowerCase().includes(field.toLowerCase()));
  if (note) return note;
  if (field === 'exitTime' && !p.missing.includes('exitTime')) return 'still running: no exit time recorded';
  if (row.status === 'remnant') return 'remnant: its user memory is gone';
  const user = ['imagePath', 'commandLine', 'currentDirectory'].includes(field);
  if (user && p.exitTime) return 'exited: its PEB and user memory are gone';
  if (user && p.dtb === null) return 'no DirBase: its user memory cannot be translated';
  if (p.missing.includes(field)) return user ? 'paged out: the PEB or its parameters are not resident in this image' : 'unreadable: outside the image or not resident';
  return 'not recorded for this process';
}

function Value({ row, field, label, value, mono = true }: { row: ProcessTableRow; field: string; label: string; value: string | null; mono?: boolean }) {
  return value === null ? <span className="absent">{absentReason(row, field)}</span> : <CopyValue label={label} value={value} mono={mono} />;
}

/** A create / exit time: the value (copied as is), then how long before the capture, or why it cannot be true. */
function TimeValue({ label, iso, time }: { label: string; iso: string; time: ImageTime | null }) {
  const t = againstCapture(iso, time);
  return (
    <>
      <CopyValue label={label} value={iso} mono />
      {t?.relative && <span className="rel-time">{t.relative}</span>}
      {t?.implausible && <span className="implausible-time">implausible: {t.implausible}</span>}
    </>
  );
}

const TIME_FIELDS: ReadonlySet<string> = new Set(['createTime', 'exitTime']);

export function DetailsPanel() {
  const key = useApp((s) => s.ui.selectedKey);
  const row = useApp((s) => (key === null ? undefined : s.rows.get(key)));
  const parent = useApp((s) => {
    const ppid = key === null ? null : (s.rows.get(key)?.process?.ppid ?? null);
    if (ppid === null) return undefined;
    for (const r of s.rows.values()) if (r.psxview.pid === ppid && r.status !== 'remnant') return r.psxview.name ?? 'unnamed';
    return null;
  });
  const setUi = useApp((s) => s.setUi);
  const imageTime = useApp((s) => s.session?.time ?? null);
  const openProcess = useViews((s) => s.openProcess);
  if (!row) return null;
  const p = row.process;
  const v = row.psxview;
  const num = (n: number | null | undefined): string | null => (n === null || n === undefined ? null : String(n));
  const ppid = num(p?.ppid);
  const fields: [string, string, string | null, boolean][] = [
    ['PID', 'pid', num(v.pid), true],
    ['PPID', 'ppid', ppid === null ? null : `${ppid}${p?.parentName ? ` (${p.parentName})` : parent === undefined ? '' : parent === null ? ` (${p?.whyAbsent['parentName'] ?? 'parent not among the processes found: exited or hidden'})` : ` (${parent})`}`, true],
    ['Name', 'name', v.name, false],
    ['EPROCESS', 'offset', v.offset, true],
    ['Physical', 'physicalOffset', p?.physicalOffset ?? null, true],
    ['DirBase', 'dtb', p?.dtb ?? null, true],
    ['User DirBase', 'userDtb', p?.userDtb ?? null, true],
    ['Created', 'createTime', p?.createTime ?? null, true],
    ['Exited', 'exitTime', v.exitTime, true],
    ['Threads', 'threads', num(p?.threads), true],
    ['Session', 'sessionId', num(p?.sessionId), true],
    ['WoW64', 'wow64', p?.wow64 === null || p?.wow64 === undefined ? null : p.wow64 ? 'yes: a 32-bit process on 64-bit Windows' : 'no: native 64-bit', false],
    ['Kernel image path', 'kernelImagePath', p?.kernelImagePath ?? null, false],
    ['Image path', 'imagePath', p?.imagePath ?? null, false],
    ['Command line', 'commandLine', p?.commandLine ?? null, false],
    ['Current directory', 'currentDirectory', p?.currentDirectory ?? null, false],
  ];
  return (
    <aside className="details" aria-label="Process details">
      <div className="details-head">
        <h2><span className={`status-word status-${row.status}`}>{row.status}</span> {v.name ?? 'unnamed'} <span className="mono muted">{v.pid ?? ''}</span></h2>
        <button type="button" className="close" aria-label="Close details" onClick={() => setUi({ selectedKey: null })}>×</button>
      </div>
      <p className="details-verdict">{v.verdict}</p>
      <div className="details-actions">
        <button type="button" className="primary" onClick={() => openProcess(row)} disabled={v.offset === null && !p?.physicalOffset} title="Open its _EPROCESS in the hex view (Enter, double-click)">Hex view</button>
        {v.offset && <CopyValue label="WinDbg dt" value={`dt nt!_EPROCESS ${v.offset}`} />}
        {v.offset && <CopyValue label="WinDbg !process" value={`!process ${v.offset} 1`} />}
      </div>
      <dl className="details-fields">
        {fields.map(([name, field, value, mono]) => (
          <div key={name}><dt>{name}</dt><dd>{value !== null && TIME_FIELDS.has(field)
            ? <TimeValue label={name} iso={value} time={imageTime} />
            : <Value row={row} field={field} label={name} value={value} mono={mono} />}</dd></div>
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
            {p.missing.map((m) => <li key={`m-${m}`}>{m}: {absentReason(row, m)}</li>)}
            {p.warnings.map((w) => <li key={`w-${w}`}>{w}</li>)}
          </ul>
        </>
      )}
    </aside>
  );
}
