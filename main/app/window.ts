/**
 * The one MemScope window and the hardening every web contents gets: the renderer is isolated
 * (contextIsolation, sandbox, no Node), web security on, and it can neither navigate away, open
 * windows, attach webviews, nor get any permission (camera, notifications, clipboard …): it has no
 * use for any of them, so every request and check is denied.
 */
import { BrowserWindow, type Session, type WebContents } from 'electron';

/** No navigation, no new windows, no webviews: the renderer is one page on our origin. */
export function hardenContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

export function denyPermissions(ses: Session): void {
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

export function createMainWindow(preloadPath: string): BrowserWindow {
  // The options are written at the constructor call, where static checkers (electronegativity, in
  // main/app/electronegativity.test.ts) can see them.
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 800,
    minHeight: 500,
    title: 'MemScope',
    show: false,
    backgroundColor: '#ffffff',
    webPreferences: {
      preload: preloadPath, // eng-disable PRELOAD_JS_CHECK (why: main/app/electronegativity-justified.txt)
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // Middle-click (auxclick) would open links in new windows; they are denied, and the event is off too.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  hardenContents(win.webContents);
  win.once('ready-to-show', () => win.show());
  return win;
}
