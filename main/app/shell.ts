/**
 * The Electron main process, wired: one instance, the app:// renderer origin with its CSP, permissions
 * denied, one hardened window, the engine host (a utility process running the contract service) and
 * the IPC handlers that forward to it. Closing the window cancels every scan and closes every session
 * by disposing the host. Main itself runs no analysis, so its event loop stays free during a scan.
 */
import { app, BrowserWindow, dialog, ipcMain, protocol, session, utilityProcess } from 'electron';
import { EVENT_CHANNEL } from '../../common/contract.js';
import { INITIAL_IMAGE_FLAG, SIMULATED_PMEM_FLAG } from './electron-service-host.js';
import { EngineClient } from './engine-client.js';
import { registerIpc } from './ipc.js';
import { APP_INDEX_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, rendererProtocolHandler } from './renderer-protocol.js';
import { createMainWindow, denyPermissions, hardenContents } from './window.js';

export interface ShellPaths {
  /** The built renderer (dist/renderer). */
  readonly rendererRoot: string;
  /** The bundled preload (dist/preload/preload.cjs). */
  readonly preloadPath: string;
  /** The engine host module run in the utility process (dist/main/app/engine-host.js). */
  readonly engineHostModule: string;
  /** An image named on the command line, for the renderer to open at start. */
  readonly initialImage?: string | null;
}

export interface Shell {
  readonly window: BrowserWindow;
  readonly engine: EngineClient;
  /** Resolves when the window has closed and the engine host is gone. */
  readonly closed: Promise<void>;
}

/** Must run before `app` is ready: app:// becomes a standard, secure origin. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);
}

export function startEngine(engineHostModule: string, initialImage: string | null = null): EngineClient {
  const args = initialImage ? [INITIAL_IMAGE_FLAG, initialImage] : [];
  // MEMSCOPE_SIMULATED_PMEM (the simulated WinPmem device) only in development: a packaged build ignores it.
  const sim = app.isPackaged ? undefined : process.env['MEMSCOPE_SIMULATED_PMEM'];
  const always = sim ? [SIMULATED_PMEM_FLAG, sim] : [];
  // A restarted host (after a crash) starts empty: the image named at launch was opened by the first.
  return new EngineClient((restart) => utilityProcess.fork(engineHostModule, [...(restart === 0 ? args : []), ...always], { serviceName: 'MemScope engine', stdio: 'inherit' }));
}

/** Start the app; null when another instance already runs (it gets focused instead). */
export async function startShell(paths: ShellPaths): Promise<Shell | null> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return null;
  }
  await app.whenReady();
  denyPermissions(session.defaultSession);
  protocol.handle(APP_SCHEME, rendererProtocolHandler(paths.rendererRoot));
  const engine = startEngine(paths.engineHostModule, paths.initialImage ?? null);
  const window = createMainWindow(paths.preloadPath);
  // any web contents created later (devtools, a frame's guest) gets the same no-navigation rules
  app.on('web-contents-created', (_event, contents) => hardenContents(contents));
  const unregister = registerIpc({ ipcMain, dialog, window, engine });
  const stopEvents = engine.onEvent((event) => {
    if (!window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, event);
  });

  app.on('second-instance', () => {
    if (window.isDestroyed()) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  const closed = new Promise<void>((resolve) => {
    window.on('closed', () => {
      stopEvents();
      unregister();
      void engine.dispose().finally(resolve);
    });
  });
  // Quit only once the host has cancelled its scans and closed its sessions.
  app.on('window-all-closed', () => void closed.then(() => app.quit()));

  await window.loadURL(APP_INDEX_URL);
  return { window, engine, closed };
}
