/**
 * The Electron shell against a mocked `electron` module: what it asks of Electron (window flags,
 * protocol, permission and navigation handlers) and what its IPC handlers do with good and bad
 * callers. The engine host here is an in-memory stand-in answering like the contract service;
 * engine-host.test.ts runs the real host in a child process.
 */
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { channelOf, EVENT_CHANNEL, METHODS, type Envelope, type RunEvent, type SessionInfo } from '../../common/contract.js';
import type { HostToMain, MainToHost } from './engine-protocol.js';
import { electron, FakeBrowserWindow, resetFakeElectron } from './testing/fake-electron.js';

vi.mock('electron', async () => (await import('./testing/fake-electron.js')).electron);

const { registerAppScheme, startShell } = await import('./shell.js');

/** Answers requests like the contract service would; records what main forwarded. */
class FakeEngine extends EventEmitter {
  readonly requests: { method: string; args: unknown }[] = [];
  disposed = false;
  killed = false;
  answer: (method: string, args: unknown) => Envelope<unknown> = () => ({ ok: true, value: {} });
  postMessage(m: MainToHost): void {
    if ('control' in m) {
      this.disposed = true;
      setImmediate(() => { this.reply({ control: 'disposed' }); this.emit('exit', 0); });
      return;
    }
    this.requests.push({ method: m.method, args: m.args });
    const response = this.answer(m.method, m.args);
    setImmediate(() => this.reply({ id: m.id, response }));
  }
  reply(m: HostToMain): void { this.emit('message', m); }
  kill(): boolean { this.killed = true; this.emit('exit', 1); return true; }
}

const sessionInfo = (path: string): SessionInfo => ({
  sessionId: 's1',
  source: { path, fileName: 'img.raw', format: 'raw', size: 1 << 26, runs: 1, live: false },
  kernel: { kernelBase: '0xfffff80000000000', dtb: '0x1ad000', dtbRaw: '0x1ad000', dtbMethod: 'low-stub', build: 19041, pdb: null, profileLabel: 'x', profileSource: 'bundled' },
  timings: {},
  warnings: [],
});

let dir: string;
let engine: FakeEngine;

beforeEach(() => {
  resetFakeElectron();
  dir = mkdtempSync(join(tmpdir(), 'memscope-shell-'));
  mkdirSync(join(dir, 'renderer', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'renderer', 'index.html'), '<!doctype html><script type="module" src="./assets/app.js"></script>');
  writeFileSync(join(dir, 'renderer', 'assets', 'app.js'), 'export {};');
  writeFileSync(join(dir, 'secret.txt'), 'not for the renderer');
  symlinkSync(join(dir, 'secret.txt'), join(dir, 'renderer', 'assets', 'link.txt'));
  engine = new FakeEngine();
  electron.utilityProcess.fork.mockImplementation(() => engine);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function start() {
  const shell = await startShell({ rendererRoot: join(dir, 'renderer'), preloadPath: join(dir, 'preload.cjs'), engineHostModule: join(dir, 'host.js') });
  if (!shell) throw new Error('shell did not start');
  const win = FakeBrowserWindow.created[0]!;
  const trusted = { sender: win.webContents, senderFrame: win.webContents.mainFrame };
  const invoke = (method: string, args: unknown, event: object = trusted) => {
    const h = electron.ipcMain.handlers.get(`memscope:${method}`);
    if (!h) throw new Error(`no handler for ${method}`);
    return h(event, args) as Promise<Envelope<unknown>>;
  };
  const get = (path: string, method = 'GET') => electron.protocol.handlers.get('app')!(new Request(`app://memscope${path}`, { method }));
  return { shell, win, invoke, get };
}

describe('Electron shell', () => {
  it('registers app:// as a standard secure scheme before ready', () => {
    registerAppScheme();
    expect(electron.protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([
      { scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) },
    ]);
    const privileges = electron.protocol.registerSchemesAsPrivileged.mock.calls[0]![0][0].privileges;
    expect(privileges).not.toHaveProperty('bypassCSP');
  });

  it('one instance: a second one quits without a window', async () => {
    electron.app.requestSingleInstanceLock.mockImplementation(() => false);
    const shell = await startShell({ rendererRoot: dir, preloadPath: 'p', engineHostModule: 'h' });
    expect(shell).toBeNull();
    expect(electron.app.quit).toHaveBeenCalled();
    expect(FakeBrowserWindow.created).toHaveLength(0);
    expect(electron.utilityProcess.fork).not.toHaveBeenCalled();
  });

  it('opens one window, every security flag set, the bundled preload, the renderer from app://', async () => {
    const { win } = await start();
    expect(FakeBrowserWindow.created).toHaveLength(1);
    expect(win.options['webPreferences']).toMatchObject({
      contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true,
      allowRunningInsecureContent: false, webviewTag: false, preload: join(dir, 'preload.cjs'), disableBlinkFeatures: 'Auxclick',
    });
    expect(win.loadedUrl).toBe('app://memscope/index.html');
    expect(electron.utilityProcess.fork).toHaveBeenCalledWith(join(dir, 'host.js'), [], expect.any(Object));
  });

  it('serves the renderer with a strict CSP on every response', async () => {
    const { get } = await start();
    for (const path of ['/index.html', '/', '/assets/app.js', '/nope.js']) {
      const csp = (await get(path)).headers.get('content-security-policy');
      expect(csp, path).toBeTruthy();
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
    }
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await index.text()).toContain('./assets/app.js');
    const js = await get('/assets/app.js');
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses traversal, symlinks out, unknown paths, other hosts and methods', async () => {
    const { get } = await start();
    const handler = electron.protocol.handlers.get('app')!;
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/assets/link.txt', '/missing.html', '/assets', '/%00index.html', '/%E0%A4%A']) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(await r.text()).not.toContain('not for the renderer');
    }
    expect((await handler(new Request('app://elsewhere/index.html'))).status).toBe(404);
    expect((await get('/index.html', 'POST')).status).toBe(405);
  });

  it('denies navigation, redirects, webviews and new windows', async () => {
    const { win } = await start();
    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const event = { preventDefault: vi.fn() };
      expect(win.webContents.listenerCount(name), name).toBe(1);
      win.webContents.emit(name, event, 'https://example.com/');
      expect(event.preventDefault, name).toHaveBeenCalled();
    }
    expect(win.webContents.windowOpenHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    // any other web contents the app ever creates gets the same treatment
    const other = new (await import('./testing/fake-electron.js')).FakeWebContents();
    electron.app.emit('web-contents-created', {}, other);
    expect(other.windowOpenHandler?.({ url: 'app://memscope/index.html' })).toEqual({ action: 'deny' });
  });

  it('denies every permission request and check', async () => {
    await start();
    const request = electron.session.defaultSession.setPermissionRequestHandler.mock.calls[0]![0] as (wc: unknown, p: string, cb: (ok: boolean) => void) => void;
    const check = electron.session.defaultSession.setPermissionCheckHandler.mock.calls[0]![0] as (wc: unknown, p: string) => boolean;
    for (const p of ['media', 'notifications', 'clipboard-read', 'geolocation', 'openExternal']) {
      const cb = vi.fn();
      request({}, p, cb);
      expect(cb).toHaveBeenCalledWith(false);
      expect(check({}, p)).toBe(false);
    }
  });

  it('has one handler per contract method, on its channel, and nothing else', async () => {
    await start();
    expect([...electron.ipcMain.handlers.keys()].sort()).toEqual(METHODS.map(channelOf).sort());
  });

  it('refuses IPC from a foreign sender before anything else', async () => {
    const { win, invoke } = await start();
    const other = new FakeBrowserWindow({});
    const foreign = [
      { sender: other.webContents, senderFrame: other.webContents.mainFrame },
      { sender: win.webContents, senderFrame: { url: 'https://evil.example/', parent: null } }, // navigated elsewhere
      { sender: win.webContents, senderFrame: { url: 'app://memscope/index.html', parent: win.webContents.mainFrame } }, // a subframe
      { sender: win.webContents, senderFrame: null },
    ];
    for (const event of foreign) {
      const r = await invoke('openSession', { path: '/etc/passwd' }, event);
      expect(r).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringContaining('refused') } });
    }
    const r = await invoke('pickImage', {}, foreign[0]);
    expect(r.ok).toBe(false);
    expect(electron.dialog.showOpenDialog).not.toHaveBeenCalled();
    expect(engine.requests).toEqual([]);
  });

  it('a malformed argument gets invalid-request and never reaches the engine', async () => {
    const { invoke } = await start();
    for (const [method, args] of [['openSession', { path: 5 }], ['openSession', { path: '/x', extra: 1 }], ['cancelRun', {}], ['startRun', { sessionId: 's1', request: { plugin: 'rm -rf' } }], ['exportTable', null]] as const) {
      const r = await invoke(method, args);
      expect(r, method).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    }
    expect(engine.requests).toEqual([]);
  });

  it('forwards valid requests to the engine host and run events to the window', async () => {
    const { win, invoke } = await start();
    engine.answer = () => ({ ok: true, value: { runId: 'r1' } });
    expect(await invoke('startRun', { sessionId: 's1', request: { plugin: 'psxview' } })).toEqual({ ok: true, value: { runId: 'r1' } });
    expect(engine.requests).toEqual([{ method: 'startRun', args: { sessionId: 's1', request: { plugin: 'psxview' } } }]);
    const event: RunEvent = { type: 'progress', runId: 'r1', stage: 'scan', bytesDone: 1, bytesTotal: 2 };
    engine.reply({ event });
    expect(win.webContents.sent).toEqual([{ channel: EVENT_CHANNEL, payload: event }]);
  });

  it('pickImage is main\'s open dialog, not the engine\'s', async () => {
    const { invoke } = await start();
    electron.dialog.showOpenDialog.mockImplementation(async () => ({ canceled: false, filePaths: ['/cases/a.raw'] }));
    expect(await invoke('pickImage', {})).toEqual({ ok: true, value: { path: '/cases/a.raw' } });
    electron.dialog.showOpenDialog.mockImplementation(async () => ({ canceled: true, filePaths: [] }));
    expect(await invoke('pickImage', {})).toEqual({ ok: true, value: { path: null } });
    expect(engine.requests).toEqual([]);
  });

  it('pickFolder is main\'s folder dialog (choose or create); exportEvidence writes only into a folder it returned', async () => {
    const { invoke } = await start();
    engine.answer = () => ({ ok: true, value: { dir: '/cases/evidence-1', files: 14, complete: true, imageSha256: null, sha256From: 'x', warnings: [] } });
    // no folder chosen: the host's default folder (no out), forwarded as is
    expect((await invoke('exportEvidence', { sessionId: 's1' })).ok).toBe(true);
    // a folder the renderer made up is refused in main, never reaching the engine
    expect(await invoke('exportEvidence', { sessionId: 's1', out: '/etc/cron.d' })).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringContaining('not chosen in the folder dialog') } });
    expect(engine.requests).toEqual([{ method: 'exportEvidence', args: { sessionId: 's1' } }]);

    electron.dialog.showOpenDialog.mockImplementation(async () => ({ canceled: true, filePaths: [] }));
    expect(await invoke('pickFolder', {})).toEqual({ ok: true, value: { path: null } });
    electron.dialog.showOpenDialog.mockImplementation(async () => ({ canceled: false, filePaths: ['/cases/evidence-1'] }));
    expect(await invoke('pickFolder', {})).toEqual({ ok: true, value: { path: '/cases/evidence-1' } });
    const [, options] = electron.dialog.showOpenDialog.mock.calls.at(-1)!;
    expect(options?.['properties']).toEqual(expect.arrayContaining(['openDirectory', 'createDirectory']));
    expect(options?.['properties']).not.toContain('openFile');

    expect(await invoke('exportEvidence', { sessionId: 's1', out: '/cases/evidence-1' })).toMatchObject({ ok: true, value: { dir: '/cases/evidence-1' } });
    expect(engine.requests.at(-1)).toEqual({ method: 'exportEvidence', args: { sessionId: 's1', out: '/cases/evidence-1' } });
    expect(engine.requests.map((r) => r.method)).not.toContain('pickFolder'); // the dialog is main's, not the engine's
  });

  it('export: the download goes through the save dialog to disk; cancel writes nothing; the open image is refused', async () => {
    const { invoke } = await start();
    const image = join(dir, 'img.raw');
    writeFileSync(image, 'EVIDENCE');
    const text = '\ufeffOffset,PID,Name\r\n0xffff,4,System\r\n';
    engine.answer = (method) => method === 'openSession'
      ? { ok: true, value: sessionInfo(image) }
      : { ok: true, value: { kind: 'download', fileName: 'psxview.csv', mime: 'text/csv', text } };
    expect((await invoke('openSession', { path: image })).ok).toBe(true);
    const args = { sessionId: 's1', table: 'psxview', format: 'csv', keys: null };

    const out = join(dir, 'out.csv');
    electron.dialog.showSaveDialog.mockImplementation(async () => ({ canceled: false, filePath: out }));
    expect(await invoke('exportTable', args)).toEqual({ ok: true, value: { kind: 'saved', path: out } });
    expect(readFileSync(out, 'utf8')).toBe(text);
    expect(electron.dialog.showSaveDialog.mock.calls[0]![1]).toMatchObject({ defaultPath: 'psxview.csv', filters: [{ extensions: ['csv'] }] });

    electron.dialog.showSaveDialog.mockImplementation(async () => ({ canceled: true, filePath: '' }));
    expect(await invoke('exportTable', args)).toEqual({ ok: true, value: { kind: 'cancelled' } });

    const hardLink = join(dir, 'same-image.csv');
    linkSync(image, hardLink);
    for (const target of [image, join(dir, '.', 'img.raw'), hardLink]) {
      electron.dialog.showSaveDialog.mockImplementation(async () => ({ canceled: false, filePath: target }));
      const r = await invoke('exportTable', args);
      expect(r, target).toMatchObject({ ok: false, error: { code: 'io', message: expect.stringContaining('refusing') } });
    }
    expect(readFileSync(image, 'utf8')).toBe('EVIDENCE');

    // closed: that image is no longer protected by this session (the guard follows open sessions)
    engine.answer = () => ({ ok: true, value: {} });
    expect((await invoke('closeSession', { sessionId: 's1' })).ok).toBe(true);
  });

  it('an engine error passes through as its envelope (no dialog)', async () => {
    const { invoke } = await start();
    engine.answer = () => ({ ok: false, error: { code: 'not-found', message: 'no session s9' } });
    expect(await invoke('exportTable', { sessionId: 's9', table: 'psxview', format: 'json', keys: null })).toEqual({ ok: false, error: { code: 'not-found', message: 'no session s9' } });
    expect(electron.dialog.showSaveDialog).not.toHaveBeenCalled();
  });

  it('closing the window disposes the engine host and removes the IPC handlers', async () => {
    const { shell, win } = await start();
    expect(engine.disposed).toBe(false);
    win.close();
    await shell.closed;
    expect(engine.disposed).toBe(true);
    expect(engine.killed).toBe(false); // it exited on its own after cancelling and closing
    expect(shell.engine.running).toBe(false);
    expect(electron.ipcMain.handlers.size).toBe(0);
    // events after close go nowhere
    engine.reply({ event: { type: 'warning', runId: 'r', message: 'late' } });
    expect(win.webContents.sent).toEqual([]);
  });

  it('a host that dies answers pending requests with a typed error', async () => {
    const { invoke } = await start();
    engine.postMessage = (m: MainToHost) => { if (!('control' in m)) setImmediate(() => engine.emit('exit', 3)); };
    expect(await invoke('capabilities', {})).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringContaining('exit code 3') } });
    expect(await invoke('capabilities', {})).toMatchObject({ ok: false, error: { code: 'internal' } });
  });

  it('the Electron entry (package.json "main") registers the scheme first and starts the shell on the built files', async () => {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { main: string };
    expect(pkg.main).toBe('dist/main/app/main.js');
    expect(existsSync(join(process.cwd(), 'main/app/main.ts'))).toBe(true); // tsc: main/app/main.ts -> dist/main/app/main.js
    await import('./main.js');
    await vi.waitFor(() => expect(FakeBrowserWindow.created).toHaveLength(1));
    expect(electron.protocol.registerSchemesAsPrivileged).toHaveBeenCalledTimes(1);
    expect(electron.protocol.registerSchemesAsPrivileged.mock.invocationCallOrder[0]!).toBeLessThan(electron.app.whenReady.mock.invocationCallOrder[0]!);
    const root = electron.app.getAppPath();
    expect(FakeBrowserWindow.created[0]!.options['webPreferences'].preload).toBe(join(root, 'dist', 'preload', 'preload.cjs'));
    expect(electron.utilityProcess.fork.mock.calls[0]![0]).toBe((await import('./engine-host-path.js')).ENGINE_HOST_MODULE);
    expect(electron.protocol.handle).toHaveBeenCalledWith('app', expect.any(Function));
  });
});
