/** The session header: what was opened and what discovery found, every value copyable. */
import { useApp } from '../store/context.js';
import { CopyValue } from './CopyValue.js';
import { bytes } from './format.js';

const PROFILE_SOURCE: Record<string, string> = {
  bundled: 'bundled with MemScope',
  cache: 'from the local symbol cache',
  'symbol-server': 'downloaded from the symbol server',
  heuristic: 'heuristic (no symbols: offsets inferred from memory)',
};

function Field({ name, children, className }: { name: string; children: React.ReactNode; className?: string }) {
  return (
    <div className={`session-field${className ? ` ${className}` : ''}`}>
      <span className="field-name">{name}</span>
      {children}
    </div>
  );
}

export function SessionBar() {
  const session = useApp((s) => s.session);
  const opening = useApp((s) => s.opening);
  if (!session) {
    return (
      <header className="session-bar empty" aria-label="Session">
        <span className="app-name">MemScope</span>
        <span className="muted">{opening ? `Opening ${opening}…` : 'No image open'}</span>
      </header>
    );
  }
  const { source, kernel } = session;
  const pdb = kernel.pdb ? `${kernel.pdb.name} ${kernel.pdb.guid}${kernel.pdb.age.toString(16).toUpperCase()}` : null;
  return (
    <header className="session-bar" aria-label="Session">
      <span className="app-name">MemScope</span>
      <Field name="Source"><CopyValue label="source path" value={source.path} shown={source.fileName} mono={false} title={`${source.path} (click to copy the path)`} /></Field>
      <Field name="Format"><span className="value">{source.format}</span></Field>
      <Field name="Size"><span className="value mono" title={`${source.size} bytes of physical address space, ${source.runs} run(s)`}>{bytes(source.size)}</span></Field>
      <Field name="Build"><CopyValue label="build" value={kernel.build === null ? null : String(kernel.build)} /></Field>
      <Field name="Kernel base"><CopyValue label="kernel base" value={kernel.kernelBase} /></Field>
      <Field name="DTB">
        <CopyValue label="DTB" value={kernel.dtbRaw} title={`DirectoryTableBase as found ${kernel.dtbRaw} (page-aligned ${kernel.dtb}); click to copy`} />
        <span className="muted method">via {kernel.dtbMethod}</span>
      </Field>
      <Field name="Profile" className="profile">
        <CopyValue label="profile" value={pdb ?? kernel.profileLabel} mono={false} />
        <span className="muted method">{kernel.profileSource ? (PROFILE_SOURCE[kernel.profileSource] ?? kernel.profileSource) : 'source unknown'}</span>
      </Field>
      {session.time && (
        <Field name="Captured">
          <CopyValue label="capture time" value={session.time.captureTime} title={`${session.time.captureTime ?? 'unknown'} from ${session.time.captureSource}${session.time.crossCheck ? `; ${session.time.crossCheck.agrees ? 'agrees with' : 'DISAGREES with'} ${session.time.crossCheck.source} ${session.time.crossCheck.time}` : ''}; booted ${session.time.bootTime ?? 'unknown'} (${session.time.bootRule ?? 'no rule applied'})`} />
          {session.time.crossCheck && !session.time.crossCheck.agrees && <span className="status-word status-suspicious" title={`${session.time.crossCheck.source}: ${session.time.crossCheck.time}`}>time check failed</span>}
        </Field>
      )}
      {opening && <span className="muted">Opening {opening}…</span>}
    </header>
  );
}
