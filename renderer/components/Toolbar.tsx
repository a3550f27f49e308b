/**
 * Open image (Electron: the native dialog; bridge: the path field beside it), Live memory, the filter
 * (identity fields, or verdicts too), columns, tree by parent, and export of what is on screen. One line
 * at 1280 px; a filter or status filter in force says so beside the row count, with a way to clear it.
 */
import { forwardRef, useState } from 'react';
import type { Table } from '@tanstack/react-table';
import { useApp } from '../store/context.js';
import type { ProcessNode } from '../store/process-tree.js';
import { offerDownload } from '../transport/download.js';
import { ColumnChooser } from './ColumnChooser.js';

export interface ToolbarRefs {
  readonly pathRef: React.RefObject<HTMLInputElement | null>;
  readonly filterRef: React.RefObject<HTMLInputElement | null>;
}

export function useExport(shownKeys: () => string[] | null): (format: 'csv' | 'json') => Promise<void> {
  const exportTable = useApp((s) => s.exportTable);
  return async (format) => {
    const r = await exportTable(format, shownKeys());
    if (r?.kind === 'download') offerDownload(r);
  };
}

export function Toolbar({ refs, table, shown, shownKeys }: { refs: ToolbarRefs; table: Table<ProcessNode>; shown: number; shownKeys: () => string[] | null }) {
  const caps = useApp((s) => s.capabilities);
  const session = useApp((s) => s.session);
  const opening = useApp((s) => s.opening);
  const filter = useApp((s) => s.ui.filter);
  const tree = useApp((s) => s.ui.tree);
  const status = useApp((s) => s.ui.status);
  const searchVerdicts = useApp((s) => s.ui.searchVerdicts);
  const setUi = useApp((s) => s.setUi);
  const openImage = useApp((s) => s.openImage);
  const pickAndOpen = useApp((s) => s.pickAndOpen);
  const openLive = useApp((s) => s.openLive);
  const doExport = useExport(shownKeys);
  const [path, setPath] = useState('');
  const dialogs = caps?.nativeDialogs ?? false;
  // Every row the run produced (in tree mode the core model holds only the roots).
  const total = useApp((st) => st.order.length);

  const open = (): void => {
    if (dialogs) { void pickAndOpen(); return; }
    if (!path.trim()) { refs.pathRef.current?.focus(); }
    void openImage(path);
  };

  return (
    <div className="toolbar" role="toolbar" aria-label="Actions">
      <form className="open-form" onSubmit={(e) => { e.preventDefault(); open(); }}>
        {!dialogs && (
          <PathField ref={refs.pathRef} value={path} onChange={setPath} />
        )}
        <button type="submit" className="primary" disabled={opening !== null} title="Open image (Ctrl+O)">Open image</button>
      </form>
      <button type="button" onClick={() => void openLive()} title={caps?.live.available ? 'Analyse this machine’s memory (WinPmem)' : caps?.live.reason}>Live memory</button>
      <span className="toolbar-gap" />
      <input
        ref={refs.filterRef}
        type="search"
        className={`filter${filter.trim() ? ' active' : ''}`}
        aria-label="Filter processes"
        placeholder="Filter (Ctrl+F)"
        title={searchVerdicts ? 'Matches name, PID, PPID, addresses, DirBase and status, and verdicts, image paths and command lines' : 'Matches name, PID, PPID, EPROCESS address, physical address, DirBase and status word'}
        value={filter}
        onChange={(e) => setUi({ filter: e.target.value })}
        onKeyDown={(e) => { if (e.key === 'Escape' && filter) { e.stopPropagation(); setUi({ filter: '' }); } }}
        disabled={!session}
      />
      <label className="verdict-toggle" title="Also search the verdict text, image paths and command lines">
        <input type="checkbox" aria-label="Search verdicts too" checked={searchVerdicts} onChange={(e) => setUi({ searchVerdicts: e.target.checked })} disabled={!session} />
        verdicts too
      </label>
      <span className={`row-count mono${session && shown !== total ? ' filtered' : ''}`} aria-live="off">{session ? (shown === total ? `${total} rows` : `${shown} of ${total} rows`) : ''}</span>
      {session && (filter.trim() || status) && (
        <button
          type="button"
          className="clear-filter"
          onClick={() => setUi({ filter: '', status: null })}
          title="Show every row again"
          aria-label={`Clear filter${status ? ` (showing only ${status})` : ''}`}
        >{status ? `only ${status} ✕` : 'clear ✕'}</button>
      )}
      <label className="tree-toggle">
        <input type="checkbox" checked={tree} onChange={(e) => setUi({ tree: e.target.checked })} disabled={!session} />
        Tree by parent
      </label>
      <ColumnChooser table={table} />
      <button type="button" onClick={() => void doExport('csv')} disabled={!session} title="Export CSV (Ctrl+E): every row in the CLI's order, or the rows on screen in screen order when filtered or sorted">Export CSV</button>
      <button type="button" onClick={() => void doExport('json')} disabled={!session} title="Export JSON: every row in the CLI's order, or the rows on screen in screen order when filtered or sorted">Export JSON</button>
    </div>
  );
}

const PathField = forwardRef<HTMLInputElement, { value: string; onChange: (v: string) => void }>(function PathField({ value, onChange }, ref) {
  return (
    <input
      ref={ref}
      type="text"
      className="path-field mono"
      aria-label="Image path"
      placeholder="/path/to/memory.raw  (raw, ELF core, crash dump)"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      spellCheck={false}
      autoComplete="off"
    />
  );
});
