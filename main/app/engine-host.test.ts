/**
 * The real engine host in a real child process: the shell (mocked `electron`) forks
 * main/app/engine-host.ts through a `utilityProcess.fork` backed by `child_process.fork`, and the
 * window's IPC drives a whole session on a sample image — open, a psxview run streamed back to the
 * window as events, export through the save dialog — then closing the window ends the child.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EVENT_CHANNEL, type Envelope, type RunEvent, type SessionInfo } from '../../common/contract.js';
import { buildSample, type GroundTruth } from '../engine/sample/index.js';
import { ENGINE_HOST_MODULE } from './engine-host-path.js';
import { LIVE_UNSUPPORTED } from './electron-service-host.js';
import { forkNodeUtilityProcess, type NodeUtilityProcess } from './node-utility-process.js';
import { electron, FakeBrowserWindow, resetFakeElectron } from './testing/fake-electron.js';

vi.mock('electron', async () => (await import('./testing/fake-electron.js')).electron);

const { startShell } = await import('./shell.js');

const dir = mkdtempSync(join(tmpdir(), 'memscope-host-'));
const image = join(dir, 'sample.raw');
let truth: GroundTruth;

beforeAll(async () => {
  truth = await buildSample({ build: '19041', format: 'raw', out: image, sizeMiB: 64, seed: 3, processes: 6 });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function startRealHost(initialImage: string | null = null) {
  resetFakeElectron();
  const children: NodeUtilityProcess[] = [];
  electron.utilityProcess.fork.mockImplementation((modulePath: string, args?: string[]) => {
    const child = forkNodeUtilityProcess(modulePath, args);
    children.push(child);
    return child;
  });
  const shell = await startShell({ rendererRoot: dir, preloadPath: join(dir, 'preload.cjs'), engineHostModule: ENGINE_HOST_MODULE, initialImage });
  if (!shell) throw new Error('shell did not start');
  const win = FakeBrowserWindow.created[0]!;
  const trusted = { sender: win.webContents, senderFrame: win.webContents.mainFrame };
  const invoke = <T>(method: string, args: unknown) => (electron.ipcMain.handlers.get(`memscope:${method}`)!(trusted, args) as Promise<Envelope<T>>);
  const events = (): RunEvent[] => win.webContents.sent.filter((s) => s.channel === EVENT_CHANNEL).map((s) => s.payload as RunEvent);
  const doneOf = async (runId: string): Promise<Extract<RunEvent, { type: 'done' }>> => {
    for (;;) {
      const d = events().find((e): e is Extract<RunEvent, { type: 'done' }> => e.type === 'done' && e.runId === runId);
      if (d) return d;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  expect(children).toHaveLength(1);
  return { shell, win, invoke, events, doneOf, child: children[0]!, children };
}

describe('engine host in a child process', () => {
  it('runs a session on a real image and ends with the window', async () => {
    const { shell, win, invoke, events, doneOf, child } = await startRealHost(image);
    const pid = child.pid!;
    expect(pid).not.toBe(process.pid);
    expect(alive(pid)).toBe(true);

    expect(await invoke('capabilities', {})).toMatchObject({ ok: true, value: { host: 'electron', nativeDialogs: true, initialImage: image } });
    if (process.platform !== 'win32') {
      expect(await invoke('openLive', {})).toEqual({ ok: false, error: { code: 'unsupported', message: LIVE_UNSUPPORTED } });
    }
    const missing = await invoke('openSession', { path: join(dir, 'missing.raw') });
    expect(missing.ok).toBe(false);

    const opened = await invoke<SessionInfo>('openSession', { path: image });
    if (!opened.ok) throw new Error(opened.error.message);
    const info = opened.value;
    expect(info.source.path).toBe(image);
    expect(info.kernel.kernelBase).toBe(truth.kernelBase);
    expect(info.kernel.build).toBe(truth.buildNumber);

    const started = await invoke<{ runId: string }>('startRun', { sessionId: info.sessionId, request: { plugin: 'psxview' } });
    if (!started.ok) throw new Error(started.error.message);
    const done = await doneOf(started.value.runId);
    expect(done.outcome).toBe('completed');
    const rows = events().filter((e) => e.type === 'row' && e.runId === started.value.runId);
    expect(rows.length).toBeGreaterThan(0);
    const pids = new Set(rows.map((e) => (e.type === 'row' && e.plugin === 'psxview' ? e.row.psxview.pid : null)));
    for (const p of truth.processes.filter((t) => t.foundBy.psscan)) expect(pids, `pid ${p.pid}`).toContain(p.pid);
    expect(events().some((e) => e.type === 'progress')).toBe(true);

    const out = join(dir, 'psxview.csv');
    electron.dialog.showSaveDialog.mockImplementation(async () => ({ canceled: false, filePath: out }));
    expect(await invoke('exportTable', { sessionId: info.sessionId, table: 'psxview', format: 'csv', keys: null })).toEqual({ ok: true, value: { kind: 'saved', path: out } });
    const csv = readFileSync(out, 'utf8');
    expect(csv.split(/\r?\n/).filter(Boolean).length).toBe(done.rows + 1); // header + one line per row
    electron.dialog.showSaveDialog.mockImplementation(async () => ({ canceled: false, filePath: image }));
    expect(await invoke('exportTable', { sessionId: info.sessionId, table: 'psxview', format: 'json', keys: null })).toMatchObject({ ok: false, error: { code: 'io' } });

    win.close();
    await shell.closed;
    expect(shell.engine.lastExitCode).toBe(0); // it exited after closing its sessions, not killed
    expect(alive(pid)).toBe(false);
    expect(existsSync(image)).toBe(true);
  }, 120_000);

  it('closing the window mid-scan cancels it and ends the host', async () => {
    const { shell, win, invoke, events, child } = await startRealHost();
    const fromHost: RunEvent[] = [];
    shell.engine.onEvent((e) => fromHost.push(e)); // what the host sent, forwarded or not
    const opened = await invoke<SessionInfo>('openSession', { path: image });
    if (!opened.ok) throw new Error(opened.error.message);
    const started = await invoke<{ runId: string }>('startRun', { sessionId: opened.value.sessionId, request: { plugin: 'psscan' } });
    expect(started.ok).toBe(true);
    win.close();
    const atClose = events().length;
    await shell.closed;
    expect(shell.engine.lastExitCode).toBe(0); // disposed (scan cancelled, session closed), not killed
    expect(alive(child.pid!)).toBe(false);
    expect(events().length).toBe(atClose); // nothing reaches the closed window
    // the close cancelled the run, and it says so rather than finishing as if complete
    const runId = started.ok ? started.value.runId : '';
    expect(fromHost.filter((e) => e.type === 'done' && e.runId === runId)).toEqual([expect.objectContaining({ outcome: 'cancelled' })]);
  }, 120_000);

  it('a host killed mid-scan: the run ends failed and says so, and a fresh host opens the image again', async () => {
    const { shell, win, invoke, doneOf, children } = await startRealHost();
    const opened = await invoke<SessionInfo>('openSession', { path: image });
    if (!opened.ok) throw new Error(opened.error.message);
    const started = await invoke<{ runId: string }>('startRun', { sessionId: opened.value.sessionId, request: { plugin: 'psscan' } });
    if (!started.ok) throw new Error(started.error.message);
    const first = children[0]!;
    process.kill(first.pid!, 'SIGKILL'); // a crash, not a close: nothing in the host gets to say goodbye

    const failed = await doneOf(started.value.runId);
    expect(failed.outcome).toBe('failed');
    expect(failed.error).toMatch(/^the analysis engine stopped unexpectedly \(exit code \d+\) during this run, after \d+ rows; it was restarted: open the image again$/);
    while (children.length < 2) await new Promise((r) => setTimeout(r, 20));
    expect(alive(first.pid!)).toBe(false);
    expect(shell.engine.restarts).toBe(1);
    expect(existsSync(image)).toBe(true);

    // The old session died with its host; the image opens again in the new one and scans to the end.
    expect(await invoke('startRun', { sessionId: opened.value.sessionId, request: { plugin: 'psxview' } })).toMatchObject({ ok: false });
    const again = await invoke<SessionInfo>('openSession', { path: image });
    if (!again.ok) throw new Error(again.error.message);
    expect(again.value.kernel.kernelBase).toBe(truth.kernelBase);
    const rerun = await invoke<{ runId: string }>('startRun', { sessionId: again.value.sessionId, request: { plugin: 'psxview' } });
    if (!rerun.ok) throw new Error(rerun.error.message);
    expect((await doneOf(rerun.value.runId)).outcome).toBe('completed');

    win.close();
    await shell.closed;
    expect(shell.engine.lastExitCode).toBe(0); // the new host was disposed, not killed
    expect(alive(children[1]!.pid!)).toBe(false);
    expect(children).toHaveLength(2);
  }, 120_000);
});
