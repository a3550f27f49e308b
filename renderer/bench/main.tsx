/**
 * The bench's page (dist/renderer/bench.html, measured by bench/renderer-rows.ts in headless Chromium):
 * the real store, table model and ProcessTable, fed 10,000 synthetic rows instead of an engine run.
 * `window.memscopeBench` times a sort (click → next frame painted) and a scripted scroll to the end.
 */
import { StrictMode } from 'react';
import type { SessionInfo } from '../../common/contract.js';
import { createRoot } from 'react-dom/client';
import { columns, metaOf } from '../components/columns.js';
import { ProcessTable } from '../screens/processes/ProcessTable.js';
import { useProcessTable } from '../screens/processes/use-process-table.js';
import { createAppStore } from '../store/app-store.js';
import { StoreContext } from '../store/context.js';
import { syntheticRows } from './synthetic-rows.js';
import { timelineBench, type TimelineBench } from './timeline-bench.js';
import '../styles.css';

declare global {
  interface Window {
    memscopeBench?: {
      readonly rows: number;
      sort(header: string): Promise<number>;
      scroll(pxPerFrame: number): Promise<{ frames: number; maxFrameMs: number; p95FrameMs: number; reachedEnd: boolean }>;
      /** Per monospace column, the longest text its cells show unclipped (ColumnMeta.fits; e2e/large-table checks it in real fonts). */
      fitLimits(): Record<string, number>;
      /** bench.html?view=timeline: the timeline's paint and zoom / pan (timeline-bench.tsx). */
      timeline?: TimelineBench;
    };
  }
}

const count = Number(new URLSearchParams(location.search).get('rows') ?? 10_000);
const store = createAppStore(null);
const rows = syntheticRows(count);
store.setState({ rows: new Map(rows.map((r) => [r.key, r])), order: rows.map((r) => r.key) });

function BenchApp() {
  const model = useProcessTable();
  return <div className="app bench"><main className="main-view"><ProcessTable model={model} /></main></div>;
}

const nextPaint = (): Promise<number> => new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0)));

window.memscopeBench = {
  rows: count,
  async sort(header) {
    const button = [...document.querySelectorAll<HTMLButtonElement>('.head-cell .sort-button')].find((b) => b.textContent?.replace(/[▲▼]/g, '').trim() === header);
    if (!button) throw new Error(`no column header "${header}"`);
    await nextPaint();
    const t0 = performance.now();
    button.click();
    const t1 = await nextPaint();
    return t1 - t0;
  },
  fitLimits() {
    const limits: Record<string, number> = {};
    for (const c of columns) {
      const m = metaOf({ columnDef: c });
      let n = 0;
      while (n < 64 && m.fits('0'.repeat(n + 1))) n++;
      if (m.mono && n > 0 && n < 64) limits[c.id!] = n;
    }
    return limits;
  },
  scroll(pxPerFrame) {
    const el = document.querySelector<HTMLElement>('.table-scroll')!;
    el.scrollTop = 0;
    return new Promise((resolve) => {
      const gaps: number[] = [];
      let last = -1;
      const step = (t: number): void => {
        if (last >= 0) gaps.push(t - last);
        last = t;
        const end = el.scrollTop + el.clientHeight >= el.scrollHeight - 1;
        if (end) {
          const sorted = [...gaps].sort((a, b) => a - b);
          resolve({ frames: gaps.length, maxFrameMs: sorted[sorted.length - 1] ?? 0, p95FrameMs: sorted[Math.floor(sorted.length * 0.95)] ?? 0, reachedEnd: true });
          return;
        }
        el.scrollTop += pxPerFrame;
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });
  },
};

if (new URLSearchParams(location.search).get('view') === 'timeline') {
  // the synthetic rows' times: created from 08:00 one a second, exits at 17:xx; boot before, capture after
  store.setState({ session: { time: { captureTime: '2023-01-12T18:00:00.000Z', captureSource: 'synthetic', bootTime: '2023-01-12T07:59:00.000Z', bootRule: 'synthetic', crossCheck: null } } as unknown as SessionInfo });
  window.memscopeBench.timeline = timelineBench(store, document.getElementById('root')!);
} else {
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <StoreContext.Provider value={store}><BenchApp /></StoreContext.Provider>
    </StrictMode>,
  );
}
