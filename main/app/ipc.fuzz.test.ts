/**
 * Door 2 of the contract fuzz: Electron main's `ipcMain.handle` handlers (main/app/ipc.ts) over the
 * mocked electron, forwarding to the real contract service with a session open on a sample image.
 * The same cases as the service door (main/testing/contract-fuzz.ts) get typed answers only, and an
 * export lands only where the save dialog said; and every channel refuses a sender that is not the
 * app window's top frame on app:// (a subframe, another webContents, a foreign, file: or look-alike
 * origin, no frame, a closed window) before anything reaches the engine or a dialog.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { channelOf, METHODS, type Capabilities, type Envelope } from '../../common/contract.js';
import { createContractService } from '../service/service.js';
import type { ContractService } from '../service/types.js';
import {
  allCases, changedFiles, completeTables, contextOf, listFiles, makeSandbox, MIN_CASES_PER_METHOD, newStats, PEAK_RSS_BOUND, runCases, schemaCases, summary, validArgs,
  type FuzzContext, type Sandbox,
} from '../testing/contract-fuzz.js';
import { FakeBrowserWindow, FakeWebContents } from './testing/fake-electron.js';
import { registerIpc } from './ipc.js';

type Handler = (event: object, args: unknown) => Promise<Envelope<unknown>>;
const handlers = new Map<string, Handler>();
const caps: Capabilities = { host: 'electron', nativeDialogs: true, live: { available: false, reason: 'not Windows' }, initialImage: null, sampleImage: null };
let box: Sandbox;
let service: ContractService;
let ctx: FuzzContext;
let win: FakeBrowserWindow;
let chosen: string;
let engineCalls = 0;
let dialogCalls = 0;
let unregister: () => void;

beforeAll(async () => {
  box = await makeSandbox('memscope-fuzz-ipc-');
  chosen = join(box.root, 'export', 'chosen.csv');
  service = createContractService({ capabilities: () => caps }, { session: { workers: 1, warmScan: false } });
  win = new FakeBrowserWindow({});
  unregister = registerIpc({
    ipcMain: { handle: (channel: string, h: Handler) => handlers.set(channel, h), removeHandler: (channel: string) => handlers.delete(channel) } as never,
    dialog: {
      showOpenDialog: async () => { dialogCalls++; return { canceled: true, filePaths: [] }; },
      showSaveDialog: async () => { dialogCalls++; return { canceled: false, filePath: chosen }; },
    } as never,
    window: win as never,
    engine: { request: (method, args) => { engineCalls++; return service.handle(method, args); } },
  });
  ctx = contextOf(box, await invoke('openSession', { path: box.imagePath }, trusted()));
  await completeTables(service, ctx.sessionId);
}, 60_000);
afterAll(async () => {
  unregister?.();
  await service?.dispose();
  box?.remove();
});

const trusted = () => ({ sender: win.webContents, senderFrame: win.webContents.mainFrame });
function invoke(method: string, args: unknown, event: object): Promise<Envelope<unknown>> {
  const h = handlers.get(channelOf(method as never));
  if (!h) throw new Error(`no handler for ${method}`);
  return h(event, args);
}

it('every channel, every fuzz family, from the app window: typed answers only, exports only where the dialog said', async () => {
  const stats = newStats('ipc');
  const before = listFiles(box.root);
  const cleanup = async (answer: unknown) => {
    const v = (answer as { value?: { sessionId?: unknown } }).value;
    if (typeof v?.sessionId === 'string' && v.sessionId !== ctx.sessionId) await invoke('closeSession', { sessionId: v.sessionId }, trusted());
  };
  const cases = [...allCases(ctx)].sort((a, b) => Number(/^(close|cancel)/.test(a.method)) - Number(/^(close|cancel)/.test(b.method)));
  await runCases(stats, cases, (c) => invoke(c.method, c.args, trusted()), { cleanup, fifo: ctx.fifo });
  console.log(summary(stats));
  for (const m of METHODS) expect(stats.perMethod.get(m)?.cases ?? 0, m).toBeGreaterThanOrEqual(MIN_CASES_PER_METHOD);
  expect(stats.problems).toEqual([]);
  expect(stats.hangs + stats.crashes).toBe(0);
  expect(stats.peakRss).toBeLessThan(PEAK_RSS_BOUND);
  // whatever the arguments, the only file written is the one the save dialog chose
  expect(changedFiles(before, listFiles(box.root)).filter((p) => p !== chosen)).toEqual([]);
}, 240_000);

/** Senders that are not the app window's top frame showing app://memscope. */
const UNTRUSTED: Record<string, () => object> = {
  'a subframe (same origin)': () => ({ sender: win.webContents, senderFrame: { url: 'app://memscope/index.html', parent: win.webContents.mainFrame } }),
  'another webContents': () => ({ sender: new FakeWebContents(), senderFrame: { url: 'app://memscope/index.html', parent: null } }),
  'a foreign origin': () => ({ sender: win.webContents, senderFrame: { url: 'https://evil.example/index.html', parent: null } }),
  'a file: URL': () => ({ sender: win.webContents, senderFrame: { url: 'file:///etc/passwd', parent: null } }),
  'a look-alike host': () => ({ sender: win.webContents, senderFrame: { url: 'app://memscope.evil.example/index.html', parent: null } }),
  'another app host': () => ({ sender: win.webContents, senderFrame: { url: 'app://evil/index.html', parent: null } }),
  'devtools': () => ({ sender: win.webContents, senderFrame: { url: 'devtools://devtools/bundled/inspector.html', parent: null } }),
  'no frame (navigated away)': () => ({ sender: win.webContents, senderFrame: null }),
  'an unparsable URL': () => ({ sender: win.webContents, senderFrame: { url: 'app//memscope', parent: null } }),
};

it('every channel refuses every case from a sender that is not the app window, before the engine or a dialog', async () => {
  const stats = newStats('ipc-untrusted');
  const calls = { engine: engineCalls, dialog: dialogCalls };
  const cases = METHODS.flatMap((m) => [
    { method: m, family: 'whole-args' as const, label: 'valid arguments', args: validArgs(m, ctx) },
    ...schemaCases(m, ctx).filter((c) => c.family !== 'over-cap' && c.family !== 'huge-array'),
  ]);
  const wrong: string[] = [];
  for (const [who, event] of Object.entries(UNTRUSTED)) {
    await runCases(stats, cases, async (c) => {
      const answer = await invoke(c.method, c.args, event());
      if (answer.ok || !/refused: not sent by the MemScope window/.test(answer.error.message)) wrong.push(`${who}: ${c.method} ${c.label}`);
      return answer;
    });
  }
  // a closed window trusts nobody, its own frame included
  win.destroyed = true;
  await runCases(stats, METHODS.map((m) => ({ method: m, family: 'whole-args' as const, label: 'valid arguments, window closed', args: validArgs(m, ctx) })), async (c) => {
    const answer = await invoke(c.method, c.args, trusted());
    if (answer.ok) wrong.push(`closed window: ${c.method}`);
    return answer;
  });
  win.destroyed = false;
  console.log(`${summary(stats)}\n  ipc-untrusted senders: ${Object.keys(UNTRUSTED).join('; ')}; a closed window`);
  expect(wrong).toEqual([]);
  expect(stats.problems).toEqual([]);
  expect({ engine: engineCalls, dialog: dialogCalls }).toEqual(calls);
  // the session is still there: nothing an untrusted sender sent closed it
  expect(await service.handle('exportTable', { sessionId: ctx.sessionId, table: 'dtb', format: 'csv', keys: null })).toMatchObject({ ok: true });
}, 120_000);
