/** The views store (views-store.ts) handed down by React context, read with selectors. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { ViewsActions, ViewsState, ViewsStore } from './views-store.js';
import type { MemScopeApi } from '../../common/contract.js';

export const ViewsContext = createContext<{ store: ViewsStore; api: MemScopeApi | null } | null>(null);

export function useViews<T>(selector: (s: ViewsState & ViewsActions) => T): T {
  const v = useContext(ViewsContext);
  if (!v) throw new Error('useViews outside <ViewsContext.Provider>');
  return useStore(v.store, selector);
}

export function useViewsStore(): ViewsStore {
  const v = useContext(ViewsContext);
  if (!v) throw new Error('useViewsStore outside <ViewsContext.Provider>');
  return v.store;
}

/** The contract API, for views that ask the engine directly for bytes (the hex view's page reads). */
export function useApi(): MemScopeApi | null {
  const v = useContext(ViewsContext);
  if (!v) throw new Error('useApi outside <ViewsContext.Provider>');
  return v.api;
}
