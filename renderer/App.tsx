/**
 * One window, four regions: session bar, toolbar, main view (source picker or processes, with details),
 * status line. Keyboard: Ctrl+O open, Ctrl+F filter, Ctrl+E export CSV, Esc cancels an open or a scan
 * (or closes the details).
 */
import { useEffect, useRef } from 'react';
import { ErrorPanel } from './components/ErrorPanel.js';
import { ScanStatus } from './components/ScanStatus.js';
import { SessionBar } from './components/SessionBar.js';
import { Toolbar, useExport } from './components/Toolbar.js';
import { ProcessesScreen } from './screens/ProcessesScreen.js';
import { LivePanel } from './screens/live/LivePanel.js';
import { SourcePicker } from './screens/SourcePicker.js';
import { ScreenTabs } from './screens/ScreenTabs.js';
import { TimelineScreen } from './screens/timeline/TimelineScreen.js';
import { ExportEvidenceButton } from './screens/timeline/ExportEvidenceButton.js';
import { DtbScreen } from './screens/dtb/DtbScreen.js';
import { HexScreen } from './screens/hex/HexScreen.js';
import { useViews } from './store/views-context.js';
import { useProcessTable } from './screens/processes/use-process-table.js';
import { useApp, useAppStore } from './store/context.js';

export function App() {
  const model = useProcessTable();
  const session = useApp((s) => s.session);
  const store = useAppStore();
  const pathRef = useRef<HTMLInputElement>(null);
  const filterRef = useRef<HTMLInputElement>(null);
  const doExport = useExport(model.shownKeys);
  const screen = useViews((s) => s.screen);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const s = store.getState();
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key.toLowerCase() === 'o') {
        e.preventDefault();
        if (s.capabilities?.nativeDialogs) void s.pickAndOpen();
        else { pathRef.current?.focus(); pathRef.current?.select(); }
      } else if (mod && e.key.toLowerCase() === 'f') {
        if (!s.session) return;
        e.preventDefault();
        filterRef.current?.focus();
        filterRef.current?.select();
      } else if (mod && e.key.toLowerCase() === 'e') {
        if (!s.session) return;
        e.preventDefault();
        void doExport('csv');
      } else if (e.key === 'Escape') {
        if (s.openStatus) s.cancelOpen();
        else if (s.run?.state === 'running') void s.cancelScan();
        else if (s.ui.selectedKey !== null) s.setUi({ selectedKey: null });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  return (
    <div className="app">
      <SessionBar />
      <Toolbar refs={{ pathRef, filterRef }} table={model.table} shown={model.rows.length} shownKeys={model.shownKeys} />
      <main className="main-view">
        <ErrorPanel />
        {session && <div className="view-tabs"><ScreenTabs /><ExportEvidenceButton /></div>}
        {!session ? <SourcePicker /> : screen === 'dtb' ? <DtbScreen /> : screen === 'hex' ? <HexScreen /> : screen === 'timeline' ? <TimelineScreen /> : <ProcessesScreen model={model} />}
      </main>
      <ScanStatus />
      <LivePanel />
    </div>
  );
}
