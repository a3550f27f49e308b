/** The screens of an open image: Processes, DTB inspector, Hex view. Switching never rescans (results are kept per session). */
import { useViews } from '../store/views-context.js';
import type { Screen } from '../store/views-store.js';

const TABS: [Screen, string][] = [['processes', 'Processes'], ['dtb', 'DTB inspector'], ['hex', 'Hex view'], ['timeline', 'Timeline']];

export function ScreenTabs() {
  const screen = useViews((s) => s.screen);
  const setScreen = useViews((s) => s.setScreen);
  return (
    <div className="screen-tabs" role="tablist" aria-label="Screens">
      {TABS.map(([id, label]) => (
        <button key={id} type="button" role="tab" aria-selected={screen === id} className={screen === id ? 'active' : undefined} onClick={() => setScreen(id)}>{label}</button>
      ))}
    </div>
  );
}
