/** Renderer entry: connect the transport, create the store, render the app, then ask the host what it offers. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { createAppStore } from './store/app-store.js';
import { StoreContext } from './store/context.js';
import { connect } from './transport/index.js';
import './styles.css';

const store = createAppStore(connect());
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoreContext.Provider value={store}>
      <App />
    </StoreContext.Provider>
  </StrictMode>,
);
void store.getState().init();
