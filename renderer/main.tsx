/** Renderer entry: connect the transport, create the store, render the app, then ask the host what it offers. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { createAppStore } from './store/app-store.js';
import { StoreContext } from './store/context.js';
import { connect } from './transport/index.js';
import { createViewsStore } from './store/views-store.js';
import { ViewsContext } from './store/views-context.js';
import './styles.css';

const api = connect();
const store = createAppStore(api);
const views = { store: createViewsStore(api, store), api };
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoreContext.Provider value={store}>
      <ViewsContext.Provider value={views}>
        <App />
      </ViewsContext.Provider>
    </StoreContext.Provider>
  </StrictMode>,
);
void store.getState().init();
