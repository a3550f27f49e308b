/**
 * The timeline's bench (bench.html?view=timeline): the real TimelineScreen over the bench's synthetic
 * rows. `paint()` mounts it and times mount → the first painted frame that shows bars; `zoomPan(n)` drives n keyboard
 * zoom / pan steps (+, −, ←, →) and returns the longest key → painted-frame time.
 */
import { createRoot } from 'react-dom/client';
import type { AppStore } from '../store/app-store.js';
import { StoreContext } from '../store/context.js';
import { ViewsContext } from '../store/views-context.js';
import { createViewsStore } from '../store/views-store.js';
import { TimelineScreen } from '../screens/timeline/TimelineScreen.js';

const nextPaint = (): Promise<number> => new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0)));

export interface TimelineBench {
  paint(): Promise<number>;
  zoomPan(steps: number): Promise<{ frames: number; maxFrameMs: number; p95FrameMs: number }>;
}

export function timelineBench(store: AppStore, host: HTMLElement): TimelineBench {
  return {
    async paint() {
      await nextPaint();
      const t0 = performance.now();
      const views = { store: createViewsStore(null, store), api: null };
      createRoot(host).render(
        <StoreContext.Provider value={store}><ViewsContext.Provider value={views}>
          <div className="app bench" style={{ gridTemplateRows: 'minmax(0, 1fr)' }}><main className="main-view"><TimelineScreen /></main></div>
        </ViewsContext.Provider></StoreContext.Provider>,
      );
      // until a frame shows bars (the virtualizer measures its scroll box after the first commit)
      for (let i = 0; i < 30; i++) {
        const t1 = await nextPaint();
        if (document.querySelector('.tl-body .tl-bar')) return t1 - t0;
      }
      throw new Error('the timeline painted no bar in 30 frames');
    },
    async zoomPan(steps) {
      const body = document.querySelector<HTMLElement>('.tl-body');
      if (!body) throw new Error('paint() first');
      body.focus();
      const keys = ['+', '+', 'ArrowRight', 'ArrowLeft', '-', '+', 'ArrowRight', '-'];
      const times: number[] = [];
      for (let i = 0; i < steps; i++) {
        const t0 = performance.now();
        body.dispatchEvent(new KeyboardEvent('keydown', { key: keys[i % keys.length]!, bubbles: true }));
        times.push((await nextPaint()) - t0);
      }
      const sorted = [...times].sort((a, b) => a - b);
      return { frames: times.length, maxFrameMs: sorted[sorted.length - 1] ?? 0, p95FrameMs: sorted[Math.floor(sorted.length * 0.95)] ?? 0 };
    },
  };
}
