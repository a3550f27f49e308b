/**
 * Test support: the slice of the `electron` module the shell uses, as recording fakes, for
 * `vi.mock('electron', …)`. No Electron binary exists here; these fakes let the real shell code run
 * and let tests read back what it asked of Electron (window options, handlers, dialogs).
 */
import { EventEmitter } from 'node:events';
import { vi } from 'vitest';

type Listener = (...args: any[]) => unknown;

export class FakeWebContents extends EventEmitter {
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  readonly mainFrame = { url: 'app://memscope/index.html', parent: null };
  readonly sent: { channel: string; payload: unknown }[] = [];
  setWindowOpenHandler(h: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = h;
  }
  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static readonly created: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  destroyed = false;
  loadedUrl: string | null = null;
  constructor(readonly options: Record<string, any>) {
    super();
    FakeBrowserWindow.created.push(this);
  }
  isDestroyed(): boolean { return this.destroyed; }
  isMinimized(): boolean { return false; }
  restore(): void {}
  focus(): void {}
  show(): void {}
  async loadURL(url: string): Promise<void> { this.loadedUrl = url; }
  /** What Electron does when the user closes the window. */
  close(): void {
    this.destroyed = true;
    this.emit('closed');
  }
}

const defaultFork = (_modulePath: string, _args?: string[], _options?: object): unknown => {
  throw new Error('test did not set utilityProcess.fork');
};

function makeElectron() {
  const ipcHandlers = new Map<string, Listener>();
  const protocolHandlers = new Map<string, (request: Request) => Promise<Response> | Response>();
  const app = Object.assign(new EventEmitter(), {
    requestSingleInstanceLock: vi.fn(() => true),
    whenReady: vi.fn(async () => {}),
    quit: vi.fn(),
    getAppPath: vi.fn(() => process.cwd()),
  });
  return {
    app,
    BrowserWindow: FakeBrowserWindow,
    ipcMain: {
      handlers: ipcHandlers,
      handle: vi.fn((channel: string, h: Listener) => {
        if (ipcHandlers.has(channel)) throw new Error(`second handler for ${channel}`);
        ipcHandlers.set(channel, h);
      }),
      removeHandler: vi.fn((channel: string) => ipcHandlers.delete(channel)),
    },
    protocol: {
      handlers: protocolHandlers,
      registerSchemesAsPrivileged: vi.fn(),
      handle: vi.fn((scheme: string, h: (request: Request) => Promise<Response>) => protocolHandlers.set(scheme, h)),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: vi.fn(),
        setPermissionCheckHandler: vi.fn(),
      },
    },
    dialog: {
      showOpenDialog: vi.fn(async (_window?: unknown, _options?: Record<string, unknown>): Promise<{ canceled: boolean; filePaths: string[] }> => ({ canceled: true, filePaths: [] })),
      showSaveDialog: vi.fn(async (_window?: unknown, _options?: Record<string, unknown>): Promise<{ canceled: boolean; filePath: string }> => ({ canceled: true, filePath: '' })),
    },
    utilityProcess: { fork: vi.fn(defaultFork) },
  };
}

export type FakeElectron = ReturnType<typeof makeElectron>;

/** The module object vi.mock returns (one per test file); `resetFakeElectron()` clears what a test left. */
export const electron: FakeElectron = makeElectron();

export function resetFakeElectron(): void {
  electron.ipcMain.handlers.clear();
  electron.protocol.handlers.clear();
  electron.app.removeAllListeners();
  for (const f of [electron.app.requestSingleInstanceLock, electron.app.whenReady, electron.app.quit, electron.ipcMain.handle,
    electron.ipcMain.removeHandler, electron.protocol.registerSchemesAsPrivileged, electron.protocol.handle,
    electron.session.defaultSession.setPermissionRequestHandler, electron.session.defaultSession.setPermissionCheckHandler]) f.mockClear();
  electron.app.requestSingleInstanceLock.mockImplementation(() => true);
  electron.dialog.showOpenDialog.mockReset().mockImplementation(async () => ({ canceled: true, filePaths: [] }));
  electron.dialog.showSaveDialog.mockReset().mockImplementation(async () => ({ canceled: true, filePath: '' }));
  electron.utilityProcess.fork.mockReset().mockImplementation(defaultFork);
  FakeBrowserWindow.created.length = 0;
}
