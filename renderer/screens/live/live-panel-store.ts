/** Whether the Live memory panel is shown: its own tiny store, so the app store's shape is unchanged. */
import { create } from 'zustand';

interface LivePanelState {
  readonly open: boolean;
  show(): void;
  hide(): void;
}

export const useLivePanel = create<LivePanelState>((set) => ({
  open: false,
  show: () => set({ open: true }),
  hide: () => set({ open: false }),
}));
